"""A queue's alert thresholds: read by anyone who sees the queue, set by supervisors
and admins (``queues.thresholds``) of the queue's site. A change is audited and sent
as ``queue.changed`` (``fields: ["thresholds"]``): every cockpit showing the queue
takes a fresh snapshot with the new thresholds (``core.alerts``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.alerts import Thresholds
from opencx.core.errors import NotFound
from opencx.core.events import EventType
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Queue, QueueThreshold
from opencx.features.common import InputSchema, Schema
from opencx.features.context import AppContext, transaction
from opencx.features.directory._changes import record_change

__all__ = [
    "ThresholdsIn",
    "ThresholdsOut",
    "get_thresholds",
    "set_thresholds",
    "thresholds_of",
]

#: The longest wait a threshold may name: a day.
MAX_WAIT = 86_400


class ThresholdsIn(InputSchema):
    max_waiting: int | None = Field(
        default=None, ge=0, le=100_000, description="alert above this many contacts waiting"
    )
    max_longest_wait_seconds: int | None = Field(
        default=None, ge=1, le=MAX_WAIT, description="alert when a contact waits longer"
    )
    min_service_level: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="alert below this service level (0 to 1) in the current 15 minutes",
    )


class ThresholdsOut(Schema):
    queue_id: int
    max_waiting: int | None
    max_longest_wait_seconds: int | None
    min_service_level: float | None
    updated_at: datetime | None


def thresholds_of(row: QueueThreshold | None) -> Thresholds:
    if row is None:
        return Thresholds()
    return Thresholds(row.max_waiting, row.max_longest_wait_seconds, row.min_service_level)


async def get_thresholds(ctx: AppContext, principal: Principal, queue_id: int) -> ThresholdsOut:
    require(principal, Permission.DIRECTORY_READ)
    async with transaction(ctx) as session:
        await _visible(session, principal, queue_id)
        return _out(queue_id, await session.get(QueueThreshold, queue_id))


async def set_thresholds(
    ctx: AppContext, principal: Principal, queue_id: int, data: ThresholdsIn
) -> ThresholdsOut:
    """Replace the queue's thresholds (a field left out or null: not set)."""
    require(principal, Permission.QUEUES_THRESHOLDS)
    async with transaction(ctx) as session:
        queue = await _visible(session, principal, queue_id)
        row = await session.get(QueueThreshold, queue_id)
        if row is None:
            row = QueueThreshold(queue_id=queue_id)
            session.add(row)
        row.max_waiting = data.max_waiting
        row.max_longest_wait_seconds = data.max_longest_wait_seconds
        row.min_service_level = data.min_service_level
        row.updated_by = principal.user_id
        await session.flush()
        await record_change(
            session,
            ctx,
            principal,
            kind="queue",
            entity_id=queue_id,
            action="thresholds",
            changes=data.model_dump(mode="json"),
            event=EventType.QUEUE_CHANGED,
            site_id=queue.site_id,
            extra={"fields": ["thresholds"]},
        )
        return _out(queue_id, row)


async def _visible(session: AsyncSession, principal: Principal, queue_id: int) -> Queue:
    queue = await session.get(Queue, queue_id)
    if queue is None or not principal.sees_site(queue.site_id):
        raise NotFound(f"queue {queue_id} does not exist")
    return queue


def _out(queue_id: int, row: QueueThreshold | None) -> ThresholdsOut:
    found = thresholds_of(row)
    return ThresholdsOut(
        queue_id=queue_id,
        max_waiting=found.max_waiting,
        max_longest_wait_seconds=found.max_longest_wait_seconds,
        min_service_level=found.min_service_level,
        updated_at=row.updated_at if row is not None else None,
    )
