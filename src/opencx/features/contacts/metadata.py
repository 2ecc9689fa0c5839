"""What a received message keeps of its provider's details, in its ``metadata``: the
strings the timeline and the API show (``MessageOut.metadata``)."""

from __future__ import annotations

from opencx.providers.base import InboundMessage

__all__ = ["message_metadata"]

#: The adapters' details a message keeps: threading and replies (e-mail), quick-reply
#: payloads and media (messaging), what a review or a post says of itself (ratings, app
#: version, device, X thread), and where a web chat started.
_KEPT = (
    "references",
    "in_reply_to",
    "reply_to",
    "cc",
    "payload",
    "media_url",
    "rating",
    "review_id",
    "language",
    "app_version",
    "app_version_code",
    "android_version",
    "device",
    "device_model",
    "device_manufacturer",
    "original_text",
    "developer_reply",
    "developer_reply_at",
    "territory",
    "username",
    "conversation_id",
    "in_reply_to_user_id",
    "lang",
    "url",
    "widget",
    "chat_session",
    "page_url",
    "locale",
    "via",
    "authentication",
    "authentication_details",
    # A chat's address as the visitor typed it, and whether they proved it theirs.
    "email",
    "email_verified",
)


def message_metadata(item: InboundMessage) -> dict[str, str]:
    """What the timeline and replies need of the provider's details, as strings."""
    meta = {"provider": item.provider, "sender": item.sender.value}
    if item.recipient:
        meta["recipient"] = item.recipient
    if item.subject:
        meta["subject"] = item.subject[:300]
    if item.flags:
        meta["flags"] = ",".join(sorted(item.flags))
    if item.kind.value != "message":
        meta["kind"] = item.kind.value
    if item.sent_at is not None:
        meta["sent_at"] = item.sent_at.isoformat()
    for key in _KEPT:
        value = item.metadata.get(key)
        if isinstance(value, (tuple, list)):
            value = " ".join(str(v) for v in value)
        if isinstance(value, str) and value:
            meta[key] = value[:2000]
    return meta
