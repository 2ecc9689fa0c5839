"""Google Play reviews (androidpublisher v3 ``reviews.list``) in our terms.

``GET {api}/androidpublisher/v3/applications/{packageName}/reviews`` answers
``{"reviews": [...], "tokenPagination": {"nextPageToken"}}``, the most recently created
or modified review first, and only reviews with a text, created or modified within the
last week. A review is ``{reviewId, authorName, comments: [{userComment: {...}},
{developerComment: {text, lastModified}}]}``.

Mapping:
- one review is one message: the ``userComment`` text (a title written apart is joined
  to the body by a tab: it becomes the ``subject``), sent at its ``lastModified``;
- ``provider_message_id`` is ``{reviewId}@{lastModified.seconds}``: an edited review
  comes again with the same ``reviewId`` and a newer ``lastModified``, and is stored as
  a new message, while the same version read twice is the same message;
- Google gives no reviewer id: the sender is ``IdentityKind.EXTERNAL``
  ``google_play:{reviewId}`` (a review, and its edits, belong to one author), named by
  ``authorName``;
- ``metadata`` (strings): ``review_id``, ``rating`` (1 to 5), ``language``,
  ``app_version``, ``app_version_code``, ``android_version`` (SDK level), ``device``
  (codename), ``device_model``, ``device_manufacturer``, ``original_text`` (when Google
  translated it), and ``developer_reply`` / ``developer_reply_at`` when one is published;
- ``since`` (the newest ``lastModified`` an earlier poll saw, ISO 8601): older reviews
  are left out, and a page reaching one ends the list.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from opencx.core.enums import Channel, IdentityKind
from opencx.providers.base import InboundMessage, Sender, UnreadablePayload
from opencx.providers.rest import (
    ApiRequest,
    Json,
    Page,
    load_object,
    not_older_than,
    obj,
    objects,
    opt_int,
    opt_obj,
    opt_text,
    text,
    unix_datetime,
)

__all__ = ["API_BASE", "PAGE_SIZE", "PROVIDER", "parse_reviews", "reviews_request", "reviews_url"]

PROVIDER = "google_play"
API_BASE = "https://androidpublisher.googleapis.com"
PAGE_SIZE = 100
_MAX_ID = 255  # provider_message_id's column
_MAX_META = 2000


def reviews_url(api_base: str | None, package_name: str) -> str:
    base = (api_base or API_BASE).rstrip("/")
    return f"{base}/androidpublisher/v3/applications/{quote(package_name, safe='')}/reviews"


def reviews_request(
    *,
    package_name: str,
    access_token: str,
    page_token: str | None = None,
    api_base: str | None = None,
) -> ApiRequest:
    params = {"maxResults": str(PAGE_SIZE)}
    if page_token:
        params["token"] = page_token
    return ApiRequest(
        "GET",
        reviews_url(api_base, package_name),
        params=params,
        headers={"Authorization": f"Bearer {access_token}"},
    )


def parse_reviews(body: bytes, *, recipient: str, since: str | None) -> Page:
    """The reviews on one page that ``since`` has not seen, and where to go on."""
    page = load_object(body, "the reviews page")
    found = (_review(review, recipient) for review in objects(page, "reviews"))
    dated = not_older_than((i for i in found if i is not None and i.sent_at is not None), since)
    pagination = opt_obj(page, "tokenPagination") or {}
    next_token = None if dated.reached else opt_text(pagination, "nextPageToken") or None
    return Page(dated.items, next_token, dated.newest)


def _review(review: Json, recipient: str) -> InboundMessage | None:
    review_id = text(review, "reviewId")
    user, developer = _comments(objects(review, "comments"))
    if user is None:
        return None  # nothing a customer wrote
    seconds, nanos = _timestamp(user.get("lastModified"), "a review's lastModified")
    message_id = f"{review_id}@{seconds}"
    if len(message_id) > _MAX_ID:
        raise UnreadablePayload("a reviewId is too long")
    title, body = _title_and_body(opt_text(user, "text") or "")
    author = opt_text(review, "authorName") or ""
    return InboundMessage(
        channel=Channel.REVIEW,
        provider=PROVIDER,
        provider_message_id=message_id,
        sender=Sender(IdentityKind.EXTERNAL, f"{PROVIDER}:{review_id}", author.strip()[:200]),
        recipient=recipient,
        text=body,
        subject=title,
        sent_at=unix_datetime(seconds, "a review's lastModified")
        + timedelta(microseconds=nanos // 1000),
        metadata=_details(review_id, user, developer),
    )


def _comments(comments: list[Json]) -> tuple[Json | None, Json | None]:
    user = developer = None
    for comment in comments:
        user = user or opt_obj(comment, "userComment")
        developer = developer or opt_obj(comment, "developerComment")
    return user, developer


def _timestamp(value: Any, what: str) -> tuple[int, int]:
    """A protobuf Timestamp ``{seconds: "123", nanos: 45}`` as (seconds, nanos)."""
    stamp = obj(value, what)
    seconds = opt_int(stamp, "seconds")
    if seconds is None:
        raise UnreadablePayload(f"{what} has no seconds")
    nanos = opt_int(stamp, "nanos") or 0
    return seconds, min(max(nanos, 0), 999_999_999)


def _title_and_body(raw: str) -> tuple[str | None, str]:
    title, tab, body = raw.partition("\t")
    if not tab:
        return None, raw.strip()
    return (title.strip() or None), body.strip()


def _details(review_id: str, user: Json, developer: Json | None) -> dict[str, str]:
    device = opt_obj(user, "deviceMetadata") or {}
    found: dict[str, Any] = {
        "review_id": review_id,
        "rating": opt_int(user, "starRating"),
        "language": opt_text(user, "reviewerLanguage"),
        "app_version": opt_text(user, "appVersionName"),
        "app_version_code": opt_int(user, "appVersionCode"),
        "android_version": opt_int(user, "androidOsVersion"),
        "device": opt_text(user, "device"),
        "device_model": opt_text(device, "productName"),
        "device_manufacturer": opt_text(device, "manufacturer"),
        "original_text": opt_text(user, "originalText"),
    }
    if developer is not None:
        found["developer_reply"] = opt_text(developer, "text")
        if developer.get("lastModified") is not None:
            seconds, _ = _timestamp(developer["lastModified"], "a reply's lastModified")
            found["developer_reply_at"] = unix_datetime(seconds, "a reply's date").isoformat()
    return {key: str(value)[:_MAX_META] for key, value in found.items() if value not in (None, "")}
