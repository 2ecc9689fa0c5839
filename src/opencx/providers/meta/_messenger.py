"""Messenger (``object: page``) and Instagram (``object: instagram``) webhooks in our terms.

Both send ``entry[].messaging[]`` events between a ``sender`` and a ``recipient``; for
what a customer does, the sender is the customer (a page-scoped id, PSID, or an
Instagram-scoped id) and the recipient is our page or Instagram account.

Mapping:
- ``message``: text, media attachments (``image``, ``video``, ``audio``, ``file``) with
  their ``payload.url`` (any other attachment, such as a shared link, post or story,
  stays in ``metadata["other_attachments"]``: it is not fetched), ``quick_reply`` →
  ``QUICK_REPLY`` with its payload in ``metadata["payload"]``, ``reply_to.mid`` in
  ``thread_refs``; ``is_unsupported`` is flagged ``unparsed``; our own ``is_echo``
  copies and Instagram's ``is_deleted`` notices give nothing;
- ``postback`` → ``POSTBACK``: the button title is the text, its payload in metadata;
- ``reaction`` → ``REACTION`` on ``thread_refs[0]``; Meta gives a reaction no id of its
  own, so ``provider_message_id`` is built from the reacted message, the sender, the
  action and the event time (stable across Meta's retries);
- ``delivery`` with ``mids`` → one ``DeliveryUpdate`` (delivered) per message;
- ``read`` with a ``mid`` (Instagram) → a ``DeliveryUpdate`` (read) for it; a ``read``
  with only a ``watermark`` (Messenger), and a ``delivery`` without ``mids``, →
  ``WatermarkUpdate``: everything sent to that customer up to the watermark;
- other events (opt-ins, referrals, hand-over, standby, edits) give nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opencx.core.enums import Channel, DeliveryStatus, IdentityKind
from opencx.providers.base import (
    DeliveryUpdate,
    InboundAttachment,
    InboundKind,
    InboundMessage,
    Sender,
    UnreadablePayload,
)
from opencx.providers.meta._fields import (
    EXTENSIONS,
    PROVIDER,
    Json,
    from_millis,
    obj,
    objects,
    opt_obj,
    opt_text,
    text,
)
from opencx.providers.meta._values import WatermarkUpdate

__all__ = ["parse_messaging"]

Item = InboundMessage | DeliveryUpdate

_IDENTITY = {Channel.MESSENGER: IdentityKind.MESSENGER, Channel.INSTAGRAM: IdentityKind.INSTAGRAM}
_TYPES_BY_EXTENSION = {extension: mime for mime, extension in EXTENSIONS.items()}
_TYPES_BY_EXTENSION[".jpeg"] = "image/jpeg"
#: The attachment types that are a file the customer sent (fetched and stored); a shared
#: post, story or reel links to someone else's content and stays a link.
_MEDIA_TYPES = frozenset({"image", "video", "audio", "file"})


def parse_messaging(body: Json, channel: Channel) -> list[Item]:
    items: list[Item] = []
    for entry in objects(body, "entry"):
        for event in objects(entry, "messaging"):
            items.extend(_event(event, channel))
    return items


def _event(event: Json, channel: Channel) -> list[Item]:
    if "message" in event:
        return _message(event, channel)
    if "postback" in event:
        return [_postback(event, channel)]
    if "reaction" in event:
        return [_reaction(event, channel)]
    if "delivery" in event:
        return _delivery(event, channel)
    if "read" in event:
        return [_read(event, channel)]
    return []


def _parties(event: Json, channel: Channel) -> tuple[Sender, str]:
    customer = text(obj(event.get("sender"), "'sender'"), "id")
    ours = text(obj(event.get("recipient"), "'recipient'"), "id")
    return Sender(_IDENTITY[channel], customer), ours


def _inbound(event: Json, channel: Channel, **fields: Any) -> InboundMessage:
    sender, recipient = _parties(event, channel)
    return InboundMessage(
        channel=channel,
        provider=PROVIDER,
        sender=sender,
        recipient=recipient,
        sent_at=from_millis(event.get("timestamp"), "an event timestamp"),
        **fields,
    )


def _message(event: Json, channel: Channel) -> list[Item]:
    message = obj(event.get("message"), "'message'")
    if message.get("is_echo") is True or message.get("is_deleted") is True:
        return []
    body = opt_text(message, "text") or ""
    metadata: dict[str, Any] = {}
    kind = InboundKind.MESSAGE
    if (quick_reply := opt_obj(message, "quick_reply")) is not None:
        kind = InboundKind.QUICK_REPLY
        metadata.update(payload=text(quick_reply, "payload"), title=body)
    attachments, others = _attachments(objects(message, "attachments"))
    if others:
        metadata["other_attachments"] = others
    thread_refs, story = _reply_to(message)
    if story is not None:
        metadata["story"] = story
    if (referral := opt_obj(message, "referral")) is not None:
        metadata["referral"] = dict(referral)
    unsupported = message.get("is_unsupported") is True
    inbound = _inbound(
        event,
        channel,
        provider_message_id=text(message, "mid"),
        text=body,
        thread_refs=thread_refs,
        attachments=attachments,
        kind=kind,
        flags=frozenset({"unparsed"}) if unsupported else frozenset(),
        metadata=metadata,
    )
    return [inbound]


def _attachments(items: list[Json]) -> tuple[tuple[InboundAttachment, ...], list[Json]]:
    found: list[InboundAttachment] = []
    others: list[Json] = []
    for item in items:
        payload = opt_obj(item, "payload") or {}
        url = opt_text(payload, "url")
        kind = opt_text(item, "type") or "file"
        if url and kind in _MEDIA_TYPES:
            found.append(_attachment(url, kind))
        else:
            others.append(dict(item))
    return tuple(found), others


def _attachment(url: str, attachment_type: str) -> InboundAttachment:
    name = url.split("#")[0].split("?")[0].rsplit("/", 1)[-1]
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return InboundAttachment(
        filename=name or attachment_type,
        content_type=_TYPES_BY_EXTENSION.get(extension, "application/octet-stream"),
        url=url,
    )


def _reply_to(message: Json) -> tuple[tuple[str, ...], dict[str, Any] | None]:
    reply_to = opt_obj(message, "reply_to")
    if reply_to is None:
        return (), None
    story = opt_obj(reply_to, "story")
    quoted = opt_text(reply_to, "mid")
    return ((quoted,) if quoted else ()), (dict(story) if story is not None else None)


def _postback(event: Json, channel: Channel) -> InboundMessage:
    postback = obj(event.get("postback"), "'postback'")
    title = opt_text(postback, "title") or ""
    metadata: dict[str, Any] = {"payload": opt_text(postback, "payload"), "title": title}
    if (referral := opt_obj(postback, "referral")) is not None:
        metadata["referral"] = dict(referral)
    mid = opt_text(postback, "mid") or _synthetic_id("postback", event)
    return _inbound(
        event,
        channel,
        provider_message_id=mid,
        text=title,
        kind=InboundKind.POSTBACK,
        metadata=metadata,
    )


def _reaction(event: Json, channel: Channel) -> InboundMessage:
    reaction = obj(event.get("reaction"), "'reaction'")
    reacted_to = text(reaction, "mid")
    action = opt_text(reaction, "action") or "react"
    emoji = opt_text(reaction, "emoji") or ""
    return _inbound(
        event,
        channel,
        provider_message_id=_synthetic_id(f"reaction:{reacted_to}:{action}", event),
        text=emoji if action == "react" else "",
        thread_refs=(reacted_to,),
        kind=InboundKind.REACTION,
        metadata={
            "reacted_to": reacted_to,
            "emoji": emoji,
            "action": action,
            "reaction": opt_text(reaction, "reaction"),
        },
    )


def _synthetic_id(prefix: str, event: Json) -> str:
    """An id for an event Meta gives none: what it is, who did it, and when (ms)."""
    sender = text(obj(event.get("sender"), "'sender'"), "id")
    from_millis(event.get("timestamp"), "an event timestamp")  # validated before use
    return f"{prefix}:{sender}:{event['timestamp']}"


def _delivery(event: Json, channel: Channel) -> list[Item]:
    delivery = obj(event.get("delivery"), "'delivery'")
    mids = _strings(delivery, "mids")
    if not mids:
        return [_watermark(event, channel, delivery, DeliveryStatus.DELIVERED)]
    watermark = delivery.get("watermark")
    at = None if watermark is None else from_millis(watermark, "a delivery watermark")
    return [DeliveryUpdate(PROVIDER, mid, DeliveryStatus.DELIVERED, at=at) for mid in mids]


def _read(event: Json, channel: Channel) -> DeliveryUpdate:
    read = obj(event.get("read"), "'read'")
    mid = opt_text(read, "mid")
    if mid is None:
        return _watermark(event, channel, read, DeliveryStatus.READ)
    return DeliveryUpdate(PROVIDER, mid, DeliveryStatus.READ, at=_event_time(event))


def _watermark(
    event: Json, channel: Channel, receipt: Json, status: DeliveryStatus
) -> WatermarkUpdate:
    customer, recipient = _parties(event, channel)
    return WatermarkUpdate(
        provider=PROVIDER,
        provider_message_id="",
        status=status,
        at=_event_time(event),
        channel=channel,
        customer=customer,
        recipient=recipient,
        watermark=from_millis(receipt.get("watermark"), "a watermark"),
    )


def _event_time(event: Json) -> datetime | None:
    timestamp = event.get("timestamp")
    return None if timestamp is None else from_millis(timestamp, "an event timestamp")


def _strings(parent: Json, key: str) -> list[str]:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise UnreadablePayload(f"{key!r} is not a list of ids")
    return value
