"""E-mail in: the raw bytes of one message to an ``InboundMessage``.

Rules:
- the standard ``email`` package parses (``policy.default``); this module only decides
  what the parts mean for us, and never performs I/O;
- nothing is dropped: a message that cannot be read properly (a broken MIME structure,
  an unreadable header or part, no sender) still gives an ``InboundMessage`` with
  whatever could be read, flagged ``unparsed`` (the service keeps the raw bytes); only an
  empty payload raises ``UnreadablePayload``;
- the sender is the first mailbox of From (then Sender, Reply-To, Return-Path), lower-
  cased; ``provider_message_id`` is the Message-ID without brackets, or ``sha256:<hex>``
  of the raw bytes when there is none, so a redelivery is still recognised;
- ``thread_refs`` are the References ids then the In-Reply-To ids, each once, oldest
  first and the replied-to message last;
- ``text`` is the new part of the text body (``quoted.strip_quoted_reply``), the whole
  text body is ``metadata["full_text"]``; with no usable plain part the text is read
  from the HTML body;
- flags: ``auto_submitted``, ``bulk``, ``bounce`` (see ``_flags``) and ``unparsed``;
- the work is bounded (``_limits``: parts, nesting, HTML converted to text); a message
  past a bound is read up to it and flagged ``unparsed``.

``metadata`` holds ``to``, ``cc``, ``reply_to`` (addresses), ``message_id`` (``None``
when made up), ``in_reply_to``, ``references`` (ids), ``full_text``, ``subject_token``
when the subject carries a ticket token, ``authentication_results`` (every such field,
first first: the service decides which relay to trust), ``defects`` when the parser met
any, and for a bounce ``bounce`` (the failed recipients and the Message-ID of the returned message).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from typing import Any

from opencx.core.enums import Channel, IdentityKind
from opencx.providers.base import InboundMessage, Sender, UnreadablePayload
from opencx.providers.email._flags import BOUNCE, UNPARSED, automatic_flags
from opencx.providers.email._headers import (
    Address,
    addresses,
    header,
    message_ids,
    parse_date,
    raw_headers,
)
from opencx.providers.email._html_text import html_to_text
from opencx.providers.email._limits import (
    DEFAULT_LIMITS,
    ParseLimits,
    html_to_read,
    read_message,
)
from opencx.providers.email._mime import Content, read_content
from opencx.providers.email._text import decode_bytes
from opencx.providers.email._tokens import find_ticket_token
from opencx.providers.email.quoted import strip_quoted_reply

__all__ = ["PROVIDER", "ParseLimits", "parse_email"]

PROVIDER = "smtp"

#: Defects after which the message may be missing parts of its content or headers.
_SERIOUS_DEFECTS = frozenset(
    {
        "CloseBoundaryNotFoundDefect",
        "FirstHeaderLineIsContinuationDefect",
        "HtmlTooLarge",
        "InvalidBase64LengthDefect",
        "MissingHeaderBodySeparatorDefect",
        "MultipartInvariantViolationDefect",
        "NoBoundaryInMultipartDefect",
        "NoSender",
        "StartBoundaryNotFoundDefect",
        "TooDeeplyNested",
        "TooManyParts",
    }
)
_SERIOUS_PREFIXES = ("UnreadableHeader:", "UnreadablePart:", "ParserError")
_SENDER_FIELDS = ("From", "Sender", "Reply-To", "Return-Path")


class _FieldsParsedOnce(EmailMessage):
    """``EmailMessage`` that parses each header field once. The standard policy parses a
    field again on every read, and a part's content type alone is read several times
    while its content is decoded; a field is cached by its raw name and value, so a
    changed field is parsed afresh."""

    def _parsed(self, name: str, value: Any) -> Any:
        if not isinstance(value, str):
            return self.policy.header_fetch_parse(name, value)
        cache: dict[tuple[str, str], Any] = self.__dict__.setdefault("_parsed_fields", {})
        key = (name, value)
        if key not in cache:
            cache[key] = self.policy.header_fetch_parse(name, value)
        return cache[key]

    def get(self, name: str, failobj: Any = None) -> Any:
        wanted = name.lower()
        for key, value in self._headers:  # type: ignore[attr-defined]
            if key.lower() == wanted:
                return self._parsed(key, value)
        return failobj

    def get_all(self, name: str, failobj: Any = None) -> Any:
        wanted = name.lower()
        values = [
            self._parsed(key, value)
            for key, value in self._headers  # type: ignore[attr-defined]
            if key.lower() == wanted
        ]
        return values or failobj


_POLICY = email.policy.default.clone(message_factory=_FieldsParsedOnce)


def parse_email(
    raw: bytes, *, recipient: str | None = None, limits: ParseLimits = DEFAULT_LIMITS
) -> InboundMessage:
    """The message in ``raw`` (RFC 5322 bytes); ``recipient`` is our receiving mailbox;
    ``limits`` bound the work."""
    if not raw:
        raise UnreadablePayload("an empty payload is no e-mail", field="raw")
    raw = bytes(raw)
    mailbox = (recipient or "").strip().lower() or None
    try:
        return _read(raw, recipient=mailbox, limits=limits)
    except Exception:  # the last resort of "nothing is dropped": keep the bytes as text
        return _unreadable(raw, recipient=mailbox)


@dataclass(frozen=True, slots=True)
class _Fields:
    """The header fields that matter to us, read once."""

    sender: Sender
    message_id: str | None
    references: tuple[str, ...]
    in_reply_to: tuple[str, ...]
    subject: str | None
    sent_at: datetime | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    authentication_results: tuple[str, ...]


def _read(raw: bytes, *, recipient: str | None, limits: ParseLimits) -> InboundMessage:
    fed: list[str] = []
    message = read_message(raw, _POLICY, limits, fed)
    content = read_content(message, limits)
    defects = content.defects  # header readers add theirs to the same list
    defects.extend(fed)
    fields = _read_fields(message, defects)
    html = "\n".join(content.html)
    readable = html_to_read(html, limits, defects)
    full_text = _full_text(content, readable)
    flags = automatic_flags(message, fields.sender.value, defects)
    if _is_serious(defects):
        flags.add(UNPARSED)
    return InboundMessage(
        channel=Channel.EMAIL,
        provider=PROVIDER,
        provider_message_id=fields.message_id or _digest_id(raw),
        sender=fields.sender,
        recipient=recipient,
        text=strip_quoted_reply(full_text),
        html=html if html and len(readable) == len(html) else None,  # else in the raw only
        subject=fields.subject,
        sent_at=fields.sent_at,
        thread_refs=_thread_refs(fields),
        attachments=tuple(content.attachments),
        flags=frozenset(flags),
        metadata=_metadata(fields, content=content, full_text=full_text, flags=flags),
    )


def _read_fields(message: Message, defects: list[str]) -> _Fields:
    def ids(name: str) -> tuple[str, ...]:
        return tuple(message_ids(" ".join(raw_headers(message, name))))

    return _Fields(
        sender=_sender(message, defects),
        message_id=next(iter(ids("Message-ID")), None),
        references=ids("References"),
        in_reply_to=ids("In-Reply-To"),
        subject=header(message, "Subject", defects) or None,
        sent_at=parse_date(next(iter(raw_headers(message, "Date")), None)),
        to=_addresses(message, "To", defects),
        cc=_addresses(message, "Cc", defects),
        reply_to=_addresses(message, "Reply-To", defects),
        authentication_results=tuple(raw_headers(message, "Authentication-Results")),
    )


def _metadata(
    fields: _Fields, *, content: Content, full_text: str, flags: set[str]
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "to": fields.to,
        "cc": fields.cc,
        "reply_to": fields.reply_to,
        "message_id": fields.message_id,
        "in_reply_to": fields.in_reply_to,
        "references": fields.references,
        "full_text": full_text,
    }
    token = find_ticket_token(fields.subject)
    if token is not None:
        metadata["subject_token"] = token
    if fields.authentication_results:
        metadata["authentication_results"] = fields.authentication_results
    if content.defects:
        metadata["defects"] = tuple(dict.fromkeys(content.defects))
    if BOUNCE in flags:
        metadata["bounce"] = {
            "recipients": tuple(content.delivery),
            "returned_message_id": content.returned_message_id,
        }
    return metadata


def _sender(message: Message, defects: list[str]) -> Sender:
    for name in _SENDER_FIELDS:
        found = [mailbox for mailbox in addresses(message, name, defects) if "@" in mailbox[1]]
        if found:
            display_name, address = found[0]
            return Sender(IdentityKind.EMAIL, address, display_name)
    defects.append("NoSender")
    return Sender(IdentityKind.EMAIL, "")


def _full_text(content: Content, html: str) -> str:
    plain = "\n\n".join(part.strip("\n") for part in content.plain if part.strip()).strip()
    if plain or not html:
        return plain
    return html_to_text(html)


def _thread_refs(fields: _Fields) -> tuple[str, ...]:
    """References then In-Reply-To, each id once at its last position (the replied-to
    message ends the chain), without the message's own id."""
    ordered = [ref for ref in (*fields.references, *fields.in_reply_to) if ref != fields.message_id]
    last = {ref: index for index, ref in enumerate(ordered)}
    return tuple(ref for index, ref in enumerate(ordered) if last[ref] == index)


def _addresses(message: Message, name: str, defects: list[str]) -> tuple[str, ...]:
    found: list[Address] = addresses(message, name, defects)
    return tuple(dict.fromkeys(address for _, address in found))


def _is_serious(defects: list[str]) -> bool:
    return any(
        defect in _SERIOUS_DEFECTS or defect.startswith(_SERIOUS_PREFIXES) for defect in defects
    )


def _digest_id(raw: bytes) -> str:
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _unreadable(raw: bytes, *, recipient: str | None) -> InboundMessage:
    text, _ = decode_bytes(raw, None)
    return InboundMessage(
        channel=Channel.EMAIL,
        provider=PROVIDER,
        provider_message_id=_digest_id(raw),
        sender=Sender(IdentityKind.EMAIL, ""),
        recipient=recipient,
        text=text,
        flags=frozenset({UNPARSED}),
        metadata={"full_text": text, "defects": ("ParserError",)},
    )
