"""One SendGrid Inbound Parse post to one ``InboundMessage``.

Rules:
- raw mode ("POST the raw, full MIME message"): the ``email`` field is the message as
  received, read by ``opencx.providers.email.parse_email`` and kept as the original;
- parsed mode (the default): the message is rebuilt from ``headers``, ``text``, ``html``
  and the attachments (``_parsed``), then read the same way; there is no original to keep;
- a post with neither ``email`` nor ``headers`` is ``UnreadablePayload``;
- the ``envelope`` (JSON: ``to``, a list of our addresses, and ``from``) says which
  mailbox received the mail, as SMTP's RCPT does; without one, the To addresses stand in;
  the envelope sender answers for a message with no readable From, as on our SMTP server;
- ``provider`` is ``"sendgrid"``; the provider's id is the Message-ID as for any e-mail,
  so a mail SendGrid posts twice, or that also came by SMTP, is stored once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from opencx.core.enums import IdentityKind
from opencx.providers.base import InboundMessage, Sender, UnreadablePayload
from opencx.providers.email import DEFAULT_LIMITS, ParseLimits, parse_email
from opencx.providers.sendgrid._form import Form, read_form
from opencx.providers.sendgrid._parsed import rebuild_message

__all__ = ["PROVIDER", "InboundParse", "parse_inbound"]

PROVIDER = "sendgrid"


@dataclass(frozen=True, slots=True)
class InboundParse:
    """What SendGrid posted: the message, the mailboxes the envelope names (ours, in
    order, lower-cased), and the raw bytes to keep (raw mode only)."""

    message: InboundMessage
    recipients: tuple[str, ...] = ()
    raw: bytes | None = None


@dataclass(frozen=True, slots=True)
class _Envelope:
    to: tuple[str, ...] = ()
    sender: str | None = None


def parse_inbound(
    body: bytes, *, content_type: str, limits: ParseLimits = DEFAULT_LIMITS
) -> InboundParse:
    """The e-mail in a verified Inbound Parse post (``body`` and its Content-Type),
    read within ``limits``."""
    form = read_form(body, content_type)
    raw = form.value("email")
    if raw:
        message, kept = parse_email(raw, limits=limits), raw
    elif form.value("headers") is not None:
        message, kept = parse_email(rebuild_message(form), limits=limits), None
    else:
        raise UnreadablePayload(
            "the post has neither 'email' (raw mode) nor 'headers' (parsed mode)", field="email"
        )
    envelope = _envelope(form)
    recipients = envelope.to or _header_recipients(message)
    message = replace(message, provider=PROVIDER, recipient=next(iter(recipients), None))
    if not message.sender.value and envelope.sender:
        message = replace(message, sender=Sender(IdentityKind.EMAIL, envelope.sender))
    return InboundParse(message=message, recipients=recipients, raw=kept)


def _envelope(form: Form) -> _Envelope:
    try:
        envelope = json.loads(form.text("envelope") or "{}")
    except ValueError:
        return _Envelope()
    if not isinstance(envelope, dict):
        return _Envelope()
    to = envelope.get("to")
    addresses = [to] if isinstance(to, str) else to if isinstance(to, list) else []
    sender = envelope.get("from")
    return _Envelope(
        to=_addresses(addresses),
        sender=sender.strip().lower() if isinstance(sender, str) and "@" in sender else None,
    )


def _header_recipients(message: InboundMessage) -> tuple[str, ...]:
    to = message.metadata.get("to")
    return _addresses(list(to) if isinstance(to, tuple | list) else [])


def _addresses(values: list[object]) -> tuple[str, ...]:
    found = (v.strip().lower() for v in values if isinstance(v, str) and "@" in v)
    return tuple(dict.fromkeys(found))
