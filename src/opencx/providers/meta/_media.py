"""Fetching the media a customer sent through Meta.

- WhatsApp Cloud API: a message names its file by media id. ``GET /{version}/{media-id}``
  with the access token as bearer answers ``{"url", "mime_type", "sha256",
  "file_size", "id", "messaging_product"}``; the ``url`` (short-lived) is then fetched
  with the same bearer token (``media_download_request``).
- Messenger and Instagram: ``payload.url`` is a CDN link fetched as it is, with no
  credential (``messenger_media_request``).
"""

from __future__ import annotations

from dataclasses import dataclass

from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import ApiRequest, load_object, opt_int, opt_text, text

__all__ = [
    "MediaLocation",
    "media_download_request",
    "media_lookup_request",
    "messenger_media_request",
    "read_media_lookup",
]


@dataclass(frozen=True, slots=True)
class MediaLocation:
    """Where Meta keeps a WhatsApp media file for the next few minutes."""

    url: str
    mime_type: str | None
    file_size: int | None


def media_lookup_request(
    media_id: str, *, graph_base: str, graph_version: str, access_token: str
) -> ApiRequest:
    """The Graph API call that exchanges a WhatsApp media id for its URL."""
    if not (media_id.isascii() and media_id.isdigit() and len(media_id) <= 64):
        raise UnreadablePayload(f"{media_id!r} is not a WhatsApp media id")
    return ApiRequest(
        "GET",
        f"{graph_base.rstrip('/')}/{graph_version}/{media_id}",
        headers=_bearer(access_token),
    )


def read_media_lookup(body: bytes) -> MediaLocation:
    """The media URL object Meta answered; ``UnreadablePayload`` for anything else."""
    found = load_object(body, "the media URL answer")
    return MediaLocation(
        url=text(found, "url"),
        mime_type=opt_text(found, "mime_type"),
        file_size=opt_int(found, "file_size"),
    )


def media_download_request(url: str, *, access_token: str) -> ApiRequest:
    """The file itself: Meta's media URLs need the access token too."""
    return ApiRequest("GET", url, headers=_bearer(access_token))


def messenger_media_request(url: str) -> ApiRequest:
    return ApiRequest("GET", url)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
