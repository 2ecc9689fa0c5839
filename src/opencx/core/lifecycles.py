"""Lifecycles held as data: each table maps a state to the states it may move to.

This module is the only place a transition of an interaction, a routing task, a
reservation, an agent's presence, a conversation or a help request is defined; the router and the
services that write these rows ask it before they change anything.

Rules:
- a move not in the table raises ``IllegalTransition`` and changes nothing;
- a terminal state maps to an empty set; every state is reachable from the initial one;
- the interaction table also names the timestamp each entered state stamps;
- a routing task moves on events (``TASK_EVENTS``: what happened decides where it goes,
  since ``waiting`` is reached both by an offer that ended and by a transfer);
  ``TASK_TRANSITIONS`` is derived from it;
- a reservation is created ``pending``; it is live while pending or accepted, and a
  task has at most one live reservation.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from opencx.core.enums import (
    ConversationStatus,
    HelpRequestState,
    InteractionState,
    PresenceState,
    ReservationState,
    TaskStatus,
)
from opencx.core.errors import IllegalTransition

__all__ = [
    "CONVERSATION_TRANSITIONS",
    "HELP_REQUEST_TRANSITIONS",
    "INTERACTION_STAMPS",
    "INTERACTION_TRANSITIONS",
    "LIVE_RESERVATION_STATES",
    "LIVE_TASK_STATUSES",
    "PRESENCE_TRANSITIONS",
    "RESERVATION_TRANSITIONS",
    "ROUTED_TASK_STATUSES",
    "TASK_EVENTS",
    "TASK_TRANSITIONS",
    "TaskEvent",
    "check_transition",
    "next_status",
]

S = TypeVar("S", bound=StrEnum)

_I = InteractionState
INTERACTION_TRANSITIONS: Mapping[InteractionState, frozenset[InteractionState]] = {
    _I.CREATED: frozenset({_I.QUEUED, _I.OFFERED, _I.ACTIVE, _I.ENDED, _I.ABANDONED}),
    _I.QUEUED: frozenset({_I.OFFERED, _I.ACTIVE, _I.ABANDONED, _I.ENDED}),
    _I.OFFERED: frozenset({_I.ACTIVE, _I.QUEUED, _I.ABANDONED}),
    _I.ACTIVE: frozenset({_I.HELD, _I.WRAP_UP, _I.ENDED, _I.QUEUED}),
    # HELD -> QUEUED: a contact on hold is transferred (blind) without being resumed.
    _I.HELD: frozenset({_I.ACTIVE, _I.WRAP_UP, _I.ENDED, _I.QUEUED}),
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


class TaskEvent(StrEnum):
    """What happens to a routing task; ``TASK_EVENTS`` says where each one leads."""

    SUBMIT = "submit"  # the router takes it in
    REFUSE = "refuse"  # the router cannot take it in (its destination is unknown…)
    OFFER = "offer"
    END_OFFER = "end_offer"  # rejected, timed out or rescinded
    ACCEPT = "accept"
    TRANSFER = "transfer"
    COMPLETE = "complete"
    CANCEL = "cancel"  # the customer left while waiting or being offered
    FALLBACK = "fallback"  # no target could take it


_T = TaskStatus
_E = TaskEvent
TASK_EVENTS: Mapping[TaskStatus, Mapping[TaskEvent, TaskStatus]] = {
    _T.NEW: {_E.SUBMIT: _T.WAITING, _E.REFUSE: _T.REFUSED},
    _T.WAITING: {_E.OFFER: _T.RESERVED, _E.CANCEL: _T.CANCELED, _E.FALLBACK: _T.FALLBACK},
    _T.RESERVED: {_E.ACCEPT: _T.ASSIGNED, _E.END_OFFER: _T.WAITING, _E.CANCEL: _T.CANCELED},
    _T.ASSIGNED: {_E.TRANSFER: _T.WAITING, _E.COMPLETE: _T.COMPLETED},
    _T.COMPLETED: {},
    _T.CANCELED: {},
    _T.FALLBACK: {},
    _T.REFUSED: {},
}

TASK_TRANSITIONS: Mapping[TaskStatus, frozenset[TaskStatus]] = {
    status: frozenset(events.values()) for status, events in TASK_EVENTS.items()
}

#: The statuses the router holds a task in (it restarts from these rows).
ROUTED_TASK_STATUSES = frozenset({_T.WAITING, _T.RESERVED, _T.ASSIGNED})
#: A task in one of these still routes its interaction: only the router moves it.
LIVE_TASK_STATUSES = ROUTED_TASK_STATUSES | {_T.NEW}

_R = ReservationState
RESERVATION_TRANSITIONS: Mapping[ReservationState, frozenset[ReservationState]] = {
    _R.PENDING: frozenset({_R.ACCEPTED, _R.REJECTED, _R.TIMED_OUT, _R.RESCINDED, _R.CANCELED}),
    # An accepted task leaves its agent when completed or transferred.
    _R.ACCEPTED: frozenset({_R.COMPLETED}),
    _R.REJECTED: frozenset(),
    _R.TIMED_OUT: frozenset(),
    _R.RESCINDED: frozenset(),
    _R.CANCELED: frozenset(),
    _R.COMPLETED: frozenset(),
}

LIVE_RESERVATION_STATES = frozenset({_R.PENDING, _R.ACCEPTED})

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

_H = HelpRequestState
HELP_REQUEST_TRANSITIONS: Mapping[HelpRequestState, frozenset[HelpRequestState]] = {
    _H.OPEN: frozenset({_H.ANSWERED}),
    _H.ANSWERED: frozenset(),
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


def next_status(task: TaskStatus, event: TaskEvent) -> TaskStatus:
    """Where ``event`` takes a task in ``task``; ``IllegalTransition`` if nowhere."""
    try:
        return TASK_EVENTS[task][event]
    except KeyError:
        raise IllegalTransition(
            f"a {task.value} task cannot {event.value.replace('_', ' ')}",
            current=task.value,
            event=event.value,
            allowed=sorted(e.value for e in TASK_EVENTS[task]),
        ) from None
