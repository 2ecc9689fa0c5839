"""Reading Meta's JSON: typed accessors that turn any surprise into ``UnreadablePayload``.

Every parser in this package reads the payload through these helpers, so a field of the
wrong type is refused with a message naming it, never a ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from opencx.channels.base import UnreadablePayload

__all__ = [
    "EXTENSIONS",
    "PROVIDER",
    "Json",
    "from_millis",
    "from_seconds",
    "load_object",
    "obj",
    "objects",
    "opt_obj",
    "opt_text",
    "text",
]

PROVIDER = "meta"

#: File extensions of the media types Meta delivers: enough to name a downloaded file
#: and to guess a type from a URL; not a MIME database (``mimetypes`` reads system files).
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "audio/mp4": ".m4a",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "video/3gpp": ".3gp",
    "video/mp4": ".mp4",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_DIGITS = 20  # far past year 9999 in milliseconds; bounds int() on hostile input

Json = Mapping[str, Any]


def load_object(raw_body: bytes) -> Json:
    """The body as a JSON object; ``UnreadablePayload`` when it is anything else."""
    try:
        data = json.loads(raw_body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise UnreadablePayload("the webhook body is not JSON") from None
    return obj(data, "the webhook body")


def obj(value: Any, what: str) -> Json:
    if not isinstance(value, dict):
        raise UnreadablePayload(f"{what} is not a JSON object")
    return value


def opt_obj(parent: Json, key: str) -> Json | None:
    value = parent.get(key)
    return None if value is None else obj(value, repr(key))


def objects(parent: Json, key: str) -> list[Json]:
    """The objects listed under ``key``; none when the key is absent."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise UnreadablePayload(f"{key!r} is not a list")
    return [obj(item, f"an item of {key!r}") for item in value]


def text(parent: Json, key: str) -> str:
    """A required, non-empty string."""
    value = parent.get(key)
    if not isinstance(value, str) or not value:
        raise UnreadablePayload(f"{key!r} is missing or not a string")
    return value


def opt_text(parent: Json, key: str) -> str | None:
    value = parent.get(key)
    if value is None or isinstance(value, str):
        return value
    raise UnreadablePayload(f"{key!r} is not a string")


def from_seconds(value: Any, what: str) -> datetime:
    """A Unix time in seconds (WhatsApp sends it as a string of digits)."""
    return _from_unix(value, what, unit_ms=1000)


def from_millis(value: Any, what: str) -> datetime:
    """A Unix time in milliseconds (Messenger and Instagram)."""
    return _from_unix(value, what, unit_ms=1)


def _from_unix(value: Any, what: str, *, unit_ms: int) -> datetime:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise UnreadablePayload(f"{what} is not a Unix timestamp")
    try:
        return _EPOCH + timedelta(milliseconds=value * unit_ms)
    except OverflowError:
        raise UnreadablePayload(f"{what} is out of range") from None
