"""Appending to the event log and the audit trail inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.events import EventType
from opencx.db.models import AuditEntry, Event
from opencx.features.context import OUTBOX, AppContext

__all__ = ["add_events", "record_audit", "record_event"]


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
) -> Event:
    """Append an event; it is published by ``transaction`` once the commit succeeds."""
    row = Event(
        type=type_.value,
        entity_kind=entity_kind,
        entity_id=entity_id,
        payload=payload or {},
        actor_user_id=actor_user_id,
        site_id=site_id,
        occurred_at=ctx.clock.now(),
    )
    session.add(row)
    await session.flush()
    session.info.setdefault(OUTBOX, []).append(row)
    return row


async def add_events(session: AsyncSession, ctx: AppContext, rows: list[Event]) -> None:
    """Append many events with one flush, in list order (for writers of large batches);
    like ``record_event``, they are published once the commit succeeds."""
    if not rows:
        return
    session.add_all(rows)
    await session.flush()
    session.info.setdefault(OUTBOX, []).extend(rows)


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
    session.add(
        AuditEntry(
            actor_user_id=actor_user_id,
            action=action,
            entity_kind=entity_kind,
            entity_id=entity_id,
            changes=changes,
            at=ctx.clock.now(),
        )
    )
