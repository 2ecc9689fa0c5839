"""Public links to the files of an answer, for the providers that download what we send
(Twilio's ``MediaUrl``, Meta's ``link`` and ``payload.url``).

Rules:
- a link names one attachment, signed with the server's secret key and a salt of its
  own (``itsdangerous``), so it can be neither forged nor turned into another file's;
- it lasts ``LINK_SECONDS``: providers fetch a file when the message is sent, and each
  sending attempt makes fresh links;
- only a file of an outbound message on a channel whose provider downloads files is
  served: a customer's file, a file waiting for its message, or a file of an e-mail
  answer is never reachable without logging in;
- the file name in the link's path is there for the provider's display; the token
  alone decides which file is served.
"""

from __future__ import annotations

from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeTimedSerializer

from opencx.core.enums import Direction
from opencx.core.errors import NotFound
from opencx.core.outbound_files import fetched_by_provider
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.attachments import (
    AttachmentContent,
    attachment_and_message,
    content_of,
)
from opencx.settings import Settings

__all__ = ["LINK_SECONDS", "MEDIA_PATH", "media_link", "read_media"]

LINK_SECONDS = 24 * 3600
#: Where the links point, under the server's public address.
MEDIA_PATH = "/media"
_SALT = "opencx.media-link"


def media_link(settings: Settings, attachment_id: int, filename: str) -> str:
    """The public URL of one file of an answer; ``ValueError`` without a public address."""
    base = settings.server.public_url
    if not base:
        raise ValueError("the server has no public address (server.public_url)")
    token = _serializer(settings).dumps(attachment_id)
    return f"{base.rstrip('/')}{MEDIA_PATH}/{token}/{quote(filename, safe='')}"


async def read_media(ctx: AppContext, token: str) -> AttachmentContent:
    """The file a link names; ``NotFound`` for a forged, expired or withdrawn link."""
    try:
        attachment_id = _serializer(ctx.settings).loads(token, max_age=LINK_SECONDS)
    except BadSignature:  # SignatureExpired is one
        raise NotFound("this link is invalid or has expired") from None
    if not isinstance(attachment_id, int):
        raise NotFound("this link is invalid or has expired")
    async with transaction(ctx) as session:
        found = await attachment_and_message(session, attachment_id)
    if found is None:
        raise NotFound("this link is invalid or has expired")
    attachment, message = found
    if message.direction is not Direction.OUTBOUND or not fetched_by_provider(message.channel):
        raise NotFound("this link is invalid or has expired")
    return await content_of(ctx, attachment)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.security.secret_key.get_secret_value(), salt=_SALT)
