"""Writing what the router did: reservations, interactions, events, and its state.

Rules:
- everything a batch of commands and decisions changed is written in the caller's one
  transaction, with the commands marked done, so a crash leaves either all of it or
  none of it (and the commands are then carried out again);
- after a batch, the stored state of every task and agent the batch touched equals
  the router's (``write_state``): that is what a restarted router resumes from;
- an interaction follows its task (queued, offered, active, wrap-up, ended or
  abandoned), each move appended as ``interaction.state_changed`` like any other (with
  ``wrap_up_until`` when the agent's wrap-up starts);
- the note a transfer carries is stored with the transfer, as an internal note of the
  conversation tied to the task (``note.created``), so the next offer can show it;
- agents hear of their offers through ``reservation.created`` and
  ``reservation.updated`` events (payload below), published after the commit;
- a batch reads the rows it needs in a few queries (``load``) and writes with a few
  flushes (``finish``): a batch of thousands of decisions costs little more than one.

``reservation.*`` payload: ``reservation_id``, ``task_id``, ``worker_id``,
``interaction_id``, ``conversation_id``, ``customer_id`` (the conversation's, when the
batch is written), ``channel``, ``queue_id``, ``state``,
``offered_at``, ``expires_at``, ``accepted_at`` (ISO 8601; null until accepted),
``callback``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import InteractionState, PresenceState, TaskStatus
from opencx.core.errors import OpenCXError
from opencx.core.events import EventType
from opencx.core.lifecycles import (
    LIVE_RESERVATION_STATES,
    ROUTED_TASK_STATUSES,
    TASK_TRANSITIONS,
)
from opencx.core.live_views import waiting_since
from opencx.core.notes import note_payload
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
from opencx.core.routing.router import Router
from opencx.db.models import (
    Conversation,
    ConversationNote,
    Interaction,
    RoutingReservation,
    RoutingTask,
    RoutingWorker,
    User,
)
from opencx.features.context import AppContext, OutboxEvent
from opencx.features.events.record import add_events
from opencx.features.routing import actions
from opencx.features.routing.presence import apply_presence
from opencx.features.routing.state import to_datetime

__all__ = ["Writer", "task_ids_of"]

log = structlog.get_logger(__name__)

_CHUNK = 500
_LIVE = tuple(LIVE_RESERVATION_STATES)
_NEW = TaskStatus.NEW
#: A task in one of these has left routing.
_ENDED = frozenset(status for status, exits in TASK_TRANSITIONS.items() if not exits)


@dataclass
class _PendingEvent:
    type: EventType
    entity_kind: str
    entity: RoutingReservation | int
    payload: dict[str, Any]
    site_id: int | None
    actor_user_id: int | None = None


@dataclass(frozen=True, slots=True)
class _TransferNote:
    task_id: int
    handed: RoutingReservation | None  # the reservation the transfer ended
    body: str
    author_id: int | None


def _waiting_since(interaction: Interaction | None) -> str | None:
    """While the contact waits in a queue, since when (``core.live_views.waiting_since``)."""
    if interaction is None:
        return None
    since = waiting_since(
        interaction.state,
        queued_at=interaction.queued_at,
        offered_at=interaction.offered_at,
        arrived_at=interaction.arrived_at,
    )
    return since.astimezone(UTC).isoformat() if since is not None else None


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
        self._notes: list[_TransferNote] = []

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
            if task.status is _NEW and task.interaction_id in self._interactions:
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
        # A task the router has not taken in yet has no reservation.
        await self._load_live([task.id for task in tasks if task.status is not _NEW])

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
                    self._apply(decision.task_id, actions.reject, decision.state)
                case StepChanged():
                    self._step(decision)
                case Fallback():
                    self._fall_back(decision)
                case SetNotReady():
                    await self._not_ready(decision)
                case WrapUpEnded():
                    self.end(decision.task_id)
            self.touch(
                task_id=None if isinstance(decision, SetNotReady) else decision.task_id,
                worker_id=getattr(decision, "worker_id", None),
            )

    def _offer(self, offer: Offer) -> None:
        task = self._task(offer.task_id)
        moved = actions.offer(
            task,
            self._interactions.get(task.interaction_id),
            worker_id=offer.worker_id,
            queue_id=offer.queue_id,
            callback=offer.callback,
            expires_at=to_datetime(offer.expires_at),
            now=to_datetime(offer.at),
        )
        assert moved.reservation is not None
        self.session.add(moved.reservation)
        self._live[offer.task_id] = moved.reservation
        self._record(task, moved, created=True)

    def _fall_back(self, decision: Fallback) -> None:
        task = self._task(decision.task_id)
        moved = actions.fall_back(
            task,
            self._interactions.get(task.interaction_id),
            action=decision.action.value,
            reason=decision.reason,
            now=to_datetime(decision.at),
        )
        self._record(task, moved)

    def _step(self, step: StepChanged) -> None:
        task = self._task(step.task_id)
        interaction = self._interactions.get(task.interaction_id)
        if interaction is not None and step.queue_id is not None:
            interaction.queue_id = step.queue_id
        payload: dict[str, Any] = {
            "interaction_id": task.interaction_id,
            "queue_id": step.queue_id,
            "filter_index": step.filter_index,
            "step_index": step.step_index,
            "priority": step.priority,
        }
        since = _waiting_since(interaction)
        if since is not None:  # supervisors' queues follow the waiting contact
            payload["waiting_since"] = since
        self._event(EventType.TASK_UPDATED, "task", task.id, payload, task.site_id)

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

    # -------------------------------------------------------------- actions

    def receive(self, task_id: int) -> None:
        """The router took the task in (a SUBMIT command)."""
        task = self._task(task_id)
        interaction = self._interactions.get(task.interaction_id)
        self._record(task, actions.receive(task, interaction, now=self.ctx.clock.now()))

    def refuse(self, task_id: int, reason: str) -> None:
        task = self._task(task_id)
        actions.refuse(task, now=self.ctx.clock.now(), reason=reason)
        self._task_ended(task)
        self.touch(task_id=task_id)

    def accept(self, task_id: int) -> None:
        self._apply(task_id, actions.accept)

    def transfer(
        self, task_id: int, *, note: str | None = None, author_id: int | None = None
    ) -> None:
        """Hand the task on; its ``note`` (a warm transfer) is stored with it."""
        handed = self._live.get(task_id)
        self._apply(task_id, actions.transfer)
        if note:
            self._notes.append(_TransferNote(task_id, handed, note, author_id))

    def cancel(self, task_id: int) -> None:
        self._apply(task_id, actions.cancel)

    def release(self, task_id: int) -> None:
        """The router let go of the task without deciding it (its agent is gone)."""
        self._apply(task_id, actions.release)
        self.touch(task_id=task_id)

    def wrap_up(self, task_id: int, *, until: float | None) -> None:
        """The agent completed the task: they wrap up until ``until`` (the router's
        instant), or the interaction ends at once (``None``: no wrap-up time)."""
        task, interaction, reservation = self._contact(task_id)
        now = self.ctx.clock.now()
        wrapping = until is not None
        moved = actions.wrap_up(task, interaction, reservation, wrapping=wrapping, now=now)
        extra = {"wrap_up_until": to_datetime(until).isoformat()} if until is not None else {}
        self._record(task, moved, extra=extra)

    def end(self, task_id: int) -> None:
        """The agent's wrap-up of the task is over."""
        task, interaction, _ = self._contact(task_id)
        if interaction is not None:
            self._record(task, actions.end(interaction, now=self.ctx.clock.now()))

    def call_back(self, task_id: int) -> None:
        actions.call_back(self._task(task_id))

    def _apply(self, task_id: int, action: Any, *args: Any) -> None:
        """Apply a routing action taking (task, interaction, reservation, *args)."""
        task, interaction, reservation = self._contact(task_id)
        self._record(task, action(task, interaction, reservation, *args, now=self.ctx.clock.now()))

    def _contact(
        self, task_id: int
    ) -> tuple[RoutingTask, Interaction | None, RoutingReservation | None]:
        task = self._task(task_id)
        return task, self._interactions.get(task.interaction_id), self._live.get(task_id)

    def _record(
        self,
        task: RoutingTask,
        moved: actions.Moved,
        *,
        created: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """The events of what an action moved: the interaction's new state (with
        ``extra``), the reservation's, and the task's end."""
        interaction = self._interactions.get(task.interaction_id)
        if moved.previous is not None and interaction is not None:
            self._interaction_event(interaction, moved.previous, extra or {})
        reservation = moved.reservation
        if reservation is not None:
            if reservation.state not in LIVE_RESERVATION_STATES:
                self._live.pop(task.id, None)
            kind = EventType.RESERVATION_CREATED if created else EventType.RESERVATION_UPDATED
            self._reservation_event(kind, reservation)
        if task.status in _ENDED:
            self._task_ended(task)

    def _task_ended(self, task: RoutingTask) -> None:
        payload = {
            "interaction_id": task.interaction_id,
            "outcome": task.status.value,
            "action": task.fallback_action,
            "reason": task.end_reason,
        }
        self._event(EventType.TASK_ENDED, "task", task.id, payload, task.site_id)

    def _interaction_event(
        self, interaction: Interaction, previous: InteractionState, extra: dict[str, Any]
    ) -> None:
        payload = {
            "conversation_id": interaction.conversation_id,
            "state": interaction.state.value,
            "channel": interaction.channel.value,
            "queue_id": interaction.queue_id,
            "agent_id": interaction.agent_id,
            "previous": previous.value,
            **extra,
        }
        since = _waiting_since(interaction)
        if since is not None:
            payload["waiting_since"] = since
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
            "state": reservation.state.value,
            "offered_at": reservation.offered_at.astimezone(UTC).isoformat(),
            "expires_at": reservation.expires_at.astimezone(UTC).isoformat(),
            "accepted_at": _iso(reservation.accepted_at),
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
        """Store the router's state of every touched task and agent. Statuses were
        moved by the actions already: one that differs from the router's is a bug, and
        fails the batch rather than storing a state the router is not in."""
        await self.load(self.tasks)
        for task_id in sorted(self.tasks):
            task = self._rows.get(task_id)
            if task is None:
                continue
            record = router.tasks.get(task_id)
            _check_same(task, record.status if record is not None else None)
            if record is None:
                if task.status is not TaskStatus.COMPLETED:  # it keeps who handled it
                    task.worker_id = None
                task.expires_at = None
                continue
            task.priority = record.priority
            task.filter_index = record.filter_index
            task.step_index = record.step_index
            task.queue_id = record.queue_id
            task.pinned = list(record.pinned) if record.pinned is not None else None
            task.worker_id = record.worker_id
            task.expires_at = to_datetime(record.expires_at) if record.expires_at else None
            task.accepted_at = to_datetime(record.accepted_at) if record.accepted_at else None
            task.excluded = {str(k): v for k, v in sorted(record.excluded.items())}
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
        """Write the batch: rows first (reservations and notes get their ids), then its
        events."""
        await self._write_notes()
        await self.session.flush()
        now = self.ctx.clock.now()
        customers = await self._customers_of_offers()
        rows = []
        for pending in self._events:
            entity_id = pending.entity
            payload = pending.payload
            if isinstance(entity_id, RoutingReservation):
                conversation_id = payload.get("conversation_id")
                customer_id = customers.get(conversation_id) if conversation_id else None
                payload = {"reservation_id": entity_id.id, **payload, "customer_id": customer_id}
                entity_id = entity_id.id
            rows.append(
                OutboxEvent(
                    type=pending.type.value,
                    entity_kind=pending.entity_kind,
                    entity_id=entity_id,
                    payload=payload,
                    actor_user_id=pending.actor_user_id,
                    site_id=pending.site_id,
                    occurred_at=now,
                )
            )
        self._events.clear()
        await add_events(self.session, self.ctx, rows)

    async def _customers_of_offers(self) -> dict[int, int]:
        """The customers of the conversations offered or answered in this batch: an
        agent's live feed listens for news of them from the moment of the offer."""
        wanted = sorted(
            {
                conversation_id
                for pending in self._events
                if isinstance(pending.entity, RoutingReservation)
                and isinstance(conversation_id := pending.payload.get("conversation_id"), int)
            }
        )
        found: dict[int, int] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows = await self.session.execute(
                select(Conversation.id, Conversation.customer_id).where(Conversation.id.in_(chunk))
            )
            found.update((row.id, row.customer_id) for row in rows if row.customer_id)
        return found

    async def _write_notes(self) -> None:
        """The notes transfers carried: internal notes of their conversations."""
        now = self.ctx.clock.now()
        written: list[tuple[ConversationNote, Conversation]] = []
        for pending in self._notes:
            task = self._task(pending.task_id)
            interaction = self._interactions.get(task.interaction_id)
            conversation = (
                await self.session.get(Conversation, interaction.conversation_id)
                if interaction is not None
                else None
            )
            if conversation is None:
                continue
            note = ConversationNote(
                conversation_id=conversation.id,
                author_id=pending.author_id,
                body=pending.body,
                mentions=[],
                transfer=True,
                task_id=task.id,
                reservation_id=pending.handed.id if pending.handed is not None else None,
                created_at=now,
            )
            self.session.add(note)
            written.append((note, conversation))
        self._notes.clear()
        if not written:
            return
        await self.session.flush()
        for note, conversation in written:
            payload = note_payload(
                conversation_id=conversation.id,
                author_id=note.author_id,
                mentions=[],
                transfer=True,
                task_id=note.task_id,
            )
            self._events.append(
                _PendingEvent(
                    EventType.NOTE_CREATED,
                    "note",
                    note.id,
                    payload,
                    conversation.site_id,
                    actor_user_id=note.author_id,
                )
            )


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _check_same(task: RoutingTask, expected: TaskStatus | None) -> None:
    stored = task.status if task.status in ROUTED_TASK_STATUSES else None
    if stored is not expected:
        log.error("routing_status_diverged", task_id=task.id, stored=task.status.value)
        raise OpenCXError(
            f"task {task.id} is {task.status.value} in the store but "
            f"{expected.value if expected else 'gone'} in the router"
        )
