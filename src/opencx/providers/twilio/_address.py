"""Twilio addresses: ``+33612345678`` (SMS, MMS), ``whatsapp:+33612345678`` (WhatsApp),
``whatsapp:US.1349…`` (a WhatsApp user known only by business-scoped id),
``messenger:1234`` (Messenger through Twilio)."""

from __future__ import annotations

from opencx.core.enums import Channel, IdentityKind
from opencx.core.errors import InvalidInput
from opencx.providers.base import Sender, UnreadablePayload
from opencx.providers.phones import normalise_phone

__all__ = ["normalise_address", "sender_of"]

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


def normalise_address(raw: str) -> str:
    """Our number at Twilio, as its account stores it: ``+33612345678`` from
    ``whatsapp:+33 6 12 34 56 78`` (the phone rule of ``opencx.providers.phones``)."""
    try:
        return normalise_phone(raw.strip().removeprefix("whatsapp:"))
    except InvalidInput as exc:
        raise InvalidInput(exc.detail, field="address") from None


def _phone(raw: str) -> str:
    try:
        return normalise_phone(raw)
    except InvalidInput as exc:
        raise UnreadablePayload(f"the From address is not an address: {exc.detail}") from None
