"""Domain events as JSON: one shape for the WebSocket protocol and for the bus between nodes.

An event is a JSON object with ISO 8601 timestamps (UTC offset included). A bus message
is an envelope ``{"v": 1, "node": "<node id>", "events": [...]}`` carrying the events one
transaction committed, in order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opencx.core.events import DomainEvent, EventType

__all__ = [
    "ENVELOPE_VERSION",
    "Envelope",
    "decode_envelope",
    "dumps",
    "encode_envelope",
    "event_from_json",
    "event_to_json",
]

ENVELOPE_VERSION = 1


def event_to_json(event: DomainEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type.value,
        "entity_kind": event.entity_kind,
        "entity_id": event.entity_id,
        "site_id": event.site_id,
        "actor_user_id": event.actor_user_id,
        "occurred_at": event.occurred_at.isoformat(),
        "payload": event.payload,
    }


def event_from_json(data: Mapping[str, Any]) -> DomainEvent:
    """The inverse of ``event_to_json``; raises ``ValueError`` on a malformed event."""
    try:
        occurred_at = datetime.fromisoformat(data["occurred_at"])
        if occurred_at.tzinfo is None:
            raise ValueError("occurred_at has no UTC offset")
        payload = data.get("payload") or {}
        if not isinstance(payload, dict):
            raise ValueError("payload is not an object")
        return DomainEvent(
            type=EventType(data["type"]),
            entity_kind=str(data["entity_kind"]),
            entity_id=int(data["entity_id"]),
            occurred_at=occurred_at,
            payload=payload,
            actor_user_id=_optional_int(data.get("actor_user_id")),
            site_id=_optional_int(data.get("site_id")),
            id=_optional_int(data.get("id")),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed event: {exc!r}") from None


@dataclass(frozen=True, slots=True)
class Envelope:
    """What one node sent: its id (so it can ignore its own echo) and the events."""

    node: str
    events: tuple[DomainEvent, ...]


def encode_envelope(node: str, events: Sequence[DomainEvent]) -> bytes:
    body = {"v": ENVELOPE_VERSION, "node": node, "events": [event_to_json(e) for e in events]}
    return dumps(body).encode()


def dumps(message: Any) -> str:
    """Compact JSON; values JSON cannot hold (datetimes, enums) become strings."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=_fallback)


def decode_envelope(data: bytes | str) -> Envelope:
    """Parse a bus message; raises ``ValueError`` when it is not one of ours."""
    body = json.loads(data)
    if not isinstance(body, dict) or body.get("v") != ENVELOPE_VERSION:
        raise ValueError("not an OpenCX event envelope")
    node, events = body.get("node"), body.get("events")
    if not isinstance(node, str) or not isinstance(events, list):
        raise ValueError("envelope without node or events")
    return Envelope(node, tuple(event_from_json(item) for item in events))


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _fallback(value: Any) -> str:
    # Payloads are JSON already when read back from the log; this covers values a
    # service put in before the commit (datetimes, enums, decimals).
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
