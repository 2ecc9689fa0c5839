"""What a supervisor's live view shows of the queues and of the agents' work: who waits
in each visible queue and since when, and which contacts each agent has in hand.

Rules:
- a contact **waits** in a queue while its interaction is ``queued`` or ``offered`` (an
  offer may still be declined) with that queue as its ``queue_id``; the view holds the
  waiting contacts of the queues it shows, by interaction;
- it waits **since** ``waiting_since``: when it first queued (``queued_at``), else when
  it was first offered, else when it arrived. Events carry it (``waiting_since`` in
  ``interaction.*`` and ``task.updated`` payloads, present while the contact waits), so
  the view never guesses it from an event's time;
- ``interaction.created`` / ``interaction.state_changed``: a waiting state in a queue
  shown adds or moves the contact; any other state, or another queue, removes it;
- ``task.updated`` (a routing step: the waiting task moved to ``queue_id``): with
  ``waiting_since``, the contact waits there now (or leaves the view for a queue it
  does not show); without it the contact is not waiting and nothing changes;
- an agent **has a contact in hand** from the moment they accept its offer
  (``reservation.updated``, ``state: accepted``) until that reservation ends in any
  other state, or its task ends (``task.ended``);
- ``queue.changed`` of a queue shown (or of a site the viewer sees) asks for a resync:
  the event does not carry the queue's name, site or channel (nor its thresholds);
- a queue's **members** are the agents shown whom routing's membership rule takes
  (``core.routing.membership``), each with the slots they offer on its channel (their
  capacity there); a member is **busy** with a contact in hand, else **available** when
  their presence is available, else **away** (not ready); offline members are not
  counted. A member is **free** when available with fewer contacts in hand than slots;
- the **estimated wait** of a newcomer is routing's formula
  (``core.routing.wait_time.wait_at_position``) at place ``waiting + 1`` with those free
  members, the slots of the members logged in, and an average handle time: the queue's
  AHT of the day (``core.kpis.aht``, from the interval report) where known, else its
  expected handle time; ``None`` when no member is logged in. The view holds only the
  expected time (configuration): a measured AHT moves without events, so the cockpit
  brings it from the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opencx.core._live_people import instant
from opencx.core.alerts import Thresholds, thresholds_json
from opencx.core.enums import InteractionState, PresenceState
from opencx.core.events import DomainEvent, EventType
from opencx.core.routing.wait_time import wait_at_position

__all__ = [
    "WAITING_STATES",
    "QueueStatus",
    "Staffing",
    "WaitingContact",
    "apply_handling",
    "apply_waiting",
    "estimated_wait",
    "handling_relevant",
    "queue_json",
    "staffing",
    "waiting_relevant",
    "waiting_since",
]

#: The interaction states in which a contact waits in its queue.
WAITING_STATES = frozenset({InteractionState.QUEUED, InteractionState.OFFERED})

_E = EventType
_INTERACTION = frozenset({_E.INTERACTION_CREATED, _E.INTERACTION_STATE_CHANGED})
_RESERVATIONS = frozenset({_E.RESERVATION_CREATED, _E.RESERVATION_UPDATED})


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """A queue the supervisor sees."""

    queue_id: int
    name: str
    site_id: int | None
    channel: str
    service_level_seconds: int
    #: agent id: the slots they offer on the queue's channel (``staffing``)
    members: Mapping[int, int] = field(default_factory=dict)
    expected_handle_seconds: float = 300.0
    thresholds: Thresholds = field(default_factory=Thresholds)


@dataclass(frozen=True, slots=True)
class Staffing:
    """A queue's members by state, and what routing's wait estimate needs of them."""

    available: int = 0
    busy: int = 0
    away: int = 0
    free: int = 0
    slots: int = 0


def staffing(members: Iterable[tuple[PresenceState, int, int]]) -> Staffing:
    """The members of a queue, each as ``(presence, contacts in hand, slots)``, counted
    by the rules above."""
    available = busy = away = free = slots = 0
    for presence, in_hand, offered in members:
        if presence is PresenceState.OFFLINE:
            continue
        slots += offered
        if in_hand > 0:
            busy += 1
        elif presence is PresenceState.AVAILABLE:
            available += 1
        else:
            away += 1
        free += presence is PresenceState.AVAILABLE and in_hand < offered
    return Staffing(available, busy, away, free, slots)


def estimated_wait(
    queue: QueueStatus, staffed: Staffing, waiting: int, *, aht: float | None = None
) -> float | None:
    """Seconds a newcomer to ``queue`` should wait, by routing's formula, with ``aht``
    (the day's) or else the queue's expected handle time."""
    handle = aht if aht is not None else queue.expected_handle_seconds
    return wait_at_position(waiting + 1, free=staffed.free, slots=staffed.slots, aht=handle)


@dataclass(frozen=True, slots=True)
class WaitingContact:
    """A contact waiting in a queue shown, by its interaction."""

    interaction_id: int
    queue_id: int
    since: datetime


def waiting_since(
    state: InteractionState,
    *,
    queued_at: datetime | None,
    offered_at: datetime | None,
    arrived_at: datetime,
) -> datetime | None:
    """Since when a contact in ``state`` waits; ``None`` when it does not wait."""
    if state not in WAITING_STATES:
        return None
    return queued_at or offered_at or arrived_at


def waiting_relevant(
    queues: Mapping[int, QueueStatus], waiting: Mapping[int, WaitingContact], event: DomainEvent
) -> bool:
    """Whether ``event`` may move a waiting contact of the queues shown."""
    if event.type in _INTERACTION:
        interaction_id = event.entity_id
    elif event.type is _E.TASK_UPDATED:
        found = _id(event.payload.get("interaction_id"))
        if found is None:
            return False
        interaction_id = found
    else:
        return False
    return interaction_id in waiting or _id(event.payload.get("queue_id")) in queues


def handling_relevant(
    agents: Mapping[int, object], handling: Mapping[int, int], event: DomainEvent
) -> bool:
    """Whether ``event`` may change the contacts in hand of the agents shown."""
    if event.type in _RESERVATIONS:
        task_id = _id(event.payload.get("task_id"))
        return _id(event.payload.get("worker_id")) in agents or task_id in handling
    return event.type is _E.TASK_ENDED and event.entity_id in handling


def apply_waiting(
    queues: Mapping[int, QueueStatus], waiting: Mapping[int, WaitingContact], event: DomainEvent
) -> Mapping[int, WaitingContact] | None:
    """The waiting contacts after ``event``; ``None`` when its payload is malformed."""
    payload = event.payload
    if event.type in _INTERACTION:
        interaction_id = event.entity_id
        try:
            state = InteractionState(str(payload.get("state")))
        except ValueError:
            return None
        if state not in WAITING_STATES:
            return _without(waiting, interaction_id)
    elif event.type is _E.TASK_UPDATED:
        found = _id(payload.get("interaction_id"))
        if found is None or "waiting_since" not in payload:
            return waiting  # the task does not wait: its contact is not in a queue
        if _id(payload.get("queue_id")) is None:
            return waiting  # a step without a queue leaves the contact where it is
        interaction_id = found
    else:
        return waiting
    queue_id = _id(payload.get("queue_id"))
    if queue_id is None or queue_id not in queues:
        return _without(waiting, interaction_id)
    since = instant(payload.get("waiting_since"))
    if since is None:
        return None
    return {**waiting, interaction_id: WaitingContact(interaction_id, queue_id, since)}


def apply_handling(
    agents: Mapping[int, object], handling: Mapping[int, int], event: DomainEvent
) -> Mapping[int, int] | None:
    """Who has which task in hand after ``event`` (task id: agent id); ``None`` when its
    payload is malformed."""
    if event.type is _E.TASK_ENDED:
        return _without(handling, event.entity_id)
    if event.type not in _RESERVATIONS:
        return handling
    task_id, worker_id = _id(event.payload.get("task_id")), _id(event.payload.get("worker_id"))
    state = event.payload.get("state")
    if task_id is None or worker_id is None or not isinstance(state, str):
        return None
    if state == "accepted" and worker_id in agents:
        return {**handling, task_id: worker_id}
    if handling.get(task_id) == worker_id:
        return _without(handling, task_id)
    return handling


def queue_json(
    queue: QueueStatus, waiting: list[WaitingContact], staffed: Staffing = Staffing()
) -> dict[str, Any]:
    """A queue with its waiting contacts, the longest waiting first, its members and
    their counts by state."""
    ordered = sorted(waiting, key=lambda c: (c.since, c.interaction_id))
    return {
        "id": queue.queue_id,
        "name": queue.name,
        "site_id": queue.site_id,
        "channel": queue.channel,
        "service_level_seconds": queue.service_level_seconds,
        "waiting": [
            {"interaction_id": c.interaction_id, "since": c.since.isoformat()} for c in ordered
        ],
        "members": [{"user_id": key, "slots": queue.members[key]} for key in sorted(queue.members)],
        "expected_handle_seconds": queue.expected_handle_seconds,
        "agents": {"available": staffed.available, "busy": staffed.busy, "away": staffed.away},
        "thresholds": thresholds_json(queue.thresholds),
    }


def _without(items: Mapping[int, Any], key: int) -> Mapping[int, Any]:
    if key not in items:
        return items
    return {k: v for k, v in items.items() if k != key}


def _id(value: object) -> int | None:
    # bool is an int to Python, never an id to us
    return value if isinstance(value, int) and not isinstance(value, bool) else None
