"""WhatsApp Cloud API webhooks (``object: whatsapp_business_account``) in our terms.

Each ``entry[].changes[]`` whose ``field`` is ``messages`` carries a ``value`` with our
number (``metadata.phone_number_id``, the ``recipient``), the senders' profiles
(``contacts``), their ``messages`` and the ``statuses`` of what we sent.

Mapping:
- the sender is ``IdentityKind.WHATSAPP``: the user's number in E.164 (``from``, the
  ``wa_id``), or, for a user who hides it behind a username, the business-scoped user
  id (``from_user_id`` or the contact's ``user_id``, kept as given); ``metadata`` keeps
  ``wa_id``, ``user_id`` and ``username`` as Meta sent them, to address replies;
- media (image, audio, video, document, sticker) become one ``InboundAttachment`` with
  its ``media_id`` and no ``url`` (the id is exchanged for a short-lived, authenticated
  URL when the file is fetched: ``media_lookup_request``); the
  message ``metadata`` holds ``media_id``, ``mime_type``, ``caption`` and ``sha256``;
  the caption is also the message text;
- a reply button (``interactive.button_reply``) and a template quick-reply button
  (``button``) are ``QUICK_REPLY``; a list row (``list_reply``) and a completed flow
  (``nfm_reply``) are ``POSTBACK``; the button id or payload is ``metadata["payload"]``
  and its title is the text;
- a reaction is ``REACTION``: the emoji is the text (empty when the reaction is
  removed, ``metadata["action"] == "unreact"``), the reacted message is in
  ``thread_refs``;
- location and shared contacts are in ``metadata["location"]`` / ``["contacts"]``;
- a reply's quoted message (``context.id``) is in ``thread_refs``;
- a message type we do not read (``unsupported``, ``order``…) still reaches the
  service, flagged ``unparsed`` with the raw message in ``metadata["raw"]``; ``system``
  notices (a user changed number or id) are not messages and give nothing;
- statuses ``sent``/``delivered``/``read``/``failed`` are ``DeliveryUpdate``; the first
  error names ``error_code`` and ``error_message``; other statuses give nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    from_seconds,
    obj,
    objects,
    opt_obj,
    opt_text,
    text,
)
from opencx.providers.phones import normalise_phone

__all__ = ["e164", "parse_whatsapp"]

_SKIPPED_TYPES = frozenset({"system", "request_welcome"})
_MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class _Content:
    text: str = ""
    kind: InboundKind = InboundKind.MESSAGE
    attachments: tuple[InboundAttachment, ...] = ()
    thread_refs: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()
    metadata: dict[str, Any] = field(default_factory=dict)


def parse_whatsapp(body: Json) -> list[InboundMessage | DeliveryUpdate]:
    items: list[InboundMessage | DeliveryUpdate] = []
    for entry in objects(body, "entry"):
        for change in objects(entry, "changes"):
            if change.get("field") == "messages":
                items.extend(_parse_value(obj(change.get("value"), "a change's 'value'")))
    return items


def _parse_value(value: Json) -> list[InboundMessage | DeliveryUpdate]:
    recipient = text(obj(value.get("metadata"), "'metadata'"), "phone_number_id")
    contacts = objects(value, "contacts")
    items: list[InboundMessage | DeliveryUpdate | None] = [
        _message(message, contacts, recipient) for message in objects(value, "messages")
    ]
    items.extend(_status(status) for status in objects(value, "statuses"))
    return [item for item in items if item is not None]


def _message(message: Json, contacts: list[Json], recipient: str) -> InboundMessage | None:
    message_type = text(message, "type")
    if message_type in _SKIPPED_TYPES:
        return None
    sender, identity = _sender(message, contacts)
    content = _read_content(message, message_type)
    return InboundMessage(
        channel=Channel.WHATSAPP,
        provider=PROVIDER,
        provider_message_id=text(message, "id"),
        sender=sender,
        recipient=recipient,
        text=content.text,
        sent_at=from_seconds(message.get("timestamp"), "a message timestamp"),
        thread_refs=_context_refs(message) + content.thread_refs,
        attachments=content.attachments,
        kind=content.kind,
        flags=content.flags,
        metadata={"type": message_type, **identity, **content.metadata},
    )


def _sender(message: Json, contacts: list[Json]) -> tuple[Sender, dict[str, str]]:
    wa_id = opt_text(message, "from")
    user_id = opt_text(message, "from_user_id")
    contact = _contact_of(contacts, wa_id, user_id) or {}
    user_id = user_id or opt_text(contact, "user_id")
    profile = opt_obj(contact, "profile") or {}
    name = opt_text(profile, "name") or ""
    known = {"wa_id": wa_id, "user_id": user_id, "username": opt_text(profile, "username")}
    identity = {key: value for key, value in known.items() if value}
    if wa_id:
        return Sender(IdentityKind.WHATSAPP, e164(wa_id), name), identity
    if user_id:
        return Sender(IdentityKind.WHATSAPP, user_id.strip(), name), identity
    raise UnreadablePayload("a WhatsApp message names no sender")


def _contact_of(contacts: list[Json], wa_id: str | None, user_id: str | None) -> Json | None:
    for contact in contacts:
        if (wa_id and contact.get("wa_id") == wa_id) or (
            user_id and contact.get("user_id") == user_id
        ):
            return contact
    return contacts[0] if len(contacts) == 1 else None


def _context_refs(message: Json) -> tuple[str, ...]:
    quoted = opt_text(opt_obj(message, "context") or {}, "id")
    return (quoted,) if quoted else ()


def _read_content(message: Json, message_type: str) -> _Content:
    if message_type in _MEDIA_TYPES:
        return _media(obj(message.get(message_type), repr(message_type)), message_type)
    if message_type == "contacts":
        return _shared_contacts(objects(message, "contacts"))
    reader = _READERS.get(message_type)
    content = None if reader is None else reader(obj(message.get(message_type), repr(message_type)))
    if content is None:
        return _Content(flags=frozenset({"unparsed"}), metadata={"raw": dict(message)})
    return content


def _text(part: Json) -> _Content:
    return _Content(text=text(part, "body"))


def _media(part: Json, message_type: str) -> _Content:
    media_id = text(part, "id")
    mime_type = opt_text(part, "mime_type") or "application/octet-stream"
    caption = opt_text(part, "caption") or ""
    extension = EXTENSIONS.get(mime_type.split(";")[0].strip().lower(), "")
    filename = opt_text(part, "filename") or f"{message_type}-{media_id}{extension}"
    found = {
        "media_id": media_id,
        "mime_type": mime_type,
        "caption": caption,
        "sha256": opt_text(part, "sha256"),
        "media_url": opt_text(part, "url"),
    }
    return _Content(
        text=caption,
        attachments=(
            InboundAttachment(filename=filename, content_type=mime_type, media_id=media_id),
        ),
        metadata={key: value for key, value in found.items() if value is not None},
    )


def _location(part: Json) -> _Content:
    where: dict[str, Any] = {
        "latitude": _number(part, "latitude"),
        "longitude": _number(part, "longitude"),
    }
    for key in ("name", "address", "url"):
        if value := opt_text(part, key):
            where[key] = value
    return _Content(metadata={"location": where})


def _number(part: Json, key: str) -> float:
    value = part.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise UnreadablePayload(f"{key!r} is not a number")
    return float(value)


def _shared_contacts(cards: list[Json]) -> _Content:
    return _Content(metadata={"contacts": [dict(card) for card in cards]})


def _interactive(part: Json) -> _Content | None:
    reply_type = text(part, "type")
    reader = _INTERACTIVE_READERS.get(reply_type)
    return None if reader is None else reader(obj(part.get(reply_type), repr(reply_type)))


def _button_reply(reply: Json) -> _Content:
    return _choice(reply, InboundKind.QUICK_REPLY)


def _list_reply(reply: Json) -> _Content:
    return _choice(reply, InboundKind.POSTBACK)


def _choice(reply: Json, kind: InboundKind) -> _Content:
    title = text(reply, "title")
    metadata = {"payload": text(reply, "id"), "title": title}
    if description := opt_text(reply, "description"):
        metadata["description"] = description
    return _Content(text=title, kind=kind, metadata=metadata)


def _flow(reply: Json) -> _Content:
    metadata = {"payload": text(reply, "response_json"), "flow_name": opt_text(reply, "name")}
    return _Content(
        text=opt_text(reply, "body") or "",
        kind=InboundKind.POSTBACK,
        metadata={key: value for key, value in metadata.items() if value is not None},
    )


def _button(part: Json) -> _Content:
    label = text(part, "text")
    return _Content(
        text=label,
        kind=InboundKind.QUICK_REPLY,
        metadata={"payload": opt_text(part, "payload") or label, "title": label},
    )


def _reaction(part: Json) -> _Content:
    reacted_to = text(part, "message_id")
    emoji = opt_text(part, "emoji") or ""
    return _Content(
        text=emoji,
        kind=InboundKind.REACTION,
        thread_refs=(reacted_to,),
        metadata={
            "reacted_to": reacted_to,
            "emoji": emoji,
            "action": "react" if emoji else "unreact",
        },
    )


_INTERACTIVE_READERS: dict[str, Callable[[Json], _Content]] = {
    "button_reply": _button_reply,
    "list_reply": _list_reply,
    "nfm_reply": _flow,
}
# A reader answers None for a variant it does not read: the message is kept unparsed.
_READERS: dict[str, Callable[[Json], _Content | None]] = {
    "text": _text,
    "location": _location,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
}


def _status(status: Json) -> DeliveryUpdate | None:
    mapped = _STATUSES.get(text(status, "status"))
    if mapped is None:
        return None
    code, message = _first_error(objects(status, "errors"))
    return DeliveryUpdate(
        provider=PROVIDER,
        provider_message_id=text(status, "id"),
        status=mapped,
        at=from_seconds(status.get("timestamp"), "a status timestamp"),
        error_code=code,
        error_message=message,
    )


def _first_error(errors: list[Json]) -> tuple[str | None, str | None]:
    if not errors:
        return None, None
    error = errors[0]
    code = error.get("code")
    if code is not None and (isinstance(code, bool) or not isinstance(code, int | str)):
        raise UnreadablePayload("an error code is not a number")
    details = opt_obj(error, "error_data") or {}
    message = opt_text(details, "details") or opt_text(error, "message") or opt_text(error, "title")
    return (None if code is None else str(code)), message


def e164(digits: str) -> str:
    """A WhatsApp id (the user's number, digits only) in E.164 with its leading ``+``.

    ``phonenumbers`` canonicalises what it can parse; a number it does not know (test
    numbers, numbering plans newer than its metadata) keeps its digits, so a message is
    never lost to an outdated numbering table.
    """
    bare = digits.strip().removeprefix("+")
    if not (bare.isascii() and bare.isdigit()):
        raise UnreadablePayload("a WhatsApp id is not a phone number")
    return normalise_phone(f"+{bare}")
