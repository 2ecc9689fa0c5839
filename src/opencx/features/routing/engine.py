"""The active router: the in-memory engine, fed by the command inbox and the clock,
writing each batch of what it did in one transaction.

Rules:
- only the active router (``Leadership``) changes routing state, so two nodes never
  decide about the same task; every batch it writes is fenced by its epoch;
- on taking over (or after any failed write) it reloads the whole state from the
  database and settles it at the current time: offers that expired meanwhile time out,
  due steps fire, and so on. Commands not marked done are carried out again;
- a batch is one transaction: it reads the pending commands in id order, carries
  them out, fires every timer due and writes all of it; agents' offers, and the
  outcomes of the commands to those who wait for them, are published only after that
  commit;
- a burst of commands is gathered into one batch (``batch_window_seconds``), unless a
  caller waits for the outcome of one (an agent accepting an offer): then at once;
- configuration (queues, sites, hours, workflow, agents' profiles) is reloaded on a
  RELOAD command and every ``reload_interval_seconds``; a changed workflow or queue
  set restarts the engine from the stored state, other changes are applied in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import PresenceState, TaskStatus
from opencx.core.errors import Conflict, NotFound, OpenCXError
from opencx.core.routing.decisions import Decision
from opencx.core.routing.model import RoutingPolicy
from opencx.core.routing.router import Router
from opencx.core.routing.snapshot import Snapshot
from opencx.db.models import (
    Interaction,
    QueueStats,
    RoutingCommand,
    RoutingReservation,
    RoutingTask,
)
from opencx.features.context import AppContext, transaction
from opencx.features.events.record import table_of
from opencx.features.routing.commands import (
    CommandKind,
    listen_for_wakeups,
    problem_of,
    urgent_event,
    wakeup_event,
)
from opencx.features.routing.leadership import Leadership, LostLeadership, fence
from opencx.features.routing.outcomes import Outcome, announce, reservation_values
from opencx.features.routing.persist import Writer, task_ids_of
from opencx.features.routing.state import (
    RoutingConfig,
    load_config,
    load_state,
    load_workers,
    task_spec,
    to_datetime,
    to_instant,
)

__all__ = ["RoutingEngine", "idle", "policy_of", "routing_service"]

log = structlog.get_logger(__name__)

BATCH = 500
STATS_INTERVAL_SECONDS = 1.0
#: Done commands are kept this long (for callers still waiting on their outcome).
KEEP_DONE_SECONDS = 3600.0
RESTART_DELAY_SECONDS = 1.0


def policy_of(ctx: AppContext) -> RoutingPolicy:
    settings = ctx.settings.routing
    return RoutingPolicy(
        offer_timeout_seconds=settings.offer_timeout_seconds,
        max_missed_offers=settings.max_missed_offers,
        aging_seconds=settings.aging_seconds,
        reoffer_cooldown_seconds=settings.reoffer_cooldown_seconds,
    )


async def routing_service(ctx: AppContext) -> None:
    """The server's background service: stand by, lead when elected, step down on loss."""
    if not ctx.settings.routing.run_in_server:
        await asyncio.Event().wait()
    leadership = Leadership(ctx)
    try:
        while True:
            try:
                await leadership.acquire()
                await RoutingEngine(ctx, leadership).run()
            except LostLeadership as exc:
                log.warning("routing_leadership_lost", reason=str(exc))
            except Exception:
                log.exception("routing_engine_failed; restarting it")
            await leadership.release()
            await asyncio.sleep(RESTART_DELAY_SECONDS)
    finally:
        await leadership.release()


async def idle(
    wakeup: asyncio.Event, delay: float, window: float, *, urgent: asyncio.Event | None = None
) -> None:
    """Wait up to ``delay`` for ``wakeup``; once woken, ``window`` more, so that the
    commands right behind the first join its batch and a burst costs one transaction
    rather than one each. ``urgent`` (someone waits for an outcome) cuts the window
    short. A cancellation always gets through: ``asyncio.wait_for`` on Python 3.11
    swallows one that arrives as the event is set, which left the router impossible to
    stop."""
    try:
        async with asyncio.timeout(delay):
            await wakeup.wait()
    except TimeoutError:
        return
    if urgent is None:
        await asyncio.sleep(window)
        return
    try:
        async with asyncio.timeout(window):
            await urgent.wait()
    except TimeoutError:
        return


class _Restart(Exception):
    """The configuration changed what the router cannot change in place."""


@dataclass
class _Batch:
    commands: list[RoutingCommand] = field(default_factory=list)
    # the tasks of its SUBMIT commands and their interactions, read with them
    tasks: dict[int, RoutingTask] = field(default_factory=dict)
    interactions: list[Interaction] = field(default_factory=list)
    errors: dict[int, dict[str, Any]] = field(default_factory=dict)
    # (command or None, decisions) in the order they were taken
    steps: list[tuple[RoutingCommand | None, list[Decision], dict[str, Any]]] = field(
        default_factory=list
    )
    reload: bool = False
    # tasks the restored router let go of without a decision (their agent is gone)
    released: list[int] = field(default_factory=list)
    # what became of its commands, for those who wait: known once they are marked done
    outcomes: list[Outcome] = field(default_factory=list)


class RoutingEngine:
    def __init__(self, ctx: AppContext, leadership: Leadership) -> None:
        self.ctx = ctx
        self.leadership = leadership
        self.policy = policy_of(ctx)
        self.router: Router | None = None
        self.config: RoutingConfig | None = None
        self._structure: tuple[Any, ...] = ()
        self._next_reload = 0.0
        self._next_stats = 0.0
        self._next_prune = 0.0

    async def run(self) -> None:
        await self.restore()
        hearing = asyncio.create_task(listen_for_wakeups(self.ctx), name="opencx-wakeups")
        try:
            await self._serve()
        finally:
            hearing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hearing

    async def _serve(self) -> None:
        settings = self.ctx.settings.routing
        wakeup = wakeup_event()
        urgent = urgent_event()
        loop = asyncio.get_running_loop()
        next_check = 0.0
        while True:
            if loop.time() >= next_check:
                await self.leadership.check()
                next_check = loop.time() + settings.election_interval_seconds
            # Cleared before the inbox is read: a command committed while this step runs
            # sets it again, and is not left waiting for the next poll.
            wakeup.clear()
            urgent.clear()
            busy = await self.step()
            if busy:
                continue
            delay = settings.poll_interval_seconds
            deadline = self.router.next_deadline() if self.router else None
            if deadline is not None:
                delay = min(delay, max(deadline - self._now_instant(), 0.0))
            delay = min(delay, max(self._next_reload - loop.time(), 0.0))
            hours = self.config.hours_change if self.config is not None else None
            if hours is not None:
                delay = min(delay, max(to_instant(hours) - self._now_instant(), 0.0))
            await idle(wakeup, delay, settings.batch_window_seconds, urgent=urgent)

    # ------------------------------------------------------------- restore

    async def restore(self) -> None:
        """Rebuild the router from the database and write what settling it decided."""
        now = self.ctx.clock.now()
        async with transaction(self.ctx) as session:
            snapshot, self.config = await load_state(session, self.ctx.settings.routing, now=now)
            released = await _released(session, snapshot)
        router, decisions = Router.from_snapshot(snapshot, now=to_instant(now), policy=self.policy)
        self.router = router
        self._structure = _structure(self.config)
        self._next_reload = asyncio.get_running_loop().time() + self._reload_interval
        batch = _Batch(released=released)
        batch.steps.append((None, decisions + router.advance(to_instant(now)), {}))
        await self._write(batch)
        log.info("routing_restored", tasks=len(router.tasks), workers=len(router.workers))

    @property
    def _reload_interval(self) -> float:
        return self.ctx.settings.routing.reload_interval_seconds

    # ---------------------------------------------------------------- step

    async def step(self) -> bool:
        """One batch in one transaction: read the inbox, carry the commands out, write
        what they and the due timers decided; ``True`` when more commands may wait."""
        assert self.router is not None
        loop = asyncio.get_running_loop()
        batch = _Batch()
        writing = poisoned = False
        try:
            async with transaction(self.ctx) as session:
                await _pending(session, batch)
                if self._reload_wanted(batch.commands) and not await self._reload(session, batch):
                    raise _Restart  # the workflow or the queues changed
                poisoned = await self._carry_out_all(session, batch)
                due = self.router.advance(self._now_instant())
                if due:
                    batch.steps.append((None, due, {}))
                if batch.commands or batch.steps:
                    writing = True
                    await self._write_in(session, batch)
        except _Restart:
            await self.restore()
            return True  # restarted from the stored state: read the inbox again
        except LostLeadership:
            raise
        except Exception:
            if not writing:
                raise
            # The router is now ahead of the store: start again from the store.
            log.exception("routing_write_failed; reloading the stored state")
            self.router = None
            await self.restore()
        else:
            await announce(self.ctx, batch.outcomes, epoch=self.leadership.epoch)
        if poisoned:
            await self.restore()
        if loop.time() >= self._next_stats:
            self._next_stats = loop.time() + STATS_INTERVAL_SECONDS
            await self._write_stats()
        return len(batch.commands) == BATCH

    def _reload_wanted(self, commands: list[RoutingCommand]) -> bool:
        hours = self.config.hours_change if self.config is not None else None
        due = asyncio.get_running_loop().time() >= self._next_reload or (
            hours is not None and self.ctx.clock.now() >= hours
        )
        return due or any(c.kind == CommandKind.RELOAD for c in commands)

    async def _carry_out_all(self, session: AsyncSession, batch: _Batch) -> bool:
        """Carry out the batch's commands in order; ``True`` when one tripped a bug."""
        poisoned = False
        for command in batch.commands:
            now = self._now_instant()
            try:
                extra: dict[str, Any] = {}
                decisions = await self._carry_out(session, command, batch.tasks, now, extra)
            except OpenCXError as exc:
                batch.errors[command.id] = problem_of(exc)
                continue
            except Exception:
                # A bug must not block the inbox: this command is refused, the others go
                # on, and the router restarts from the store after this batch.
                log.exception("routing_command_failed", command_id=command.id, kind=command.kind)
                batch.errors[command.id] = {"code": "opencx.error", "detail": "internal error"}
                poisoned = True
                continue
            batch.steps.append((command, decisions, extra))
        return poisoned

    async def _carry_out(
        self,
        session: AsyncSession,
        command: RoutingCommand,
        tasks: dict[int, RoutingTask],
        now: float,
        extra: dict[str, Any],
    ) -> list[Decision]:
        router = self.router
        assert router is not None
        kind = CommandKind(command.kind)
        task_id = command.task_id
        if kind is CommandKind.SUBMIT:
            row = tasks.get(task_id or 0)
            if row is None or row.status is not TaskStatus.NEW:
                raise Conflict(f"task {task_id} is not waiting to be routed")
            return router.submit(
                task_spec(row),
                now=now,
                queue_id=row.requested_queue_id,
                worker_ids=row.requested_worker_ids or (),
            )
        if kind is CommandKind.SYNC_WORKER:
            return await self._sync_worker(session, command.worker_id or 0, now)
        if kind is CommandKind.RELOAD:
            return []
        if kind is CommandKind.END_WRAP_UP:
            return router.end_wrap_up(command.worker_id or 0, task_id or 0, now=now)
        if task_id is None or task_id not in router.tasks:
            raise NotFound(f"task {task_id} is not being routed")
        record = router.task(task_id)
        holder = record.worker_id
        extra["worker_id"] = holder
        if command.worker_id is not None and holder != command.worker_id:
            raise Conflict(f"task {task_id} is not offered to or handled by you")
        match kind:
            case CommandKind.ACCEPT:
                return router.accept(task_id, now=now)
            case CommandKind.REJECT:
                return router.reject(task_id, now=now)
            case CommandKind.COMPLETE:
                return router.complete(task_id, now=now)
            case CommandKind.CANCEL:
                return router.cancel(task_id, now=now)
            case CommandKind.TRANSFER:
                payload = command.payload
                return router.transfer(
                    task_id,
                    now=now,
                    queue_id=payload.get("queue_id"),
                    worker_ids=tuple(payload.get("worker_ids") or ()),
                )
            case CommandKind.CALLBACK:
                router.request_callback(task_id)
                return []
        raise Conflict(f"unknown routing command {command.kind!r}")

    async def _sync_worker(
        self, session: AsyncSession, worker_id: int, now: float
    ) -> list[Decision]:
        router = self.router
        assert router is not None
        found = await load_workers(session, self.ctx.settings.routing, user_id=worker_id)
        return _apply_worker(router, worker_id, found.get(worker_id), now)

    async def _reload(self, session: AsyncSession, batch: _Batch) -> bool:
        """Reload the configuration and apply it in place as the batch's first step;
        ``False`` when it cannot be (a changed workflow or queue set: restore)."""
        router = self.router
        assert router is not None
        self._next_reload = asyncio.get_running_loop().time() + self._reload_interval
        now = self.ctx.clock.now()
        config = await load_config(session, self.ctx.settings.routing, now=now)
        if _structure(config) != self._structure:
            return False
        instant = to_instant(now)
        decisions: list[Decision] = []
        for site_id, state in sorted(config.sites.items()):
            if router.site_state(site_id) is not state:
                decisions += router.set_site_state(site_id, state, now=instant)
        for queue_id in sorted(router.queues):
            closed = queue_id in config.closed_queues
            if closed != (queue_id in router.closed_queues):
                decisions += router.set_queue_open(queue_id, not closed, now=instant)
        for worker_id in sorted(set(config.workers) | set(router.workers)):
            decisions += _apply_worker(router, worker_id, config.workers.get(worker_id), instant)
        self.config = config
        if decisions:
            batch.steps.append((None, decisions, {}))
        return True

    # --------------------------------------------------------------- write

    async def _write(self, batch: _Batch) -> None:
        """Write a batch of the router's own (settling after a restore) in a transaction."""
        async with transaction(self.ctx) as session:
            await self._write_in(session, batch)

    async def _write_in(self, session: AsyncSession, batch: _Batch) -> None:
        """Write everything the batch changed, fenced by this router's epoch."""
        router = self.router
        assert router is not None
        await fence(session, self.leadership.epoch)
        writer = Writer(session, self.ctx)
        writer.adopt(batch.tasks.values(), batch.interactions)
        wanted: set[int] = set()
        for command, decisions, _ in batch.steps:
            if command is not None and command.task_id is not None:
                wanted.add(command.task_id)
            wanted |= task_ids_of(decisions)
        refused = [
            c
            for c in batch.commands
            if c.id in batch.errors and c.kind == CommandKind.SUBMIT and c.task_id
        ]
        wanted |= {c.task_id for c in refused if c.task_id is not None}
        await writer.load(wanted | set(batch.released))
        for task_id in batch.released:
            writer.release(task_id)
        for command in refused:
            assert command.task_id is not None
            reason = str(batch.errors[command.id].get("detail", ""))[:200]
            writer.refuse(command.task_id, reason)
        for command, decisions, extra in batch.steps:
            if command is not None:
                self._command_effects(writer, command, extra)
            await writer.decisions(decisions)
        await writer.write_state(router)
        await writer.finish()
        await self._mark_done(session, batch)
        await self._prune(session, self.ctx.clock.now())

    async def _mark_done(self, session: AsyncSession, batch: _Batch) -> None:
        done_at = self.ctx.clock.now()
        ids = [c.id for c in batch.commands if c.id not in batch.errors]
        for start in range(0, len(ids), BATCH):
            await session.execute(_DONE, {"ids": ids[start : start + BATCH], "at": done_at})
        for command_id, problem in batch.errors.items():
            await session.execute(
                update(RoutingCommand)
                .where(RoutingCommand.id == command_id)
                .values(done_at=done_at, error=problem)
            )
        for command in batch.commands:
            if command.kind == CommandKind.SUBMIT:
                continue  # nobody waits for those
            refused = batch.errors.get(command.id)
            reservation = None if refused else await _reservation_after(session, command)
            batch.outcomes.append(Outcome(command.id, refused, reservation))

    def _command_effects(
        self, writer: Writer, command: RoutingCommand, extra: dict[str, Any]
    ) -> None:
        """Store what a command the router carried out did, through the writer's actions."""
        router = self.router
        assert router is not None
        kind = CommandKind(command.kind)
        task_id = command.task_id
        worker_id = extra.get("worker_id") or command.worker_id
        writer.touch(task_id=task_id, worker_id=worker_id)
        if task_id is None:
            return
        if kind is CommandKind.SUBMIT:
            writer.receive(task_id)
        elif kind is CommandKind.ACCEPT:
            writer.accept(task_id)
        elif kind is CommandKind.COMPLETE:
            worker = router.workers.get(worker_id) if worker_id is not None else None
            wrap = worker.wraps.get(task_id) if worker is not None else None
            writer.wrap_up(task_id, until=wrap[1] if wrap is not None else None)
        elif kind is CommandKind.CANCEL:
            writer.cancel(task_id)
        elif kind is CommandKind.TRANSFER:
            note = command.payload.get("note")
            writer.transfer(
                task_id,
                note=note if isinstance(note, str) else None,
                author_id=command.actor_user_id,
            )
        elif kind is CommandKind.END_WRAP_UP:
            writer.end(task_id)
        elif kind is CommandKind.CALLBACK:
            writer.call_back(task_id)

    async def _prune(self, session: AsyncSession, now: datetime) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_prune:
            return
        self._next_prune = loop.time() + 60.0
        cutoff = to_datetime(to_instant(now) - KEEP_DONE_SECONDS)
        await session.execute(delete(RoutingCommand).where(RoutingCommand.done_at < cutoff))

    async def _write_stats(self) -> None:
        router = self.router
        assert router is not None
        now = self.ctx.clock.now()
        rows = []
        for queue_id, queue in sorted(router.queues.items()):
            channel = queue.spec.channel
            free_now = router.free_workers(channel)
            logged_in = [
                router.workers[w]
                for w in sorted(queue.members)
                if router.workers[w].presence is not PresenceState.OFFLINE
            ]
            times = queue.handle_times
            rows.append(
                {
                    "queue_id": queue_id,
                    "waiting": queue.count(),
                    "free_agents": sum(w.id in free_now for w in logged_in),
                    "slots": sum(w.spec.capacity.get(channel, 0) for w in logged_in),
                    "estimated_wait_seconds": router.estimated_wait(queue_id),
                    "average_handle_seconds": sum(times) / len(times) if times else None,
                    "updated_at": now,
                }
            )
        if not rows:
            return
        async with transaction(self.ctx) as session:
            await fence(session, self.leadership.epoch)
            await session.execute(_stats_upsert(self.ctx.engine.dialect.name), rows)

    def _now_instant(self) -> float:
        return to_instant(self.ctx.clock.now())


def _apply_worker(
    router: Router,
    worker_id: int,
    found: tuple[Any, PresenceState] | None,
    now: float,
) -> list[Decision]:
    """Bring the router's view of one agent in line with their stored profile."""
    current = router.workers.get(worker_id)
    if found is None:
        if current is None:
            return []
        if current.held or current.wraps:
            # Deactivated while holding work: no new offers, the rest runs its course.
            if current.presence is PresenceState.OFFLINE:
                return []
            return router.set_presence(worker_id, PresenceState.OFFLINE, now=now)
        return router.remove_worker(worker_id, now=now)
    spec, presence = found
    if current is None:
        return router.add_worker(spec, presence=presence, now=now)
    decisions: list[Decision] = []
    if current.spec != spec:
        decisions += router.update_worker(spec, now=now)
    if current.presence is not presence:
        decisions += router.set_presence(worker_id, presence, now=now)
    return decisions


def _structure(config: RoutingConfig) -> tuple[Any, ...]:
    """What the router cannot change in place: the workflow and the queues."""
    return (
        _workflow_key(config),
        tuple(
            (
                q.id,
                q.channel,
                q.target.source,
                q.site_id,
                q.wrap_up_seconds,
                q.selection,
                q.skill,
                q.expected_handle_seconds,
            )
            for q in config.queues
        ),
    )


def _workflow_key(config: RoutingConfig) -> Sequence[Any]:
    return [
        (
            f.name,
            f.expression.source,
            f.fallback,
            [
                (
                    t.queue_id,
                    t.expression.source,
                    t.timeout_seconds,
                    t.priority,
                    t.skip_if,
                    t.preferred,
                    [(r.after_seconds, r.expression.source) for r in t.rings],
                )
                for t in f.targets
            ],
        )
        for f in config.workflow.filters
    ] + [config.workflow.fallback]


#: The commands not done yet, in order, with the tasks their SUBMITs bring in and those
#: tasks' interactions: one query for all three, built once (the router runs it in
#: every batch).
_PENDING = (
    select(RoutingCommand, RoutingTask, Interaction)
    .outerjoin(
        RoutingTask,
        and_(
            RoutingCommand.kind == CommandKind.SUBMIT.value,
            RoutingTask.id == RoutingCommand.task_id,
        ),
    )
    .outerjoin(Interaction, Interaction.id == RoutingTask.interaction_id)
    .where(RoutingCommand.done_at.is_(None))
    .order_by(RoutingCommand.id)
    .limit(BATCH)
)
#: On the table (no ORM bookkeeping): nobody reads a command row again in the
#: transaction that marks it done.
_DONE = (
    update(table_of(RoutingCommand))
    .where(table_of(RoutingCommand).c.id.in_(bindparam("ids", expanding=True)))
    .values(done_at=bindparam("at"))
)


_STATS = table_of(QueueStats)


@functools.cache
def _stats_upsert(dialect: str) -> Any:
    """Every queue's figures in one statement (both databases spell the upsert alike)."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_STATS)
    return statement.on_conflict_do_update(
        index_elements=[_STATS.c.queue_id],
        set_={c.name: statement.excluded[c.name] for c in _STATS.c if c.name != "queue_id"},
    )


async def _released(session: AsyncSession, snapshot: Snapshot) -> list[int]:
    """Tasks stored as held by an agent whom the snapshot no longer has (deactivated
    while holding them): the restored router lets them wait again."""
    waiting = {t.spec.id for t in snapshot.tasks if t.status is TaskStatus.WAITING}
    held = select(RoutingTask.id).where(
        RoutingTask.status.in_((TaskStatus.RESERVED, TaskStatus.ASSIGNED))
    )
    return sorted(task_id for task_id in await session.scalars(held) if task_id in waiting)


async def _reservation_after(
    session: AsyncSession, command: RoutingCommand
) -> dict[str, Any] | None:
    """The reservation an accept or reject named, as this batch leaves it: the writer
    holds it already, so reading it costs no query (but when it was not the live one)."""
    reservation_id = command.payload.get("reservation_id")
    if command.kind not in _ANSWERS or not isinstance(reservation_id, int):
        return None
    row = await session.get(RoutingReservation, reservation_id)
    return reservation_values(row) if row is not None else None


_ANSWERS = frozenset({CommandKind.ACCEPT.value, CommandKind.REJECT.value})


async def _pending(session: AsyncSession, batch: _Batch) -> None:
    for command, task, interaction in await session.execute(_PENDING):
        batch.commands.append(command)
        if task is not None:
            batch.tasks[task.id] = task
        if interaction is not None:
            batch.interactions.append(interaction)
