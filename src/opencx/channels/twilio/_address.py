"""Twilio addresses: ``+33612345678`` (SMS, MMS), ``whatsapp:+33612345678`` (WhatsApp),
``whatsapp:US.1349…`` (a WhatsApp user known only by business-scoped id),
``messenger:1234`` (Messenger through Twilio)."""

from __future__ import annotations

from opencx.channels.base import Sender, UnreadablePayload
from opencx.channels.phones import normalise_phone
from opencx.core.enums import Channel, IdentityKind
from opencx.core.errors import InvalidInput

__all__ = ["sender_of"]

_SCHEMES = {
    "whatsapp": (Channel.WHATSAPP, IdentityKind.WHATSAPP),
    "messenger": (Channel.MESSENGER, IdentityKind.MESSENGER),
}


def sender_of(address: str, display_name: str = "") -> tuple[Channel, Sender]:
    """The channel and the sender's identity named by a Twilio ``From``."""
    scheme, colon, rest = address.strip().partition(":")
    if not colon:
        return Channel.SMS, Sender(IdentityKind.PHONE, _phone(address), display_name)
    if scheme not in _SCHEMES:
        raise UnreadablePayload(f"unknown Twilio address kind {scheme!r}")
    channel, kind = _SCHEMES[scheme]
    value = _phone(rest) if rest.strip().startswith("+") else rest.strip()
    if not value:
        raise UnreadablePayload("the From address is empty")
    return channel, Sender(kind, value, display_name)


def _phone(raw: str) -> str:
    try:
        return normalise_phone(raw)
    except InvalidInput as exc:
        raise UnreadablePayload(f"the From address is not an address: {exc.detail}") from None
