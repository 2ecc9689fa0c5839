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
  ``reservation.updated`` events (payloads below), published after the commit.

``reservation.*`` payload: ``reservation_id``, ``task_id``, ``worker_id``,
``interaction_id``, ``conversation_id``, ``channel``, ``queue_id``, ``state``,
``offered_at``, ``expires_at`` (ISO 8601), ``callback``.
"""

from __future__ import annotations

from collections.abc import Iterable
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
from opencx.features.context import AppContext
from opencx.features.conversations.interactions import apply_state
from opencx.features.eventlog import record_event
from opencx.features.routing.state import to_datetime
from opencx.features.users.presence import apply_presence

__all__ = ["Writer"]

log = structlog.get_logger(__name__)

_I = InteractionState
_LIVE = (ReservationState.PENDING.value, ReservationState.ACCEPTED.value)


class Writer:
    """Applies one batch inside one session; ``touch`` what changed, then ``write_state``."""

    def __init__(self, session: AsyncSession, ctx: AppContext) -> None:
        self.session = session
        self.ctx = ctx
        self.tasks: set[int] = set()
        self.workers: set[int] = set()

    def touch(self, *, task_id: int | None = None, worker_id: int | None = None) -> None:
        if task_id is not None:
            self.tasks.add(task_id)
        if worker_id is not None:
            self.workers.add(worker_id)

    # --------------------------------------------------------------- decisions

    async def decisions(self, decisions: Iterable[Decision]) -> None:
        for decision in decisions:
            match decision:
                case Offer():
                    await self._offer(decision)
                case OfferEnded():
                    await self.end_reservation(
                        decision.task_id, decision.state, to_datetime(decision.at)
                    )
                    await self.move(decision.task_id, _I.QUEUED, agent_id=None)
                case StepChanged():
                    await self._step(decision)
                case Fallback():
                    await self.end_task(
                        decision.task_id,
                        "fallback",
                        to_datetime(decision.at),
                        action=decision.action.value,
                        reason=decision.reason,
                    )
                case SetNotReady():
                    await self._not_ready(decision)
                case WrapUpEnded():
                    await self.move(decision.task_id, _I.ENDED)
            self.touch(
                task_id=decision.task_id if hasattr(decision, "task_id") else None,
                worker_id=getattr(decision, "worker_id", None),
            )

    async def _offer(self, offer: Offer) -> None:
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
        await self.session.flush()
        interaction = await self.move(
            offer.task_id, _I.OFFERED, agent_id=offer.worker_id, queue_id=offer.queue_id
        )
        await self._reservation_event(EventType.RESERVATION_CREATED, reservation, interaction)

    async def _step(self, step: StepChanged) -> None:
        task = await self._task(step.task_id)
        interaction = await self.session.get(Interaction, task.interaction_id)
        if interaction is not None and step.queue_id is not None:
            interaction.queue_id = step.queue_id
        await record_event(
            self.session,
            self.ctx,
            EventType.TASK_UPDATED,
            entity_kind="task",
            entity_id=task.id,
            payload={
                "interaction_id": task.interaction_id,
                "queue_id": step.queue_id,
                "filter_index": step.filter_index,
                "step_index": step.step_index,
                "priority": step.priority,
            },
            site_id=task.site_id,
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

    async def end_reservation(
        self, task_id: int, state: ReservationState, at: datetime
    ) -> RoutingReservation | None:
        stmt = select(RoutingReservation).where(
            RoutingReservation.task_id == task_id, RoutingReservation.state.in_(_LIVE)
        )
        reservation = await self.session.scalar(stmt)
        if reservation is None:
            return None
        reservation.state = state.value
        if state is not ReservationState.ACCEPTED:
            reservation.ended_at = at
        task = await self._task(task_id)
        interaction = await self.session.get(Interaction, task.interaction_id)
        await self._reservation_event(EventType.RESERVATION_UPDATED, reservation, interaction)
        return reservation

    async def end_task(
        self,
        task_id: int,
        outcome: str,
        at: datetime,
        *,
        action: str | None = None,
        reason: str | None = None,
    ) -> None:
        task = await self._task(task_id)
        task.status = outcome
        task.fallback_action = action
        task.end_reason = reason
        task.ended_at = at
        target = {"completed": None, "canceled": _I.ABANDONED, "fallback": _I.ENDED}[outcome]
        if target is not None:
            await self.move(task_id, target)
        await record_event(
            self.session,
            self.ctx,
            EventType.TASK_ENDED,
            entity_kind="task",
            entity_id=task.id,
            payload={
                "interaction_id": task.interaction_id,
                "outcome": outcome,
                "action": action,
                "reason": reason,
            },
            site_id=task.site_id,
        )
        self.touch(task_id=task_id)

    async def move(
        self, task_id: int, target: InteractionState, **fields: Any
    ) -> Interaction | None:
        """Move the task's interaction to ``target``, if its lifecycle allows it (an
        interaction an agent already ended by hand stays ended)."""
        task = await self._task(task_id)
        interaction = await self.session.get(Interaction, task.interaction_id)
        if interaction is None:
            return None
        for name, value in fields.items():
            setattr(interaction, name, value)
        previous = interaction.state
        if previous is target:
            return interaction
        if target not in INTERACTION_TRANSITIONS[previous]:
            log.warning(
                "routing_interaction_not_moved",
                interaction_id=interaction.id,
                state=previous.value,
                target=target.value,
            )
            return interaction
        apply_state(interaction, target, now=self.ctx.clock.now())
        await record_event(
            self.session,
            self.ctx,
            EventType.INTERACTION_STATE_CHANGED,
            entity_kind="interaction",
            entity_id=interaction.id,
            payload={
                "conversation_id": interaction.conversation_id,
                "state": target.value,
                "channel": interaction.channel.value,
                "queue_id": interaction.queue_id,
                "agent_id": interaction.agent_id,
                "previous": previous.value,
            },
            site_id=interaction.site_id,
        )
        return interaction

    async def _reservation_event(
        self,
        type_: EventType,
        reservation: RoutingReservation,
        interaction: Interaction | None,
    ) -> None:
        task = await self._task(reservation.task_id)
        await record_event(
            self.session,
            self.ctx,
            type_,
            entity_kind="reservation",
            entity_id=reservation.id,
            payload={
                "reservation_id": reservation.id,
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
            },
            site_id=task.site_id,
        )

    async def _task(self, task_id: int) -> RoutingTask:
        task = await self.session.get(RoutingTask, task_id)
        if task is None:
            raise OpenCXError(f"routing task {task_id} is not stored")
        return task

    # ------------------------------------------------------------------ state

    async def write_state(self, router: Router) -> None:
        """Store the router's state of every touched task and agent."""
        for task_id in sorted(self.tasks):
            row = await self.session.get(RoutingTask, task_id)
            if row is None:
                continue
            record = router.tasks.get(task_id)
            if record is None:
                row.worker_id = None
                row.expires_at = None
                continue
            row.status = record.status.value
            row.priority = record.priority
            row.filter_index = record.filter_index
            row.step_index = record.step_index
            row.queue_id = record.queue_id
            row.pinned = list(record.pinned) if record.pinned is not None else None
            row.worker_id = record.worker_id
            row.expires_at = to_datetime(record.expires_at) if record.expires_at else None
            row.accepted_at = to_datetime(record.accepted_at) if record.accepted_at else None
            row.excluded = {str(k): v for k, v in sorted(record.excluded.items())}
            row.callback = record.callback
        for worker_id in sorted(self.workers):
            worker = router.workers.get(worker_id)
            if worker is None:
                continue
            stored = await self.session.get(RoutingWorker, worker_id)
            if stored is None:
                stored = RoutingWorker(user_id=worker_id)
                self.session.add(stored)
            stored.idle_since = to_datetime(worker.idle_since)
            stored.missed_offers = worker.missed
            stored.wraps = [
                {"task_id": task_id, "channel": channel.value, "until": until}
                for task_id, (channel, until) in sorted(worker.wraps.items())
            ]
