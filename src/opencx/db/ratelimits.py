"""A ``limits`` store in our database: fixed-window counters shared by every node.

For deployments on PostgreSQL without a Redis bus. A hit is one statement, an upsert
that starts a new window when the old one is over and otherwise adds to it, returning
the count: PostgreSQL's row lock on the key makes parallel hits from any node add up
exactly. Rows of windows long over are deleted now and then by the hits themselves.
"""

from __future__ import annotations

import random
import time

from limits.aio.storage import Storage
from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from opencx.db.models import RateLimitCounter

__all__ = ["DatabaseLimitStorage"]

#: About one hit in this many also deletes the rows of windows that are over.
PURGE_EVERY = 200


class DatabaseLimitStorage(Storage):
    """Counters in ``rate_limit_counters`` (fixed windows only)."""

    STORAGE_SCHEME = ["opencx+database"]  # noqa: RUF012 - as the base class declares it

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(None)
        self.engine = engine
        dialect = engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return Exception

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        row = RateLimitCounter
        fresh = self._insert(row).values(key=key, count=amount, expires_at=now + expiry)
        over = row.expires_at <= now
        statement = fresh.on_conflict_do_update(
            index_elements=[row.key],
            set_={
                "count": case((over, fresh.excluded.count), else_=row.count + amount),
                "expires_at": case((over, fresh.excluded.expires_at), else_=row.expires_at),
            },
        ).returning(row.count)
        async with self.engine.begin() as conn:
            count = (await conn.execute(statement)).scalar_one()
            if random.randrange(PURGE_EVERY) == 0:  # noqa: S311 - not security
                await conn.execute(delete(row).where(row.expires_at <= now))
        return int(count)

    async def get(self, key: str) -> int:
        row = RateLimitCounter
        async with self.engine.connect() as conn:
            count = await conn.scalar(
                select(row.count).where(row.key == key, row.expires_at > time.time())
            )
        return int(count or 0)

    async def get_expiry(self, key: str) -> float:
        async with self.engine.connect() as conn:
            expires = await conn.scalar(
                select(RateLimitCounter.expires_at).where(RateLimitCounter.key == key)
            )
        return float(expires) if expires is not None else time.time()

    async def check(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.scalar(select(func.count()).select_from(RateLimitCounter))
        return True

    async def reset(self) -> int | None:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(RateLimitCounter))
        return int(result.rowcount)

    async def clear(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))
