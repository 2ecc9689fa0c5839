"""Rate-limit counters in the database (PostgreSQL deployments without a Redis bus)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import Iterator

import pytest

from opencx.core.errors import RateLimited
from opencx.db.ratelimits import DatabaseLimitStorage
from opencx.features.context import AppContext
from opencx.features.throttle import Limit, Throttle, build_throttle
from opencx.settings import Settings
from tests.e2e.conftest import free_port, wait_for


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


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A throwaway Redis server, when one is installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _answers(port), timeout=10)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


async def test_nodes_on_one_redis_share_the_counters(redis_url: str, settings: Settings) -> None:
    settings.bus.url = redis_url
    nodes = [build_throttle(settings) for _ in range(2)]
    assert {node.kind for node in nodes} == {"redis"}
    limit = Limit("redis", 5, 60)

    async def one(n: int) -> bool:
        try:
            await nodes[n % 2].hit(limit, "k")
        except RateLimited:
            return False
        return True

    try:
        results = await asyncio.gather(*(one(n) for n in range(50)))
    finally:
        for node in nodes:
            await node.close()
    assert results.count(True) == 5
