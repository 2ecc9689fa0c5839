"""Reading Meta's JSON: the shared accessors (``opencx.providers.json_fields``), Meta's
Unix times, and the media types Meta delivers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from opencx.providers import json_fields
from opencx.providers.base import UnreadablePayload
from opencx.providers.json_fields import Json, obj, objects, opt_obj, opt_text, text

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


def load_object(raw_body: bytes) -> Json:
    """The body as a JSON object; ``UnreadablePayload`` when it is anything else."""
    return json_fields.load_object(raw_body, "the webhook body")


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
