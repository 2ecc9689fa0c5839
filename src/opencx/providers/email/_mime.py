"""The MIME tree of a message to a text body, an HTML body and attachments.

Rules:
- a ``text/plain`` or ``text/html`` leaf with no file name and no ``attachment``
  disposition is body; every other leaf is an attachment, with its decoded bytes;
- in ``multipart/alternative`` the text comes from the first plain alternative and the
  HTML from the last (most faithful) one; other multiparts concatenate their bodies (Apple
  Mail puts text, image, text in a ``multipart/mixed``);
- an attached message (``message/rfc822``, a delivery-status report) is one attachment,
  not opened as body; the recipients of a delivery-status report and the Message-ID of
  the returned message are kept for bounce handling;
- an attachment with a Content-ID and no ``attachment`` disposition is ``inline`` (an
  image the HTML shows); file names are decoded (RFC 2231, RFC 2047), reduced to their
  last path component and bounded; a missing one is made up from the content type;
- a part that cannot be read is recorded as a defect and kept as an
  ``application/octet-stream`` attachment with whatever bytes it has, never raised; a
  base64 payload cut short is decoded up to its last whole group;
- ``format=flowed`` plain text is unflowed (RFC 3676);
- the walk stops at the bounds of ``_limits``: past ``max_parts`` parts or
  ``max_depth`` nested multiparts, the rest is not read and the defect is recorded.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass, field
from email.errors import InvalidBase64LengthDefect
from email.message import Message

from opencx.providers.base import InboundAttachment
from opencx.providers.email._headers import message_ids
from opencx.providers.email._limits import DEFAULT_LIMITS, ParseLimits
from opencx.providers.email._text import clean, decode_bytes, unflow

__all__ = ["Content", "read_content"]

MAX_FILENAME = 255
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/gif": ".gif",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "message/rfc822": ".eml",
    "text/calendar": ".ics",
    "text/html": ".html",
    "text/plain": ".txt",
    "text/rfc822-headers": ".txt",
}
_NAMES = {
    "message/delivery-status": "delivery-status.txt",
    "message/rfc822": "message.eml",
    "text/rfc822-headers": "headers.txt",
}
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_MESSAGE_ID = re.compile(r"^Message-ID\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f]")
_DELIVERY_FIELDS = ("Final-Recipient", "Action", "Status", "Diagnostic-Code")


@dataclass(slots=True)
class Content:
    """What the MIME tree held, and the defects met on the way (names, in order)."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[InboundAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    delivery: list[dict[str, str]] = field(default_factory=list)
    returned_message_id: str | None = None

    def merge(self, other: Content) -> None:
        self.attachments.extend(other.attachments)
        self.defects.extend(other.defects)
        self.delivery.extend(other.delivery)
        self.returned_message_id = self.returned_message_id or other.returned_message_id


@dataclass(slots=True)
class _Walk:
    """The bounds of one walk through a MIME tree, and the parts visited so far."""

    limits: ParseLimits
    parts: int = 0

    def refuses(self, depth: int, defects: list[str]) -> bool:
        """Whether the walk stops before a part at ``depth`` (its defect recorded once)."""
        if depth > self.limits.max_depth:
            defects.append("TooDeeplyNested")
            return True
        self.parts += 1
        if self.parts == self.limits.max_parts + 1:
            defects.append("TooManyParts")
        return self.parts > self.limits.max_parts


def read_content(message: Message, limits: ParseLimits = DEFAULT_LIMITS) -> Content:
    """Body texts, attachments and defects of ``message``'s MIME tree."""
    content = Content()
    _visit(message, content, _Walk(limits), depth=0)
    return content


def _visit(part: Message, content: Content, walk: _Walk, *, depth: int) -> None:
    if walk.refuses(depth, content.defects):
        return
    try:
        _visit_part(part, content, walk, depth=depth)
    except Exception:  # one unreadable part must not lose the others: keep its bytes
        content.defects.append(f"UnreadablePart:{_safe_type(part)}")
        index = len(content.attachments) + 1
        content.attachments.append(
            InboundAttachment(
                filename=f"attachment-{index}.bin",
                content_type="application/octet-stream",
                data=_payload_bytes(part),
            )
        )
    # after reading: decoding the payload records its own defects on the part
    content.defects.extend(type(defect).__name__ for defect in part.defects)


def _visit_part(part: Message, content: Content, walk: _Walk, *, depth: int) -> None:
    maintype, children = part.get_content_maintype(), _children(part)
    if maintype == "multipart" and children is not None:
        if part.get_content_subtype() == "alternative":
            _visit_alternative(children, content, walk, depth=depth)
        else:
            for child in children:
                _visit(child, content, walk, depth=depth + 1)
    elif maintype == "multipart":  # no boundary, or none found: read it as text
        content.plain.append(_text(part, content.defects))
    elif maintype == "message" and children is not None:
        _add_attached_message(part, children, content)
    elif _is_body(part):
        _add_body(part, content)
    else:
        _add_attachment(part, _payload_bytes(part), content)


def _children(part: Message) -> list[Message] | None:
    """The sub-messages of a container part; ``None`` when its payload is not parsed."""
    if not part.is_multipart():
        return None
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)]


def _visit_alternative(
    children: list[Message], content: Content, walk: _Walk, *, depth: int
) -> None:
    alternatives = []
    for child in children:
        alternative = Content()
        _visit(child, alternative, walk, depth=depth + 1)
        alternatives.append(alternative)
        content.merge(alternative)
    plain = next((a.plain for a in alternatives if any(t.strip() for t in a.plain)), [])
    html = next((a.html for a in reversed(alternatives) if a.html), [])
    content.plain.extend(plain)
    content.html.extend(html)


def _is_body(part: Message) -> bool:
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and not _raw_filename(part)
    )


def _add_body(part: Message, content: Content) -> None:
    text = _text(part, content.defects)
    if part.get_content_subtype() == "html":
        content.html.append(text)
    else:
        content.plain.append(text)


def _text(part: Message, defects: list[str]) -> str:
    data = _payload_bytes(part)
    declared = part.get_content_charset()
    if declared is None and part.get_content_subtype() == "html":
        declared = _meta_charset(data)
    text, exact = decode_bytes(data, declared)
    if not exact:
        defects.append(f"CharsetFallback:{clean(declared or 'none')[:40]}")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if str(part.get_param("format", "")).lower() == "flowed":
        delsp = str(part.get_param("delsp", "")).lower() == "yes"
        text = unflow(text, delsp=delsp)
    return text


def _add_attached_message(part: Message, payload: list[Message], content: Content) -> None:
    if part.get_content_type() == "message/delivery-status":
        blocks = (_delivery_fields(block) for block in payload)
        content.delivery.extend(block for block in blocks if "final_recipient" in block)
    data = b"".join(_message_bytes(message) for message in payload)
    if part.get_content_type() in ("message/rfc822", "message/global") and payload:
        _note_returned_id(payload[0].get("Message-ID"), content)
    _add_attachment(part, data, content)


def _add_attachment(part: Message, data: bytes, content: Content) -> None:
    content_type = part.get_content_type()
    if content_type == "text/rfc822-headers":
        match = _HEADER_MESSAGE_ID.search(data.decode("utf-8", errors="replace"))
        _note_returned_id(match.group(1) if match else None, content)
    content_id = _content_id(part.get("Content-ID"))
    content.attachments.append(
        InboundAttachment(
            filename=_filename(part, len(content.attachments) + 1),
            content_type=content_type,
            data=data,
            content_id=content_id,
            inline=content_id is not None and part.get_content_disposition() != "attachment",
        )
    )


def _payload_bytes(part: Message) -> bytes:
    """The decoded payload, else the payload as it came, else nothing: never raises."""
    for decode in (True, False):
        data = _try_payload(part, decode=decode)
        if isinstance(data, bytes) and _truncated_base64(part):
            return _base64_prefix(data)
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return clean(data).encode()
    return b""


def _truncated_base64(part: Message) -> bool:
    return any(isinstance(defect, InvalidBase64LengthDefect) for defect in part.defects)


def _base64_prefix(encoded: bytes) -> bytes:
    """What a cut base64 payload holds up to its last whole 4-character group."""
    compact = re.sub(rb"[^A-Za-z0-9+/]", b"", encoded)
    try:
        return base64.b64decode(compact[: len(compact) // 4 * 4])
    except binascii.Error:  # cannot happen on that alphabet; keep the bytes as they came
        return encoded


def _try_payload(part: Message, *, decode: bool) -> object:
    try:
        return part.get_payload(decode=True) if decode else part.get_payload()
    except Exception:  # a malformed transfer encoding or charset parameter
        return None


def _message_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes()
    except Exception:  # a malformed attached message: keep what can be written back
        return clean(str(message.get_payload())).encode()


def _delivery_fields(block: Message) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name in _DELIVERY_FIELDS:
        value = block.get(name)
        if value is not None:
            fields[name.lower().replace("-", "_")] = " ".join(clean(str(value)).split())
    if "final_recipient" in fields:  # "rfc822; jane@example.com": the address is enough
        fields["final_recipient"] = fields["final_recipient"].rpartition(";")[2].strip().lower()
    return fields


def _note_returned_id(value: object, content: Content) -> None:
    ids = message_ids(clean(str(value))) if value else []
    if ids and content.returned_message_id is None:
        content.returned_message_id = ids[0]


def _content_id(value: object) -> str | None:
    if value is None:
        return None
    content_id = clean(str(value)).strip().strip("<>").strip()
    return content_id or None


def _filename(part: Message, index: int) -> str:
    name = unicodedata.normalize("NFC", _raw_filename(part))  # macOS sends NFD
    name = _UNSAFE_IN_NAME.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if name in ("", ".", ".."):
        content_type = part.get_content_type()
        extension = _EXTENSIONS.get(content_type, ".bin")
        return _NAMES.get(content_type, f"attachment-{index}{extension}")
    if len(name) > MAX_FILENAME:
        _, dot, extension = name.rpartition(".")
        keep = extension[:16] if dot else ""
        name = f"{name[: MAX_FILENAME - len(keep) - 1]}.{keep}" if keep else name[:MAX_FILENAME]
    return name


def _raw_filename(part: Message) -> str:
    try:
        return clean(part.get_filename() or "")
    except Exception:  # an RFC 2231 name in an unknown charset, a malformed parameter
        return ""


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def _safe_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # the type itself was unreadable
        return "unknown"
