"""Opaque cursors for lists ordered by an instant, then by id (newest activity first,
oldest wait first): the cursor holds the last row's pair, and the next page starts
strictly after it, so rows added meanwhile neither repeat nor shift the page."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from opencx.core.errors import InvalidInput
from opencx.core.ids import MAX_BIG_ID

__all__ = ["decode_position", "encode_position"]

_FORGED = "the cursor is not one this API returned"


def encode_position(at: datetime, row_id: int) -> str:
    """The cursor after the row at ``(at, row_id)``; ``at`` is aware."""
    data = {"at": at.astimezone(UTC).isoformat(), "id": row_id}
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(cursor: str) -> tuple[datetime, int]:
    """``(at, row_id)`` of the row the next page follows; ``InvalidInput`` for a cursor
    this API did not write."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        at = datetime.fromisoformat(data["at"])
        row_id = data["id"]
        if at.tzinfo is None:
            raise ValueError("a naive instant")
        at = at.astimezone(UTC)
    except (
        binascii.Error,
        ValueError,
        KeyError,
        TypeError,
        UnicodeError,
        OverflowError,
    ) as exc:
        raise InvalidInput(_FORGED, field="cursor") from exc
    if not isinstance(row_id, int) or isinstance(row_id, bool) or not 0 <= row_id <= MAX_BIG_ID:
        raise InvalidInput(_FORGED, field="cursor")
    return at, row_id
