"""The wiring a process builds once and hands to every service call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from opencx.core.events import DomainEvent, EventType
from opencx.features.ports import (
    BlobStore,
    Clock,
    HttpTransport,
    JobQueue,
    MailTransport,
    Publisher,
)
from opencx.features.transports import SharedHttp
from opencx.settings import Settings

__all__ = ["AppContext", "OutboxEvent", "SystemClock", "transaction"]

OUTBOX = "opencx.outbox"


@dataclass(slots=True)
class OutboxEvent:
    """An event row being written in this transaction, published once it commits. A
    plain record rather than an ORM instance: a busy writer records thousands, and
    they are inserted with Core (``opencx.features.events.record``), which gives them
    their ``id``."""

    type: str
    entity_kind: str
    entity_id: int
    payload: dict[str, Any]
    actor_user_id: int | None
    site_id: int | None
    occurred_at: datetime
    id: int = 0


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(slots=True)
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    publisher: Publisher
    jobs: JobQueue
    blobs: BlobStore
    clock: Clock
    #: Where e-mail leaves (the relay of ``smtp_out``, ``SmtpRelay``).
    mail: MailTransport
    #: Every HTTP request to the outside goes through it (``transports.http_client``).
    http: HttpTransport = field(default_factory=SharedHttp)
    #: What services keep per process beside the wiring (the intake's writer), by name.
    local: dict[str, Any] = field(default_factory=dict)


@asynccontextmanager
async def transaction(ctx: AppContext) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits on success, then publishes the events it recorded.

    Events reach subscribers only after the commit, so nobody sees a change that
    could still roll back.
    """
    async with ctx.sessions() as session:
        async with session.begin():
            yield session
        rows: list[OutboxEvent] = session.info.pop(OUTBOX, [])
    if rows:
        await ctx.publisher.publish([_to_domain(row) for row in rows])


def _to_domain(row: OutboxEvent) -> DomainEvent:
    return DomainEvent(
        type=EventType(row.type),
        entity_kind=row.entity_kind,
        entity_id=row.entity_id,
        occurred_at=row.occurred_at,
        payload=row.payload,
        actor_user_id=row.actor_user_id,
        site_id=row.site_id,
        id=row.id,
    )
