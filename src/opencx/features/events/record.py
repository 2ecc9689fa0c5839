"""Appending to the event log and the audit trail inside the caller's transaction.

Rules:
- an event is published by ``transaction`` once the commit succeeded, never before;
- events are stored in the order they were recorded: their ids follow that order;
- inside ``batched`` (a unit of work that records many), events and audit entries are
  only collected, then written when the block ends, events in one statement and audit
  entries in one more: a received message records six events and two audit entries,
  which cost eight round trips one by one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Insert, Table, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.events import EventType
from opencx.db.models import AuditEntry, Base, Event
from opencx.features.context import OUTBOX, AppContext, OutboxEvent

__all__ = [
    "add_events",
    "batched",
    "insert_ids",
    "insert_rows",
    "record_audit",
    "record_event",
    "table_of",
]

_BATCH = "opencx.eventlog.batch"
#: Rows per INSERT statement (SQLite allows 32,766 parameters in one statement).
_CHUNK = 500


@dataclass
class _Batch:
    events: list[OutboxEvent] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)


@asynccontextmanager
async def batched(session: AsyncSession, ctx: AppContext) -> AsyncIterator[None]:
    """Collect the events and audit entries recorded inside the block and write them
    when it ends (not when it raises: the transaction is then rolled back anyway).

    Inside the block, an event gets its ``id`` only when the block ends."""
    if _BATCH in session.info:  # already batching: the outer block writes
        yield
        return
    batch = session.info[_BATCH] = _Batch()
    try:
        yield
    finally:
        session.info.pop(_BATCH, None)
    await add_events(session, ctx, batch.events)
    await insert_rows(session, AuditEntry, batch.audit)


async def record_event(
    session: AsyncSession,
    ctx: AppContext,
    type_: EventType,
    *,
    entity_kind: str,
    entity_id: int,
    payload: dict[str, Any] | None = None,
    actor_user_id: int | None = None,
    site_id: int | None = None,
) -> None:
    """Append an event; it is published by ``transaction`` once the commit succeeds."""
    row = OutboxEvent(
        type=type_.value,
        entity_kind=entity_kind,
        entity_id=entity_id,
        payload=payload or {},
        actor_user_id=actor_user_id,
        site_id=site_id,
        occurred_at=ctx.clock.now(),
    )
    batch: _Batch | None = session.info.get(_BATCH)
    if batch is not None:
        batch.events.append(row)
        return
    await add_events(session, ctx, [row])


async def add_events(session: AsyncSession, ctx: AppContext, rows: Sequence[OutboxEvent]) -> None:
    """Append many events in list order, with one statement per 500 (for writers of
    batches); like ``record_event``, they are published once the commit succeeds."""
    if not rows:
        return
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        for row, row_id in zip(chunk, await _insert_ids(session, chunk), strict=True):
            row.id = row_id
    session.info.setdefault(OUTBOX, []).extend(rows)


async def _insert_ids(session: AsyncSession, rows: Sequence[OutboxEvent]) -> list[int]:
    values = [
        {
            "type": row.type,
            "entity_kind": row.entity_kind,
            "entity_id": row.entity_id,
            "site_id": row.site_id,
            "actor_user_id": row.actor_user_id,
            "payload": row.payload,
            "occurred_at": row.occurred_at,
        }
        for row in rows
    ]
    return await insert_ids(session, Event, values)


async def insert_ids(
    session: AsyncSession, model: type[Base], values: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert one ``model`` row per dict of ``values`` with one statement; their new
    ids, in the order of ``values``.

    PostgreSQL: SQLAlchemy's ``sort_by_parameter_order`` returns them in order. SQLite
    cannot promise the order of RETURNING, but it gives a multi-row INSERT's rows their
    ids in VALUES order, each above every id before it, while the transaction holds the
    database's only write lock (``BEGIN IMMEDIATE``): sorted ids match the rows."""
    if not values:
        return []
    sqlite = session.get_bind().dialect.name == "sqlite"
    rows = _columns(model, values)
    # Rows of different shapes: the ORM sorts them out, more slowly.
    stmt = _insert_returning(model, orm=rows is None, ordered=not sqlite)
    result = await session.execute(stmt, list(values) if rows is None else rows)
    ids = [int(row_id) for row_id in result.scalars()]
    return sorted(ids) if sqlite else ids


@cache
def _insert_returning(model: type[Base], *, orm: bool, ordered: bool) -> Insert:
    """Built once per model: a statement's construction costs about as much as a small
    INSERT's execution."""
    table = table_of(model)
    return insert(model if orm else table).returning(table.c.id, sort_by_parameter_order=ordered)


async def insert_rows(
    session: AsyncSession, model: type[Base], values: Sequence[dict[str, Any]]
) -> None:
    """Insert one ``model`` row per dict of ``values`` (attribute names as keys), with
    one statement, when no ids are needed back."""
    if not values:
        return
    rows = _columns(model, values)
    if rows is None:
        await session.execute(_insert(model, orm=True), list(values))
    else:
        await session.execute(_insert(model, orm=False), rows)


@cache
def _insert(model: type[Base], *, orm: bool) -> Insert:
    return insert(model if orm else table_of(model))


def table_of(model: type[Base]) -> Table:
    """``model``'s table, for Core statements that skip the ORM's bookkeeping."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _columns(model: type[Base], values: Sequence[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """``values`` keyed by column instead of attribute (``metadata_`` is ``metadata``),
    for a Core INSERT, which skips the ORM's per-row bookkeeping; ``None`` when the
    rows do not all have the same keys, which one Core statement needs."""
    keys = values[0].keys()
    if any(row.keys() != keys for row in values):
        return None
    renamed = _column_keys(model)
    if not renamed.keys() & keys:
        return list(values)
    return [{renamed.get(key, key): value for key, value in row.items()} for row in values]


@cache
def _column_keys(model: type[Base]) -> Mapping[str, str]:
    """The attributes whose column has another name."""
    mapper = inspect(model)
    return {
        attr.key: attr.columns[0].key
        for attr in mapper.column_attrs
        if attr.columns[0].key != attr.key
    }


def record_audit(
    session: AsyncSession,
    ctx: AppContext,
    *,
    actor_user_id: int | None,
    action: str,
    entity_kind: str,
    entity_id: int | None,
    changes: dict[str, Any],
) -> None:
    values = {
        "actor_user_id": actor_user_id,
        "action": action,
        "entity_kind": entity_kind,
        "entity_id": entity_id,
        "changes": changes,
        "at": ctx.clock.now(),
    }
    batch: _Batch | None = session.info.get(_BATCH)
    if batch is not None:
        batch.audit.append(values)
        return
    session.add(AuditEntry(**values))
