"""The actions on a contact: the only writers of an interaction's state, a routing
task's status and a reservation's state.

receive, refuse, offer, accept, reject, transfer, wrap up, cancel, fall back, end and
call back for the router; ``move_by_hand`` (hold, resume, and any move of a contact no
live task routes) for people. The router's ``Writer`` applies its decisions through them and
the API's services call them; nothing else sets those three columns.

Rules:
- an action checks every move it makes against ``core.lifecycles`` before it sets any
  field: an illegal move raises ``IllegalTransition`` and changes nothing;
- they work on rows the caller loaded in its transaction and do no I/O; they return
  what moved (``Moved``), for the caller to record as events;
- while a task is live (new, waiting, reserved or assigned) only the router moves its
  interaction; a person may put it on hold and resume it (``move_by_hand``);
- an interaction already ended or abandoned stays so: a routing action on it still
  moves the task and its reservation (a contact a person ended before this rule
  existed must not stop the router).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opencx.core.enums import InteractionState, ReservationState, TaskStatus
from opencx.core.errors import IllegalTransition
from opencx.core.lifecycles import (
    INTERACTION_STAMPS,
    INTERACTION_TRANSITIONS,
    LIVE_TASK_STATUSES,
    RESERVATION_TRANSITIONS,
    TaskEvent,
    check_transition,
    next_status,
)
from opencx.db.models import Interaction, RoutingReservation, RoutingTask

__all__ = [
    "Moved",
    "accept",
    "call_back",
    "cancel",
    "end",
    "fall_back",
    "move_by_hand",
    "offer",
    "receive",
    "refuse",
    "reject",
    "release",
    "transfer",
    "wrap_up",
]

_I = InteractionState
_R = ReservationState
_OVER = frozenset({_I.ENDED, _I.ABANDONED})
#: What a person may do to an interaction a live task routes.
_BY_HAND_WHILE_ROUTED = frozenset({(_I.ACTIVE, _I.HELD), (_I.HELD, _I.ACTIVE)})


@dataclass(frozen=True, slots=True)
class Moved:
    """What an action moved: the interaction's previous state (``None`` when it did not
    move) and the reservation it created or moved."""

    previous: InteractionState | None = None
    reservation: RoutingReservation | None = None


# ------------------------------------------------------------------ routing


def receive(task: RoutingTask, interaction: Interaction | None, *, now: datetime) -> Moved:
    """The router takes the task in: it waits, its interaction is queued."""
    status = next_status(task.status, TaskEvent.SUBMIT)
    target = _follows(interaction, _I.QUEUED)
    task.status = status
    return Moved(_enter(interaction, target, now))


def refuse(task: RoutingTask, *, now: datetime, reason: str) -> None:
    """The router cannot take the task in; its interaction may be routed again."""
    task.status = next_status(task.status, TaskEvent.REFUSE)
    task.end_reason = reason
    task.ended_at = now


def offer(
    task: RoutingTask,
    interaction: Interaction | None,
    *,
    worker_id: int,
    queue_id: int | None,
    callback: bool,
    expires_at: datetime,
    now: datetime,
) -> Moved:
    """Offer the task to an agent: a pending reservation; the interaction is offered."""
    status = next_status(task.status, TaskEvent.OFFER)
    target = _follows(interaction, _I.OFFERED)
    task.status = status
    reservation = RoutingReservation(
        task_id=task.id,
        worker_id=worker_id,
        queue_id=queue_id,
        state=_R.PENDING,
        callback=callback,
        offered_at=now,
        expires_at=expires_at,
    )
    return Moved(
        _enter(interaction, target, now, agent_id=worker_id, queue_id=queue_id), reservation
    )


def accept(
    task: RoutingTask,
    interaction: Interaction | None,
    reservation: RoutingReservation | None,
    *,
    now: datetime,
) -> Moved:
    """The agent takes the offer: the task is assigned, the interaction active."""
    status = next_status(task.status, TaskEvent.ACCEPT)
    _check_reservation(reservation, _R.ACCEPTED)
    target = _follows(interaction, _I.ACTIVE)
    task.status = status
    _set_reservation(reservation, _R.ACCEPTED, now)
    return Moved(_enter(interaction, target, now), reservation)


def reject(
    task: RoutingTask,
    interaction: Interaction | None,
    reservation: RoutingReservation | None,
    state: ReservationState,
    *,
    now: datetime,
) -> Moved:
    """An offer ends unaccepted (``state``: rejected, timed out or rescinded): the task
    waits again, its interaction is queued again, with no agent."""
    status = next_status(task.status, TaskEvent.END_OFFER)
    _check_reservation(reservation, state)
    target = _follows(interaction, _I.QUEUED)
    task.status = status
    _set_reservation(reservation, state, now)
    return Moved(_enter(interaction, target, now, agent_id=None), reservation)


def transfer(
    task: RoutingTask,
    interaction: Interaction | None,
    reservation: RoutingReservation | None,
    *,
    now: datetime,
) -> Moved:
    """The agent hands the task on: their reservation is completed, the task waits and
    the interaction is queued again (from hold too: a blind transfer)."""
    status = next_status(task.status, TaskEvent.TRANSFER)
    _check_reservation(reservation, _R.COMPLETED)
    target = _follows(interaction, _I.QUEUED)
    task.status = status
    _set_reservation(reservation, _R.COMPLETED, now)
    return Moved(_enter(interaction, target, now, agent_id=None), reservation)


def wrap_up(
    task: RoutingTask,
    interaction: Interaction | None,
    reservation: RoutingReservation | None,
    *,
    wrapping: bool,
    now: datetime,
) -> Moved:
    """The agent is done: the task is completed; the interaction wraps up, or ends at
    once when its queue gives no wrap-up time (``wrapping`` false)."""
    status = next_status(task.status, TaskEvent.COMPLETE)
    _check_reservation(reservation, _R.COMPLETED)
    target = _follows(interaction, _I.WRAP_UP if wrapping else _I.ENDED)
    task.status = status
    task.ended_at = now
    _set_reservation(reservation, _R.COMPLETED, now)
    return Moved(_enter(interaction, target, now), reservation)


def cancel(
    task: RoutingTask,
    interaction: Interaction | None,
    reservation: RoutingReservation | None,
    *,
    now: datetime,
) -> Moved:
    """The customer left while waiting or being offered: the interaction is abandoned."""
    status = next_status(task.status, TaskEvent.CANCEL)
    _check_reservation(reservation, _R.CANCELED)
    target = _follows(interaction, _I.ABANDONED)
    task.status = status
    task.ended_at = now
    _set_reservation(reservation, _R.CANCELED, now)
    return Moved(_enter(interaction, target, now), reservation)


def fall_back(
    task: RoutingTask,
    interaction: Interaction | None,
    *,
    action: str,
    reason: str,
    now: datetime,
) -> Moved:
    """No target could take the task: it leaves routing for ``action`` (a callback, a
    voicemail…) and its interaction ends."""
    status = next_status(task.status, TaskEvent.FALLBACK)
    target = _follows(interaction, _I.ENDED)
    task.status = status
    task.fallback_action = action
    task.end_reason = reason
    task.ended_at = now
    return Moved(_enter(interaction, target, now))


def release(
    task: RoutingTask,
    interaction: Interaction | None,
    reservation: RoutingReservation | None,
    *,
    now: datetime,
) -> Moved:
    """The router let go of a task whose agent is gone (deactivated while holding it):
    it waits again, as after a withdrawn offer or a transfer."""
    event = TaskEvent.END_OFFER if task.status is TaskStatus.RESERVED else TaskEvent.TRANSFER
    state = _R.RESCINDED if event is TaskEvent.END_OFFER else _R.COMPLETED
    status = next_status(task.status, event)
    _check_reservation(reservation, state)
    target = _follows(interaction, _I.QUEUED)
    task.status = status
    _set_reservation(reservation, state, now)
    return Moved(_enter(interaction, target, now, agent_id=None), reservation)


def end(interaction: Interaction, *, now: datetime) -> Moved:
    """The agent's wrap-up is over: the interaction ends."""
    target = _follows(interaction, _I.ENDED)
    return Moved(_enter(interaction, target, now))


def call_back(task: RoutingTask) -> None:
    """The customer hangs up but keeps their place: the eventual offer is a callback."""
    if task.status not in (TaskStatus.WAITING, TaskStatus.RESERVED):
        raise IllegalTransition(
            f"task {task.id} is {task.status.value}: only a waiting or offered task can "
            "become a callback",
            current=task.status.value,
        )
    task.callback = True


# ------------------------------------------------------------------ by hand


def move_by_hand(
    interaction: Interaction,
    target: InteractionState,
    *,
    task: RoutingTask | None,
    now: datetime,
) -> InteractionState:
    """A person moves an interaction (the API). While ``task`` routes it, only hold and
    resume are theirs: the rest is the router's, through the task's own actions
    (reservations' accept and reject, tasks' complete, transfer and cancel).
    Returns the previous state."""
    previous = interaction.state
    routed = task is not None and task.status in LIVE_TASK_STATUSES
    if routed and task is not None and (previous, target) not in _BY_HAND_WHILE_ROUTED:
        raise IllegalTransition(
            f"interaction {interaction.id} is routed by task {task.id} "
            f"({task.status.value}): the router moves it; end it through the task "
            f"(POST /api/v1/tasks/{task.id}/cancel while it waits or is "
            "offered, /complete once an agent has it)",
            current=previous.value,
            target=target.value,
            task_id=task.id,
            task_status=task.status.value,
        )
    check_transition(INTERACTION_TRANSITIONS, previous, target)
    _enter(interaction, target, now)
    return previous


# ---------------------------------------------------------------- machinery


def _follows(interaction: Interaction | None, target: InteractionState) -> InteractionState | None:
    """The state the interaction takes along with its task, checked; ``None`` when it
    stays (none, already there, or already over)."""
    if interaction is None or interaction.state is target or interaction.state in _OVER:
        return None
    check_transition(INTERACTION_TRANSITIONS, interaction.state, target)
    return target


def _check_reservation(reservation: RoutingReservation | None, target: ReservationState) -> None:
    if reservation is not None:
        check_transition(RESERVATION_TRANSITIONS, reservation.state, target)


def _set_reservation(
    reservation: RoutingReservation | None, target: ReservationState, now: datetime
) -> None:
    if reservation is None:
        return
    reservation.state = target
    if target is _R.ACCEPTED:
        reservation.accepted_at = now
    else:
        reservation.ended_at = now


def _enter(
    interaction: Interaction | None,
    target: InteractionState | None,
    now: datetime,
    **fields: int | None,
) -> InteractionState | None:
    """Set the interaction's ``fields`` and enter ``target`` (already checked): stamps
    and hold time. The previous state when it moved."""
    if interaction is None or (target is None and interaction.state in _OVER):
        return None
    for name, value in fields.items():
        setattr(interaction, name, value)
    if target is None:
        return None
    previous = interaction.state
    if previous is _I.HELD and interaction.held_since is not None:
        interaction.hold_seconds += (now - interaction.held_since).total_seconds()
        interaction.held_since = None
    if target is _I.HELD:
        interaction.held_since = now
    stamp = INTERACTION_STAMPS.get(target)
    if stamp is not None and getattr(interaction, stamp) is None:
        setattr(interaction, stamp, now)
    if previous is _I.WRAP_UP and target is _I.ENDED:
        interaction.wrapped_up_at = now
    interaction.state = target
    return previous
