"""Which node's router is active: one at a time, a standby takes over within seconds.

Rules:
- on PostgreSQL the active router holds a session advisory lock on a connection of its
  own; the lock dies with that connection, so a killed node frees it at once, and a
  standby trying every ``election_interval_seconds`` takes over;
- on SQLite there is one node: its router is always the active one;
- taking over increments the leadership epoch; every write of a router checks its
  epoch is still the current one (``fence``), so a router that lost the lock without
  noticing yet cannot write anything (fencing).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

import structlog
from sqlalchemy import bindparam, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from opencx.db.models import RoutingLeadership
from opencx.features.context import AppContext, transaction
from opencx.features.events.record import table_of

__all__ = ["LEADER_LOCK_KEY", "Leadership", "LostLeadership", "fence"]

log = structlog.get_logger(__name__)

#: The advisory lock's key: "OCXROUTE" read as a 64-bit integer, unlikely to collide.
LEADER_LOCK_KEY = 0x4F4358524F555445 & 0x7FFFFFFFFFFFFFFF


class LostLeadership(Exception):
    """This router is no longer the active one; it must stop writing."""


class Leadership:
    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._conn: AsyncConnection | None = None
        self.epoch = 0
        self.holder = f"{socket.gethostname()}:{os.getpid()}"

    @property
    def _postgres(self) -> bool:
        return self._ctx.engine.dialect.name == "postgresql"

    async def acquire(self) -> int:
        """Wait until this node is the active router; return its epoch."""
        interval = self._ctx.settings.routing.election_interval_seconds
        while self._postgres and not await self._try_lock():  # noqa: ASYNC110 - polls the database
            await asyncio.sleep(interval)
        self.epoch = await self._next_epoch()
        log.info("routing_leader", epoch=self.epoch, holder=self.holder)
        return self.epoch

    async def check(self) -> None:
        """Raise ``LostLeadership`` when the lock's connection is gone."""
        if self._conn is None:
            if self._postgres:
                raise LostLeadership("no lock held")
            return
        try:
            await self._conn.execute(text("SELECT 1"))
        except Exception as exc:
            await self.release()
            raise LostLeadership("the lock's connection failed") from exc

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _try_lock(self) -> bool:
        conn = await self._ctx.engine.connect()
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = await conn.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY}
            )
        except Exception:
            await conn.close()
            log.exception("routing_election_failed")
            return False
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def _next_epoch(self) -> int:
        async with transaction(self._ctx) as session:
            row = await session.get(RoutingLeadership, 1, with_for_update=True)
            if row is None:
                row = RoutingLeadership(id=1, epoch=0)
                session.add(row)
            row.epoch += 1
            row.holder = self.holder
            row.since = self._ctx.clock.now()
            await session.flush()
            return row.epoch


_LEADERSHIP = table_of(RoutingLeadership).c
#: Built once, on the table (no ORM bookkeeping): the router runs it in every batch.
_FENCE = (
    update(table_of(RoutingLeadership))
    .where(_LEADERSHIP.id == 1, _LEADERSHIP.epoch == bindparam("current"))
    .values(epoch=bindparam("current"))
)


async def fence(session: AsyncSession, epoch: int) -> None:
    """Lock the leadership row and check ``epoch`` is still current, else raise."""
    result = await session.execute(_FENCE, {"current": epoch})
    if getattr(result, "rowcount", 0) != 1:
        raise LostLeadership(f"epoch {epoch} is no longer the current one")
