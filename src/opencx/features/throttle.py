"""Rate limits over one counter store, with the ``limits`` library.

Rules:
- a limit is counted when the attempt is made, before the work it guards (a password
  check, a stored message): each hit is one atomic step of the store, so parallel
  requests cannot all pass a check that only one of them should;
- the store is Redis when the bus is Redis (every node shares the counters, moving
  windows in Lua), else the database when it is PostgreSQL (a fixed-window counter per
  key, one atomic upsert a hit: see ``opencx.db.ratelimits``), else this process's memory
  (moving windows);
- every counter expires with its window, so the store holds only the keys hit in the
  last window, however many addresses were tried.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
)
from limits.storage import storage_from_string

from opencx.core.errors import RateLimited
from opencx.settings import Settings

__all__ = ["Limit", "Throttle", "build_throttle", "storage_kind"]

StorageKind = Literal["memory", "redis", "database"]


@dataclass(frozen=True, slots=True)
class Limit:
    """``amount`` hits per ``seconds`` for one key of the ``name`` family."""

    name: str
    amount: int
    seconds: int
    #: The detail of the 429 (API problem details are English).
    detail: str = "too many requests; try again later"

    @property
    def item(self) -> RateLimitItem:
        return RateLimitItemPerSecond(self.amount, self.seconds, namespace=self.name)


class Throttle:
    """Counts hits per (limit, key) and refuses those past the limit."""

    def __init__(self, storage: Storage, *, kind: StorageKind) -> None:
        self.storage = storage
        self.kind = kind
        self._limiter: RateLimiter = (
            FixedWindowRateLimiter(storage)
            if kind == "database"
            else MovingWindowRateLimiter(storage)
        )

    async def hit(self, limit: Limit, key: str) -> None:
        """Count one hit; ``RateLimited`` (with Retry-After) when past the limit."""
        if not await self._limiter.hit(limit.item, key):
            raise RateLimited(limit.detail, retry_after=await self.retry_after(limit, key))

    async def count(self, limit: Limit, key: str) -> int:
        """Hits counted in ``key``'s current window."""
        stats = await self._limiter.get_window_stats(limit.item, key)
        return limit.amount - stats.remaining

    async def retry_after(self, limit: Limit, key: str) -> int:
        stats = await self._limiter.get_window_stats(limit.item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def clear(self, limit: Limit, key: str) -> None:
        await self._limiter.clear(limit.item, key)

    async def close(self) -> None:
        """Close the store's connections (Redis); the others hold none of their own."""
        if isinstance(self.storage, RedisStorage):
            client: Any = getattr(self.storage.bridge, "storage", None)  # redis-py's client
            if client is not None:
                await client.aclose()

    def tracked_keys(self) -> int | None:
        """How many keys the in-memory store holds (None for a shared store)."""
        if isinstance(self.storage, MemoryStorage):
            return len(self.storage.events) + len(self.storage.storage)
        return None


def storage_kind(settings: Settings) -> StorageKind:
    chosen = settings.limits.storage
    if chosen != "auto":
        return chosen
    bus = settings.bus.url or ""
    if bus.startswith(("redis://", "rediss://")):
        return "redis"
    return "database" if settings.database.is_postgres else "memory"


def build_throttle(settings: Settings, *, database: Storage | None = None) -> Throttle:
    """The throttle for these settings; ``database`` is the store for kind "database"."""
    kind = storage_kind(settings)
    if kind == "redis":
        url = settings.bus.url
        if not url:
            raise ValueError("OPENCX_LIMITS__STORAGE=redis needs OPENCX_BUS__URL=redis://...")
        # redis-py, the client the Redis bus already needs (the ``redis`` extra).
        storage = storage_from_string(
            f"async+{url}", implementation="redispy", key_prefix="opencx.limits"
        )
        assert isinstance(storage, Storage)
        return Throttle(storage, kind=kind)
    if kind == "database":
        if database is None:
            raise ValueError("OPENCX_LIMITS__STORAGE=database needs PostgreSQL or SQLite")
        return Throttle(database, kind=kind)
    return Throttle(MemoryStorage(), kind=kind)
