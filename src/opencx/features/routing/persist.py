"""Writing what the router did: reservations, interactions, events, and its state.

Rules:
- everything a batch of commands and decisions changed is written in the caller's one
  transaction, with the commands marked done, so a crash leaves either all of it or
  none of it (and the commands are then carried out again);
- after a batch, the stored state of every task and agent the batch touched equals
  the router's (``write_state``): that is what a restarted router resumes from;
- an interaction follows its task (queued, offered, active, wrap-up, ended or
  abandoned), each move appended as ``interaction.state_changed`` like any other;
- agents hear of their offers through ``reservation.created`` and
  ``reservation.updated`` events (payload below), published after the commit;
- a batch reads the rows it needs in a few queries (``load``) and writes with a few
  flushes (``finish``): a batch of thousands of decisions costs little more than one.

``reservation.*`` payload: ``reservation_id``, ``task_id``, ``worker_id``,
``interaction_id``, ``conversation_id``, ``channel``, ``queue_id``, ``state``,
``offered_at``, ``expires_at`` (ISO 8601), ``callback``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import InteractionState, PresenceState
from opencx.core.errors import OpenCXError
from opencx.core.events import EventType
from opencx.core.lifecycles import INTERACTION_TRANSITIONS
from opencx.core.presence import plan_presence_change
from opencx.core.routing.decisions import (
    Decision,
    Fallback,
    Offer,
    OfferEnded,
    SetNotReady,
    StepChanged,
    WrapUpEnded,
)
from opencx.core.routing.model import ReservationState
from opencx.core.routing.router import Router
from opencx.db.models import (
    Interaction,
    RoutingReservation,
    RoutingTask,
    RoutingWorker,
    User,
)
from opencx.features.context import AppContext, OutboxEvent
from opencx.features.conversations.interactions import apply_state
from opencx.features.eventlog import add_events
from opencx.features.routing.state import to_datetime
from opencx.features.users.presence import apply_presence

__all__ = ["Writer", "task_ids_of"]

log = structlog.get_logger(__name__)

_I = InteractionState
_LIVE = (ReservationState.PENDING.value, ReservationState.ACCEPTED.value)
_CHUNK = 500
#: How a task ended, and the state its interaction takes then (``refused``: the router
#: could not take it in, the interaction stays as it was and may be routed again).
_OUTCOME_STATE = {
    "completed": None,
    "canceled": _I.ABANDONED,
    "fallback": _I.ENDED,
    "refused": None,
}


@dataclass
class _PendingEvent:
    type: EventType
    entity_kind: str
    entity: RoutingReservation | int
    payload: dict[str, Any]
    site_id: int | None


def task_ids_of(decisions: Iterable[Decision]) -> set[int]:
    return {d.task_id for d in decisions if not isinstance(d, SetNotReady)}


class Writer:
    """Applies one batch inside one session: ``load`` the tasks it names, apply commands'
    effects and decisions in order, ``write_state``, then ``finish``."""

    def __init__(self, session: AsyncSession, ctx: AppContext) -> None:
        self.session = session
        self.ctx = ctx
        self.tasks: set[int] = set()
        self.workers: set[int] = set()
        self._rows: dict[int, RoutingTask] = {}
        self._around: set[int] = set()  # tasks whose interaction and offers are loaded
        self._interactions: dict[int, Interaction] = {}
        self._live: dict[int, RoutingReservation] = {}
        self._events: list[_PendingEvent] = []

    def touch(self, *, task_id: int | None = None, worker_id: int | None = None) -> None:
        if task_id is not None:
            self.tasks.add(task_id)
        if worker_id is not None:
            self.workers.add(worker_id)

    def adopt(self, tasks: Iterable[RoutingTask], interactions: Iterable[Interaction]) -> None:
        """Take in rows already read in this transaction (new tasks and their
        interactions, read with the commands submitting them), sparing their queries; a
        task not taken in yet has no offer to look for."""
        for interaction in interactions:
            self._interactions.setdefault(interaction.id, interaction)
        for task in tasks:
            self._rows.setdefault(task.id, task)
            if task.status == "new" and task.interaction_id in self._interactions:
                self._around.add(task.id)

    async def load(self, task_ids: set[int]) -> None:
        """Read the tasks, their interactions and live reservations in a few queries."""
        wanted = sorted(task_ids - set(self._rows))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows = await self.session.scalars(select(RoutingTask).where(RoutingTask.id.in_(chunk)))
            self._rows.update((row.id, row) for row in rows)
        tasks = [self._rows[t] for t in sorted(task_ids - self._around) if t in self._rows]
        self._around.update(task.id for task in tasks)
        await self._load_interactions(sorted({task.interaction_id for task in tasks}))
        # A task the router has not taken in yet ("new") has no reservation.
        await self._load_live([task.id for task in tasks if task.status != "new"])

    async def _load_interactions(self, interaction_ids: list[int]) -> None:
        for start in range(0, len(interaction_ids), _CHUNK):
            chunk = interaction_ids[start : start + _CHUNK]
            for interaction in await self.session.scalars(
                select(Interaction).where(Interaction.id.in_(chunk))
            ):
                self._interactions[interaction.id] = interaction

    async def _load_live(self, task_ids: list[int]) -> None:
        for start in range(0, len(task_ids), _CHUNK):
            chunk = task_ids[start : start + _CHUNK]
            live = select(RoutingReservation).where(
                RoutingReservation.task_id.in_(chunk), RoutingReservation.state.in_(_LIVE)
            )
            for reservation in await self.session.scalars(live):
                self._live[reservation.task_id] = reservation

    # --------------------------------------------------------------- decisions

    async def decisions(self, decisions: Iterable[Decision]) -> None:
        for decision in decisions:
            match decision:
                case Offer():
                    self._offer(decision)
                case OfferEnded():
                    self.end_reservation(decision.task_id, decision.state, to_datetime(decision.at))
                    self.move(decision.task_id, _I.QUEUED, agent_id=None)
                case StepChanged():
                    self._step(decision)
                case Fallback():
                    self.end_task(
                        decision.task_id,
                        "fallback",
                        to_datetime(decision.at),
                        action=decision.action.value,
                        reason=decision.reason,
                    )
                case SetNotReady():
                    await self._not_ready(decision)
                case WrapUpEnded():
                    self.move(decision.task_id, _I.ENDED)
            self.touch(
                task_id=None if isinstance(decision, SetNotReady) else decision.task_id,
                worker_id=getattr(decision, "worker_id", None),
            )

    def _offer(self, offer: Offer) -> None:
        reservation = RoutingReservation(
            task_id=offer.task_id,
            worker_id=offer.worker_id,
            queue_id=offer.queue_id,
            state=ReservationState.PENDING.value,
            callback=offer.callback,
            offered_at=to_datetime(offer.at),
            expires_at=to_datetime(offer.expires_at),
        )
        self.session.add(reservation)
        self._live[offer.task_id] = reservation
        self.move(offer.task_id, _I.OFFERED, agent_id=offer.worker_id, queue_id=offer.queue_id)
        self._reservation_event(EventType.RESERVATION_CREATED, reservation)

    def _step(self, step: StepChanged) -> None:
        task = self._task(step.task_id)
        interaction = self._interactions.get(task.interaction_id)
        if interaction is not None and step.queue_id is not None:
            interaction.queue_id = step.queue_id
        self._event(
            EventType.TASK_UPDATED,
            "task",
            task.id,
            {
                "interaction_id": task.interaction_id,
                "queue_id": step.queue_id,
                "filter_index": step.filter_index,
                "step_index": step.step_index,
                "priority": step.priority,
            },
            task.site_id,
        )

    async def _not_ready(self, decision: SetNotReady) -> None:
        user = await self.session.get(User, decision.worker_id)
        if user is None or user.presence is not PresenceState.AVAILABLE:
            return
        change = plan_presence_change(
            user.presence,
            user.presence_reason,
            target=PresenceState.NOT_READY,
            reason=decision.reason,
            now=to_datetime(decision.at),
        )
        await apply_presence(
            self.session, self.ctx, user, change, actor_user_id=None, notify_router=False
        )

    # ------------------------------------------------------------- primitives

    def end_reservation(self, task_id: int, state: ReservationState, at: datetime) -> None:
        reservation = self._live.get(task_id)
        if reservation is None:
            return
        reservation.state = state.value
        if state is not ReservationState.ACCEPTED:
            reservation.ended_at = at
            del self._live[task_id]
        self._reservation_event(EventType.RESERVATION_UPDATED, reservation)

    def end_task(
        self,
        task_id: int,
        outcome: str,
        at: datetime,
        *,
        action: str | None = None,
        reason: str | None = None,
    ) -> None:
        task = self._task(task_id)
        task.status = outcome
        task.fallback_action = action
        task.end_reason = reason
        task.ended_at = at
        target = _OUTCOME_STATE[outcome]
        if target is not None:
            self.move(task_id, target)
        payload = {
            "interaction_id": task.interaction_id,
            "outcome": outcome,
            "action": action,
            "reason": reason,
        }
        self._event(EventType.TASK_ENDED, "task", task.id, payload, task.site_id)
        self.touch(task_id=task_id)

    def move(self, task_id: int, target: InteractionState, **fields: Any) -> None:
        """Move the task's interaction to ``target``, if its lifecycle allows it (an
        interaction an agent already ended by hand stays ended)."""
        interaction = self._interactions.get(self._task(task_id).interaction_id)
        if interaction is None:
            return
        for name, value in fields.items():
            setattr(interaction, name, value)
        previous = interaction.state
        if previous is target:
            return
        if target not in INTERACTION_TRANSITIONS[previous]:
            log.warning(
                "routing_interaction_not_moved",
                interaction_id=interaction.id,
                state=previous.value,
                target=target.value,
            )
            return
        apply_state(interaction, target, now=self.ctx.clock.now())
        payload = {
            "conversation_id": interaction.conversation_id,
            "state": target.value,
            "channel": interaction.channel.value,
            "queue_id": interaction.queue_id,
            "agent_id": interaction.agent_id,
            "previous": previous.value,
        }
        self._event(
            EventType.INTERACTION_STATE_CHANGED,
            "interaction",
            interaction.id,
            payload,
            interaction.site_id,
        )

    def _reservation_event(self, type_: EventType, reservation: RoutingReservation) -> None:
        task = self._task(reservation.task_id)
        interaction = self._interactions.get(task.interaction_id)
        payload = {
            "task_id": reservation.task_id,
            "worker_id": reservation.worker_id,
            "interaction_id": task.interaction_id,
            "conversation_id": interaction.conversation_id if interaction else None,
            "channel": task.channel.value,
            "queue_id": reservation.queue_id,
            "state": reservation.state,
            "offered_at": reservation.offered_at.astimezone(UTC).isoformat(),
            "expires_at": reservation.expires_at.astimezone(UTC).isoformat(),
            "callback": reservation.callback,
        }
        self._event(type_, "reservation", reservation, payload, task.site_id)

    def _event(
        self,
        type_: EventType,
        kind: str,
        entity: RoutingReservation | int,
        payload: dict[str, Any],
        site_id: int | None,
    ) -> None:
        self._events.append(_PendingEvent(type_, kind, entity, payload, site_id))

    def _task(self, task_id: int) -> RoutingTask:
        task = self._rows.get(task_id)
        if task is None:
            raise OpenCXError(f"routing task {task_id} was not loaded for this batch")
        return task

    # ------------------------------------------------------------------ state

    async def write_state(self, router: Router) -> None:
        """Store the router's state of every touched task and agent."""
        await self.load(self.tasks)
        for task_id in sorted(self.tasks):
            task = self._rows.get(task_id)
            if task is None:
                continue
            record = router.tasks.get(task_id)
            if record is None:
                if task.status != "completed":  # a completed task keeps who handled it
                    task.worker_id = None
                task.expires_at = None
                continue
            task.status = record.status.value
            task.priority = record.priority
            task.filter_index = record.filter_index
            task.step_index = record.step_index
            task.queue_id = record.queue_id
            task.pinned = list(record.pinned) if record.pinned is not None else None
            task.worker_id = record.worker_id
            task.expires_at = to_datetime(record.expires_at) if record.expires_at else None
            task.accepted_at = to_datetime(record.accepted_at) if record.accepted_at else None
            task.excluded = {str(k): v for k, v in sorted(record.excluded.items())}
            task.callback = record.callback
        wanted = sorted(w for w in self.workers if w in router.workers)
        stored: dict[int, RoutingWorker] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows = await self.session.scalars(
                select(RoutingWorker).where(RoutingWorker.user_id.in_(chunk))
            )
            stored.update((row.user_id, row) for row in rows)
        for worker_id in wanted:
            worker = router.workers[worker_id]
            row = stored.get(worker_id)
            if row is None:
                row = RoutingWorker(user_id=worker_id)
                self.session.add(row)
            row.idle_since = to_datetime(worker.idle_since)
            row.missed_offers = worker.missed
            row.wraps = [
                {"task_id": task_id, "channel": channel.value, "until": until}
                for task_id, (channel, until) in sorted(worker.wraps.items())
            ]

    async def finish(self) -> None:
        """Write the batch: rows first (reservations get their ids), then its events."""
        await self.session.flush()
        now = self.ctx.clock.now()
        rows = []
        for pending in self._events:
            entity_id = pending.entity
            payload = pending.payload
            if isinstance(entity_id, RoutingReservation):
                payload = {"reservation_id": entity_id.id, **payload}
                entity_id = entity_id.id
            rows.append(
                OutboxEvent(
                    type=pending.type.value,
                    entity_kind=pending.entity_kind,
                    entity_id=entity_id,
                    payload=payload,
                    actor_user_id=None,
                    site_id=pending.site_id,
                    occurred_at=now,
                )
            )
        self._events.clear()
        await add_events(self.session, self.ctx, rows)
