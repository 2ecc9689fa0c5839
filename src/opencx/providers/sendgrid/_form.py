"""A ``multipart/form-data`` body read as bytes: SendGrid's fields are in several charsets.

Rules:
- every part keeps its bytes exactly as posted: the charsets are decided later, from
  the ``charsets`` field (a web framework would decode every field as UTF-8 and break
  SendGrid's iso-8859-1 bodies);
- a field named twice keeps its first value; a part with no name is skipped;
- a body that is not ``multipart/form-data`` with a boundary, or that is cut short, is
  ``UnreadablePayload``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from opencx.providers.base import UnreadablePayload

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = ["Form", "FormPart", "read_form"]


@dataclass(frozen=True, slots=True)
class FormPart:
    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class Form:
    parts: dict[str, FormPart] = field(default_factory=dict)

    def value(self, name: str) -> bytes | None:
        part = self.parts.get(name)
        return None if part is None else part.data

    def text(self, name: str) -> str:
        """A field SendGrid writes in ASCII or UTF-8 (JSON, addresses, counts)."""
        data = self.value(name)
        return "" if data is None else data.decode("utf-8", errors="replace").strip()


def read_form(body: bytes, content_type: str) -> Form:
    media_type, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise UnreadablePayload(
            "SendGrid posts multipart/form-data with a boundary", field="content-type"
        )
    reader = _Reader()
    try:
        parser = MultipartParser(boundary, reader.callbacks())
        parser.write(body)
        parser.finalize()
    except FormParserError as exc:
        raise UnreadablePayload(f"the form data cannot be read: {exc}") from None
    if not reader.finished:
        raise UnreadablePayload("the form data ends before its closing boundary")
    return Form(reader.parts)


class _Reader:
    """python-multipart's callbacks, collecting each part's headers and bytes."""

    def __init__(self) -> None:
        self.parts: dict[str, FormPart] = {}
        self.finished = False
        self._headers: dict[bytes, bytes] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._data: list[bytes] = []

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_part_data": lambda data, start, end: self._data.append(data[start:end]),
            "on_part_end": self._end,
            "on_end": self._finish,
        }

    def _begin(self) -> None:
        self._headers = {}
        self._data = []

    def _header_end(self) -> None:
        self._headers[bytes(self._field).strip().lower()] = bytes(self._value).strip()
        self._field.clear()
        self._value.clear()

    def _end(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", errors="replace")
        if not name or name in self.parts:
            return
        filename = params.get(b"filename")
        content_type = self._headers.get(b"content-type")
        self.parts[name] = FormPart(
            name=name,
            data=b"".join(self._data),
            filename=None if filename is None else filename.decode("utf-8", errors="replace"),
            content_type=None if content_type is None else content_type.decode("latin-1"),
        )

    def _finish(self) -> None:
        self.finished = True
