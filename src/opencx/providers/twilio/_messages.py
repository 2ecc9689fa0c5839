"""An incoming SMS, MMS or WhatsApp message, from Twilio's webhook parameters.

Mapping:
- ``From`` names the channel and the sender: ``whatsapp:+…`` is WhatsApp
  (``IdentityKind.WHATSAPP``), a plain number is SMS (``IdentityKind.PHONE``), both by
  the phone rule (``opencx.providers.phones``: E.164 where the number parses, a short
  code or unknown number as given); ``ProfileName`` (WhatsApp) is the display name;
- ``To`` is the ``recipient``, verbatim (``whatsapp:+1415…`` for WhatsApp), so it matches
  the sender address configured for the channel;
- ``MessageSid`` is the id; Twilio sends no time for an inbound message (``sent_at`` is
  ``None``: the service stamps the arrival);
- ``NumMedia`` media become attachments with ``MediaUrl{N}`` and ``MediaContentType{N}``
  (the URL needs the account credentials to fetch: ``media_request``);
- ``ButtonPayload``/``ButtonText`` (a WhatsApp quick-reply button) make a
  ``QUICK_REPLY`` with ``metadata["payload"]``; ``OriginalRepliedMessageSid`` (the
  message answered) is in ``thread_refs``; a shared location is ``metadata["location"]``
  and a click-to-WhatsApp ad's ``Referral*`` parameters are ``metadata["referral"]``.

A voice webhook (``CallSid``, no ``MessageSid``) and a status callback are not messages:
``parse_message`` raises ``UnreadablePayload`` for them.
"""

from __future__ import annotations

import math
from typing import Any

from opencx.providers.base import InboundAttachment, InboundKind, InboundMessage, UnreadablePayload
from opencx.providers.twilio._address import sender_of
from opencx.providers.twilio._params import PROVIDER, Params, first_values, required

__all__ = ["parse_message"]

_MAX_MEDIA = 100  # Twilio sends at most 10; bounds the loop on a hostile NumMedia
_INBOUND_STATUSES = frozenset({"", "received", "receiving"})
_METADATA = {
    "AccountSid": "account_sid",
    "MessagingServiceSid": "messaging_service_sid",
    "NumSegments": "num_segments",
    "WaId": "wa_id",
    "Forwarded": "forwarded",
    "FrequentlyForwarded": "frequently_forwarded",
}


def parse_message(params: Params) -> InboundMessage:
    """The message in an incoming-message webhook; ``UnreadablePayload`` for anything else."""
    values = first_values(params)
    message_sid = _message_sid(values)
    channel, sender = sender_of(required(values, "From"), values.get("ProfileName", "").strip())
    kind, metadata = _reply_kind(values)
    replied_to = values.get("OriginalRepliedMessageSid", "").strip()
    return InboundMessage(
        channel=channel,
        provider=PROVIDER,
        provider_message_id=message_sid,
        sender=sender,
        recipient=required(values, "To"),
        text=values.get("Body", ""),
        thread_refs=(replied_to,) if replied_to else (),
        attachments=_media(values),
        kind=kind,
        metadata={**_plain_metadata(values), **metadata},
    )


def _message_sid(values: dict[str, str]) -> str:
    if values.get("MessageStatus", "") not in _INBOUND_STATUSES:
        raise UnreadablePayload("a message status callback, not an incoming message")
    sid = values.get("MessageSid") or values.get("SmsMessageSid") or values.get("SmsSid")
    if sid:
        return sid
    if values.get("CallSid"):
        raise UnreadablePayload("a voice call webhook, not a message")
    raise UnreadablePayload("the MessageSid parameter is missing")


def _media(values: dict[str, str]) -> tuple[InboundAttachment, ...]:
    count = values.get("NumMedia", "0").strip() or "0"
    if not (count.isascii() and count.isdigit()) or int(count) > _MAX_MEDIA:
        raise UnreadablePayload("NumMedia is not a small number")
    return tuple(_attachment(values, index) for index in range(int(count)))


def _attachment(values: dict[str, str], index: int) -> InboundAttachment:
    url = required(values, f"MediaUrl{index}")
    content_type = values.get(f"MediaContentType{index}", "").strip()
    name = url.split("#")[0].split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    return InboundAttachment(
        filename=name or f"media-{index}",
        content_type=content_type or "application/octet-stream",
        url=url,
    )


def _reply_kind(values: dict[str, str]) -> tuple[InboundKind, dict[str, Any]]:
    payload = values.get("ButtonPayload", "")
    label = values.get("ButtonText", "")
    if not payload and not label:
        return InboundKind.MESSAGE, {}
    return InboundKind.QUICK_REPLY, {"payload": payload or label, "title": label}


def _plain_metadata(values: dict[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        ours: values[theirs] for theirs, ours in _METADATA.items() if values.get(theirs)
    }
    if values.get("Latitude") or values.get("Longitude"):
        metadata["location"] = _location(values)
    referral = {
        name: value
        for name, value in values.items()
        if name.startswith("Referral") and name != "ReferralNumMedia" and value
    }
    if referral:
        metadata["referral"] = referral
    return metadata


def _location(values: dict[str, str]) -> dict[str, Any]:
    where: dict[str, Any] = {
        "latitude": _coordinate(values, "Latitude"),
        "longitude": _coordinate(values, "Longitude"),
    }
    for theirs, ours in (("Address", "address"), ("Label", "name")):
        if values.get(theirs):
            where[ours] = values[theirs]
    return where


def _coordinate(values: dict[str, str], name: str) -> float:
    try:
        number = float(values.get(name, ""))
    except ValueError:
        raise UnreadablePayload(f"{name} is not a number") from None
    if not math.isfinite(number):
        raise UnreadablePayload(f"{name} is not a number")
    return number
