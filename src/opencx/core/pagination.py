"""Opaque cursors for keyset pagination over ascending integer ids."""

from __future__ import annotations

import base64
import binascii
import json

from opencx.core.errors import InvalidInput
from opencx.core.ids import MAX_BIG_ID

__all__ = ["decode_cursor", "encode_cursor"]


def encode_cursor(last_id: int) -> str:
    raw = json.dumps({"after": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id after which the next page starts; ``InvalidInput`` for a forged cursor."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = data["after"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeError) as exc:
        raise InvalidInput("the cursor is not one this API returned", field="cursor") from exc
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_BIG_ID:
        raise InvalidInput("the cursor is not one this API returned", field="cursor")
    return after
