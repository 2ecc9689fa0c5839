"""Lifecycles held as data: each table maps a state to the states it may move to.

Rules:
- a move not in the table raises ``IllegalTransition`` and changes nothing;
- a terminal state maps to an empty set;
- the interaction table also names the timestamp each entered state stamps.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from opencx.core.enums import ConversationStatus, InteractionState, PresenceState
from opencx.core.errors import IllegalTransition

__all__ = [
    "CONVERSATION_TRANSITIONS",
    "INTERACTION_STAMPS",
    "INTERACTION_TRANSITIONS",
    "PRESENCE_TRANSITIONS",
    "check_transition",
]

S = TypeVar("S", bound=StrEnum)

_I = InteractionState
INTERACTION_TRANSITIONS: Mapping[InteractionState, frozenset[InteractionState]] = {
    _I.CREATED: frozenset({_I.QUEUED, _I.OFFERED, _I.ACTIVE, _I.ENDED, _I.ABANDONED}),
    _I.QUEUED: frozenset({_I.OFFERED, _I.ACTIVE, _I.ABANDONED, _I.ENDED}),
    _I.OFFERED: frozenset({_I.ACTIVE, _I.QUEUED, _I.ABANDONED}),
    _I.ACTIVE: frozenset({_I.HELD, _I.WRAP_UP, _I.ENDED, _I.QUEUED}),
    _I.HELD: frozenset({_I.ACTIVE, _I.WRAP_UP, _I.ENDED}),
    _I.WRAP_UP: frozenset({_I.ENDED}),
    _I.ENDED: frozenset(),
    _I.ABANDONED: frozenset(),
}

#: The timestamp column an interaction stamps when it enters a state (first time only).
INTERACTION_STAMPS: Mapping[InteractionState, str] = {
    _I.QUEUED: "queued_at",
    _I.OFFERED: "offered_at",
    _I.ACTIVE: "answered_at",
    _I.WRAP_UP: "ended_at",
    _I.ENDED: "ended_at",
    _I.ABANDONED: "ended_at",
}

_P = PresenceState
PRESENCE_TRANSITIONS: Mapping[PresenceState, frozenset[PresenceState]] = {
    _P.OFFLINE: frozenset({_P.AVAILABLE, _P.NOT_READY}),
    _P.AVAILABLE: frozenset({_P.NOT_READY, _P.OFFLINE}),
    # NOT_READY -> NOT_READY changes the reason code (break -> lunch).
    _P.NOT_READY: frozenset({_P.AVAILABLE, _P.NOT_READY, _P.OFFLINE}),
}

_C = ConversationStatus
CONVERSATION_TRANSITIONS: Mapping[ConversationStatus, frozenset[ConversationStatus]] = {
    _C.OPEN: frozenset({_C.PENDING, _C.RESOLVED, _C.CLOSED}),
    _C.PENDING: frozenset({_C.OPEN, _C.RESOLVED, _C.CLOSED}),
    _C.RESOLVED: frozenset({_C.OPEN, _C.CLOSED}),
    _C.CLOSED: frozenset({_C.OPEN}),
}


def check_transition(table: Mapping[S, frozenset[S]], current: S, target: S) -> None:
    """Raise ``IllegalTransition`` unless ``current -> target`` is in ``table``."""
    if target not in table[current]:
        raise IllegalTransition(
            f"cannot go from {current.value!r} to {target.value!r}",
            current=current.value,
            target=target.value,
            allowed=sorted(s.value for s in table[current]),
        )
