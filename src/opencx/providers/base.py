"""What every channel adapter produces: provider payloads translated into our terms.

Rules:
- an adapter is pure: bytes, headers and secrets in, these values out; it never reads
  the database, the clock or the network (the service layer does);
- every inbound item carries the provider's own id for it (``provider_message_id``),
  which makes a retried or duplicated delivery recognisable: the service stores each
  (provider, provider_message_id) once;
- a sender is an identity (kind and normalised value: e-mail lower-cased, phone by the
  one rule of ``opencx.providers.phones``: E.164 where it parses, as given otherwise;
  Messenger PSID, WhatsApp id), which is how one person is found across channels;
- a payload an adapter cannot read raises ``UnreadablePayload``; one it reads but that
  carries nothing for us (a read receipt of a message we never sent) gives no item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from opencx.core.enums import Channel, DeliveryStatus, IdentityKind
from opencx.core.errors import InvalidInput

__all__ = [
    "SIMULATED_FLAG",
    "DeliveryUpdate",
    "InboundAttachment",
    "InboundKind",
    "InboundMessage",
    "Sender",
    "UnreadablePayload",
]


class UnreadablePayload(InvalidInput):
    """The payload is not what the provider documents; nothing was taken from it."""


class InboundKind(StrEnum):
    MESSAGE = "message"
    POSTBACK = "postback"  # a button the customer pressed (payload in ``metadata``)
    QUICK_REPLY = "quick_reply"
    REACTION = "reaction"


@dataclass(frozen=True, slots=True)
class Sender:
    kind: IdentityKind
    value: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    """A file that came with a message: its bytes when the payload carried them (e-mail),
    else where the provider keeps it: a ``url`` to fetch it from (Twilio, Messenger) or
    a ``media_id`` to exchange for one (WhatsApp Cloud API)."""

    filename: str
    content_type: str
    data: bytes | None = None
    url: str | None = None
    media_id: str | None = None
    content_id: str | None = None  # inline images referenced from the HTML body
    inline: bool = False


#: The flag of a message the demo's simulated customers wrote (``opencx demo``).
SIMULATED_FLAG = "simulated"


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a customer, on one channel.

    ``recipient`` is our side's address (mailbox, phone number, page or WhatsApp number
    id): it tells which configured channel received it. ``thread_refs`` are the ids of
    earlier messages this one answers (e-mail Message-IDs, a replied-to message id),
    newest last. ``flags`` name what the service must know: ``auto_submitted`` (an
    automatic reply: never auto-acknowledge it), ``bounce``, ``unparsed`` (kept raw),
    ``simulated`` (``SIMULATED_FLAG``: a simulated customer of the demo wrote it; set in
    process by the simulation only, never read from a payload).
    """

    channel: Channel
    provider: str
    provider_message_id: str
    sender: Sender
    recipient: str | None = None
    text: str = ""
    html: str | None = None
    subject: str | None = None
    sent_at: datetime | None = None
    thread_refs: tuple[str, ...] = ()
    attachments: tuple[InboundAttachment, ...] = ()
    kind: InboundKind = InboundKind.MESSAGE
    flags: frozenset[str] = frozenset()
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """What became of a message we sent: the provider's id for it and its new status."""

    provider: str
    provider_message_id: str
    status: DeliveryStatus
    at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
