"""Reading header fields without trusting them: every reader returns a value or nothing.

Rules:
- fields are read through the ``email`` package's header registry (RFC 2047 encoded
  words decoded, folding undone); when it fails on a malformed field, the raw field is
  decoded by hand and the failure recorded as a defect, never raised;
- addresses are lower-cased ``addr-spec`` strings, display names decoded;
- message ids are kept without their angle brackets, in order, each once;
- a date becomes an aware UTC datetime, or ``None`` when absent or unreadable.
"""

from __future__ import annotations

import email.header
import email.utils
import re
from datetime import UTC, datetime
from email.message import Message

from opencx.providers.email._text import clean

__all__ = [
    "Address",
    "addresses",
    "all_headers",
    "header",
    "message_ids",
    "parse_date",
    "raw_headers",
]

Address = tuple[str, str]  # (display name, lower-cased address)

_BRACKETED_ID = re.compile(r"<([^<>\s]+)>")
_WHITESPACE = re.compile(r"\s+")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_ADJACENT_WORDS = re.compile(r"(?<=\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?)")


def header(message: Message, name: str, defects: list[str]) -> str | None:
    """The first ``name`` field, decoded, on one line; ``None`` when absent."""
    values = all_headers(message, name, defects)
    return values[0] if values else None


def all_headers(message: Message, name: str, defects: list[str]) -> list[str]:
    """Every ``name`` field, decoded, each on one line."""
    raw = [str(value) for key, value in message.raw_items() if _same(key, name)]
    try:
        values = [_one_line(str(value)) for value in message.get_all(name) or []]
    except Exception:  # the header parser has crashed on malformed fields before
        defects.append(f"UnreadableHeader:{name}")
        return [_decode_raw(value) for value in raw]
    # 8-bit bytes in a legacy charset come back as U+FFFD: read the raw field instead
    if len(values) == len(raw):
        values = [_decode_raw(r) if "\ufffd" in v else v for v, r in zip(values, raw, strict=True)]
    return values


def raw_headers(message: Message, name: str) -> list[str]:
    """Every ``name`` field as it came, unfolded and decoded by hand: for fields with no
    structure worth the header registry's parser (message ids, dates), which costs about
    as much as the rest of a short message's parsing."""
    return [_decode_raw(str(value)) for key, value in message.raw_items() if _same(key, name)]


def addresses(message: Message, name: str, defects: list[str]) -> list[Address]:
    """The mailboxes of every ``name`` field (groups flattened), in order."""
    found: list[Address] = []
    try:
        for field in message.get_all(name) or []:
            found.extend(
                (clean(mailbox.display_name), clean(mailbox.addr_spec).strip().lower())
                for mailbox in getattr(field, "addresses", ())
                if mailbox.addr_spec.strip() not in ("", "<>")
            )
    except Exception:  # same as above: fall back on the lenient legacy parser
        defects.append(f"UnreadableHeader:{name}")
    if found and not any("\ufffd" in display for display, _ in found):
        return found
    raw = all_headers(message, name, defects)
    return [
        (clean(display).strip(), clean(address).strip().lower())
        for display, address in email.utils.getaddresses(raw)
        if address.strip()
    ]


def message_ids(value: str | None) -> list[str]:
    """The ids in a Message-ID, In-Reply-To or References value, brackets removed."""
    if not value:
        return []
    found = _BRACKETED_ID.findall(value)
    if not found:  # some clients forget the brackets
        found = [word for word in re.split(r"[\s,]+", value) if "@" in word]
    return list(dict.fromkeys(found))


def parse_date(value: str | None) -> datetime | None:
    """An aware UTC datetime from a Date value; ``None`` when it cannot be read."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed.tzinfo is None:  # "-0000": UTC, origin unknown (RFC 5322, 3.3)
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, TypeError, OverflowError, IndexError):
        return None


def _decode_raw(value: str) -> str:
    """A raw field: its 8-bit bytes read as UTF-8 or cp1252, each encoded word decoded."""
    unfolded = _ADJACENT_WORDS.sub("", _one_line(value))  # RFC 2047, 6.2
    return _one_line(_ENCODED_WORD.sub(_decode_word, unfolded))


def _decode_word(match: re.Match[str]) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(match.group(0))))
    except Exception:  # an unknown charset, broken base64: keep the word as it came
        return match.group(0)


def _one_line(value: str) -> str:
    return _WHITESPACE.sub(" ", clean(value)).strip()


def _same(key: str, name: str) -> bool:
    return key.lower() == name.lower()
