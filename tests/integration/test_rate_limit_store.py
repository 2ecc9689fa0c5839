"""Rate-limit counters in the database (PostgreSQL deployments without a Redis bus)."""

from __future__ import annotations

import asyncio

from opencx.core.errors import RateLimited
from opencx.db.ratelimits import DatabaseLimitStorage
from opencx.features.context import AppContext
from opencx.features.throttle import Limit, Throttle


async def test_parallel_hits_in_the_database_pass_exactly_the_limit(ctx: AppContext) -> None:
    # Two throttles on one database stand for two nodes.
    nodes = [Throttle(DatabaseLimitStorage(ctx.engine), kind="database") for _ in range(2)]
    limit = Limit("db", 5, 60)

    async def one(n: int) -> int:
        """0 when admitted, else the Retry-After."""
        try:
            await nodes[n % 2].hit(limit, "k")
        except RateLimited as refused:
            return refused.retry_after
        return 0

    results = [await one(n) for n in range(3)]
    results += await asyncio.gather(*(one(n) for n in range(20)))
    assert results.count(0) == 5
    assert all(1 <= retry <= 60 for retry in results if retry)
    assert await nodes[1].count(limit, "k") >= 5
    await nodes[0].clear(limit, "k")
    await nodes[1].hit(limit, "k")


async def test_a_window_that_is_over_starts_again(ctx: AppContext) -> None:
    throttle = Throttle(DatabaseLimitStorage(ctx.engine), kind="database")
    storage = throttle.storage
    assert await storage.incr("w", 60) == 1
    assert await storage.incr("w", 60) == 2
    assert await storage.incr("gone", -1) == 1  # a window already over
    assert await storage.incr("gone", 60) == 1
    assert await storage.get("gone") == 1
    assert await storage.check()
