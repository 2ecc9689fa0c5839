"""The 15-minute interval counters, materialised from the event log.

Rules:
- the counters are derived data: ``rebuild_intervals`` deletes them and folds the whole
  event log again (``core.kpis.KpiFold``), and gets the same rows the job wrote;
- ``refresh_intervals`` (a job, every minute) folds the events appended since its last
  run, from the fold's saved open state (``report_progress``), and adds what they
  contribute to the stored rows: counters only ever add up, so a contribution to an
  older interval (a repeat contact, a long talk split over intervals) is exact;
- it reads events at least ``GRACE`` old: an event whose transaction commits after a
  later one (ids are allocated before commit on PostgreSQL) is still folded in order,
  unless its transaction lasted longer than that — a rebuild then repairs it;
- a run and a rebuild hold the progress row's lock, so they never fold the same events
  twice;
- the queues' thresholds (service-level target, short-abandon limit) are read when a
  run starts: a changed threshold applies from then on, and to the past after a
  rebuild;
- every batch of rows is also added, summed over agents, to ``report_queue_intervals``
  (the rows reports by queue or site read), in the same transaction.

Speed: the events are streamed from the database and fed to the fold as they come;
the fold sums plain tallies (``core.kpis.add_parts``); the rows are written with one
``executemany`` for the inserts and one for the updates, in the driver's own terms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Dialect, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.kpis import (
    COUNTER_FIELDS,
    KPI_EVENT_TYPES,
    KpiFold,
    LogEvent,
    QueueTargets,
    merge_tally,
    new_tally,
)
from opencx.db.models import Event, Queue, ReportInterval, ReportProgress, ReportQueueInterval
from opencx.features.context import AppContext, transaction
from opencx.features.events.record import table_of

__all__ = ["FCR_DAYS", "GRACE", "rebuild_intervals", "refresh_intervals"]

#: First-contact resolution: a new contact on the same need within this many days
#: means the first one did not resolve it.
FCR_DAYS = 7
#: Events younger than this wait for the next run (see the rules).
GRACE = timedelta(minutes=1)
#: Events read per query, and folded before their rows are written.
_READ = 20_000
_WRITE_EVERY = 200_000
_CHUNK = 400
_PARTITION = 1_000


async def refresh_intervals(ctx: AppContext) -> int:
    """Fold the events appended since the last run; returns how many were folded."""
    async with transaction(ctx) as session:
        progress = await _progress(session)
        fold = (await _new_fold(session)).resume(progress.state)
        return await _fold(session, fold, progress, before=ctx.clock.now() - GRACE)


async def rebuild_intervals(
    ctx: AppContext, *, on_progress: Callable[[int], None] | None = None
) -> int:
    """Delete every interval row and fold the whole event log again; returns how many
    events were folded. ``on_progress`` hears the count so far after each batch written
    (a rebuild of millions of events takes minutes)."""
    async with transaction(ctx) as session:
        progress = await _progress(session)
        await session.execute(delete(ReportInterval))
        await session.execute(delete(ReportQueueInterval))
        progress.last_event_id = 0
        fold = await _new_fold(session)
        before = ctx.clock.now() - GRACE
        return await _fold(session, fold, progress, before=before, on_progress=on_progress)


async def _progress(session: AsyncSession) -> ReportProgress:
    progress = await session.get(ReportProgress, 1, with_for_update=True)
    if progress is None:
        progress = ReportProgress(id=1, last_event_id=0, state={})
        session.add(progress)
        await session.flush()
    return progress


async def _new_fold(session: AsyncSession) -> KpiFold:
    rows = await session.execute(
        select(Queue.id, Queue.service_level_seconds, Queue.short_abandon_seconds)
    )
    targets = {qid: QueueTargets(sl, short) for qid, sl, short in rows}
    return KpiFold(targets=targets, fcr_days=FCR_DAYS)


async def _fold(
    session: AsyncSession,
    fold: KpiFold,
    progress: ReportProgress,
    *,
    before: datetime,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Fold events after ``progress`` older than ``before``, writing rows as it goes."""
    last, folded, pending = progress.last_event_id, 0, 0
    while True:
        read, last = await _feed(session, fold, last, before)
        folded += read
        pending += read
        if pending >= _WRITE_EVERY or read < _READ:
            await _add_rows(session, fold.take_tallies())
            pending = 0
            if on_progress is not None:
                on_progress(folded)
        if read < _READ:
            break
    progress.last_event_id = last
    progress.state = fold.state()
    return folded


async def _feed(
    session: AsyncSession, fold: KpiFold, after: int, before: datetime
) -> tuple[int, int]:
    """Feed ``fold`` up to ``_READ`` events after ``after``, stopping at the first one
    not older than ``before``; returns how many it fed and the last one's id. The rows
    are streamed and fed at once: an event is garbage before the next partition."""
    stmt = (
        select(
            Event.id,
            Event.type,
            Event.entity_id,
            Event.occurred_at,
            Event.payload,
            Event.site_id,
        )
        # ``type || ''``, not the bare column: the query then walks the primary key in
        # order and stops at the limit, where ``ix_events_type`` would gather (and sort)
        # every later event of these types, on each call.
        .where(Event.id > after, Event.type.concat("").in_(KPI_EVENT_TYPES))
        .order_by(Event.id)
        .limit(_READ)
        .execution_options(yield_per=_PARTITION)
    )
    read = 0
    result = await (await session.connection()).stream(stmt)
    try:
        async for rows in result.partitions():
            for row in rows:
                if row[3] >= before:  # the rest waits for the next run
                    return read, after
                fold.feed(LogEvent(*row))
                read += 1
                after = row[0]
    finally:
        await result.close()
    return read, after


_TABLE = table_of(ReportInterval)
_QUEUE_TABLE = table_of(ReportQueueInterval)
_KEY_COLUMNS = ("queue_id", "site_id", "agent_id", "channel")
_QUEUE_KEY_COLUMNS = ("queue_id", "site_id", "channel")
Tallies = Mapping[tuple[int, tuple[Any, ...]], list[Any]]


async def _add_rows(session: AsyncSession, tallies: Tallies) -> None:
    """Add ``tallies`` (see ``KpiFold.take_tallies``) to the stored rows, and their sums
    over agents to the queue rows."""
    if not tallies:
        return
    by_queue: dict[tuple[int, tuple[Any, ...]], list[Any]] = {}
    for (start, (queue_id, site_id, _, channel)), tally in tallies.items():
        row = (start, (queue_id, site_id, channel))
        merged = by_queue.get(row)
        if merged is None:
            merged = by_queue[row] = new_tally()
        merge_tally(merged, tally)
    await _add_to(session, _TABLE, _KEY_COLUMNS, tallies)
    await _add_to(session, _QUEUE_TABLE, _QUEUE_KEY_COLUMNS, by_queue)


async def _add_to(
    session: AsyncSession, table: Table, key_columns: tuple[str, ...], tallies: Tallies
) -> None:
    """Add ``tallies`` to the rows of ``table`` (keyed by ``key_columns``), inserting
    those not stored yet: one statement for all the updates, one for the inserts,
    both given to the driver as they are (``executemany``)."""
    starts = sorted({start for start, _ in tallies})
    stored: dict[tuple[int, tuple[Any, ...]], tuple[int, list[Any]]] = {}
    columns = [table.c.id, table.c.start, *(table.c[name] for name in key_columns)]
    counters = [table.c[name] for name in COUNTER_FIELDS]
    connection = await session.connection()
    width = len(key_columns)
    for i in range(0, len(starts), _CHUNK):
        chunk = [_instant(start) for start in starts[i : i + _CHUNK]]
        result = await connection.execute(
            select(*columns, *counters).where(table.c.start.in_(chunk))
        )
        for row_id, at, *values in result:
            stored[int(at.timestamp()), tuple(values[:width])] = (row_id, values[width:])
    new: list[tuple[Any, ...]] = []
    changed: list[tuple[Any, ...]] = []
    stored_start = _stored_start(connection.dialect)
    for (start, key), tally in tallies.items():
        existing = stored.get((start, key))
        if existing is None:
            new.append((stored_start(start), *key, *tally))
            continue
        row_id, values = existing
        merge_tally(values, tally)
        changed.append((*values, row_id))
    marks = _marks(connection.dialect)
    if changed:
        sets = ", ".join(f"{name} = {marks}" for name in COUNTER_FIELDS)
        sql = f"UPDATE {table.name} SET {sets} WHERE id = {marks}"  # noqa: S608 - our names
        await connection.exec_driver_sql(sql, changed)
    if new:
        names = ("start", *key_columns, *COUNTER_FIELDS)
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608 - our names
            f"VALUES ({', '.join([marks] * len(names))})"
        )
        await connection.exec_driver_sql(sql, new)


def _marks(dialect: Dialect) -> str:
    """The driver's positional parameter mark."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def _stored_start(dialect: Dialect) -> Callable[[int], Any]:
    """An interval's start (epoch seconds) as the driver takes it for the column
    (what SQLAlchemy would bind), computed once per interval."""
    bind = _TABLE.c.start.type.dialect_impl(dialect).bind_processor(dialect)

    @cache
    def stored(start: int) -> Any:
        return bind(_instant(start)) if bind is not None else _instant(start)

    return stored


def _instant(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
