"""SendGrid's parsed fields (its default payload) put back together as one MIME message.

Why rebuild rather than read the fields one by one: ``opencx.providers.email`` already
knows what an e-mail means for us (threading headers, automatic replies and bounces,
quoted replies, HTML-only bodies, inline images, mislabelled charsets). A message
rebuilt from SendGrid's parts goes through exactly that, so the raw mode, the parsed
mode and our own SMTP server read mail the same way.

Rules:
- ``headers`` (the original header block) gives every header field except those that
  describe the original body (Content-Type, Content-Transfer-Encoding, MIME-Version);
- ``text`` and ``html`` keep their bytes, labelled with the charset that the ``charsets``
  field names for them (UTF-8 when it names none): SendGrid posts them in the message's
  own charset, and the e-mail reader decodes them with its fallbacks;
- every file ``attachmentN`` is an attachment, named and typed by ``attachment-info``
  (else by the part), inline when it has a Content-ID (from ``attachment-info`` or
  ``content-ids``); every value taken from the form is checked before it is written
  into a header;
- the rebuilt bytes depend on the fields only (boundaries are derived from them): a
  repeated post gives the same message, and the same id when it has no Message-ID.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from opencx.providers.sendgrid._form import Form, FormPart

__all__ = ["rebuild_message"]

CRLF = b"\r\n"
_BODY_FIELDS = frozenset({b"content-type", b"content-transfer-encoding", b"mime-version"})
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,127}")
_CHARSET = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
_CONTENT_ID = re.compile(r"[\x21-\x3b\x3d\x3f-\x7e]{1,250}")  # printable, no < > or space
_ATTACHMENT = re.compile(r"attachment([0-9]{1,5})")
_LINE_BREAK = re.compile(rb"\r\n|\n|\r")


def rebuild_message(form: Form) -> bytes:
    """The RFC 5322 message that SendGrid parsed into ``form`` (which has ``headers``)."""
    charsets = _json_object(form.text("charsets"))
    files = _files(form)
    digest = _digest(form, files)
    body = _body(form, charsets, boundary=f"opencx-alt-{digest}")
    if files:
        info = _json_object(form.text("attachment-info"))
        content_ids = _content_ids(form)
        parts = [body, *(_attachment(part, info.get(part.name), content_ids) for part in files)]
        body = _multipart("mixed", f"opencx-mixed-{digest}", parts)
    return _header_block(form.value("headers") or b"") + b"MIME-Version: 1.0" + CRLF + body


def _header_block(raw: bytes) -> bytes:
    """The header fields of ``raw``, folded lines kept, each ending in CRLF."""
    fields: list[list[bytes]] = []
    for line in _LINE_BREAK.split(raw.strip(b"\r\n")):
        if not line.strip():
            break  # the end of the header block
        if line[:1] in (b" ", b"\t"):
            if fields:
                fields[-1].append(line)
        elif b":" in line:
            fields.append([line])
    kept = [f for f in fields if f[0].split(b":", 1)[0].strip().lower() not in _BODY_FIELDS]
    return b"".join(CRLF.join(lines) + CRLF for lines in kept)


def _body(form: Form, charsets: dict[str, Any], *, boundary: str) -> bytes:
    texts = [
        _entity([f'Content-Type: text/{subtype}; charset="{_charset(charsets, name)}"'], data)
        for name, subtype in (("text", "plain"), ("html", "html"))
        if (data := form.value(name)) is not None
    ]
    if not texts:
        return _entity(['Content-Type: text/plain; charset="utf-8"'], b"")
    return texts[0] if len(texts) == 1 else _multipart("alternative", boundary, texts)


def _charset(charsets: dict[str, Any], name: str) -> str:
    declared = charsets.get(name)
    if isinstance(declared, str) and _CHARSET.fullmatch(declared.strip()):
        return declared.strip()
    return "utf-8"


def _files(form: Form) -> list[FormPart]:
    numbered = [
        (int(match.group(1)), part)
        for name, part in form.parts.items()
        if (match := _ATTACHMENT.fullmatch(name))
    ]
    return [part for _, part in sorted(numbered, key=lambda item: item[0])]


def _attachment(part: FormPart, info: Any, content_ids: dict[str, str]) -> bytes:
    details = info if isinstance(info, dict) else {}
    content_id = _content_id(details.get("content-id") or content_ids.get(part.name))
    filename = _text(details.get("filename")) or _text(details.get("name")) or part.filename
    disposition = "inline" if content_id else "attachment"
    if filename:
        disposition += f"; filename*=utf-8''{quote(filename, safe='')}"
    headers = [
        f"Content-Type: {_media_type(details.get('type'), part.content_type)}",
        f"Content-Disposition: {disposition}",
    ]
    if content_id:
        headers.append(f"Content-ID: <{content_id}>")
    return _entity(headers, part.data)


def _media_type(*candidates: Any) -> str:
    for candidate in candidates:
        if isinstance(candidate, str):
            media_type = candidate.split(";", 1)[0].strip().lower()
            if _MEDIA_TYPE.fullmatch(media_type):
                return media_type
    return "application/octet-stream"


def _content_ids(form: Form) -> dict[str, str]:
    """``content-ids`` maps each Content-ID to its field; we want it the other way."""
    mapping = _json_object(form.text("content-ids"))
    return {field: cid for cid, field in mapping.items() if isinstance(field, str)}


def _content_id(value: Any) -> str | None:
    text = _text(value)
    cid = text.strip().strip("<>") if text else ""
    return cid if _CONTENT_ID.fullmatch(cid) else None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _entity(headers: Iterable[str], data: bytes) -> bytes:
    """One body part, base64-encoded: every byte goes through unchanged."""
    lines = [*headers, "Content-Transfer-Encoding: base64"]
    head = CRLF.join(line.encode("ascii") for line in lines)
    return head + CRLF + CRLF + base64.encodebytes(data).replace(b"\n", CRLF)


def _multipart(subtype: str, boundary: str, parts: Iterable[bytes]) -> bytes:
    delimiter = b"--" + boundary.encode("ascii")
    body = b"".join(delimiter + CRLF + part + CRLF for part in parts) + delimiter + b"--" + CRLF
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"'.encode() + CRLF * 2 + body


def _digest(form: Form, files: list[FormPart]) -> str:
    """A boundary no part can contain: it is derived from all of them."""
    digest = hashlib.sha256()
    for data in (form.value("headers"), form.value("text"), form.value("html")):
        digest.update(b"%d:" % len(data or b"") + (data or b""))
    for part in files:
        digest.update(b"%d:" % len(part.data) + part.data)
    return digest.hexdigest()[:32]


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
