"""Rate-limit rules: the sign-in delay per account, and counters that expire."""

from __future__ import annotations

import asyncio
import time

import pytest

from opencx.core.errors import RateLimited
from opencx.core.signin import account_delay
from opencx.features.auth.ratelimit import LoginRateLimiter
from opencx.features.throttle import Limit, Throttle, build_throttle, storage_kind
from opencx.settings import BusSettings, DatabaseSettings, LimitsSettings, Settings


def make_settings(**groups: object) -> Settings:
    return Settings(_env_file=None, **groups)  # type: ignore[call-arg, arg-type]


def test_the_account_delay_doubles_past_the_free_attempts_up_to_its_ceiling() -> None:
    delays = [account_delay(n, free=3, base=1.0, ceiling=10.0) for n in range(1, 9)]
    assert delays == [0.0, 0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 10.0]
    assert account_delay(10**6, free=3, base=1.0, ceiling=10.0) == 10.0
    assert account_delay(9, free=3, base=0.0, ceiling=10.0) == 0.0


def test_counters_are_shared_through_redis_or_postgresql_when_there() -> None:
    redis = BusSettings(url="redis://localhost:6379/0")
    postgres = DatabaseSettings(url="postgresql://db/opencx")
    assert storage_kind(make_settings()) == "memory"
    assert storage_kind(make_settings(bus=redis, database=postgres)) == "redis"
    assert storage_kind(make_settings(database=postgres)) == "database"
    forced = make_settings(database=postgres, limits=LimitsSettings(storage="memory"))
    assert storage_kind(forced) == "memory"


async def test_parallel_hits_pass_exactly_the_limit() -> None:
    throttle = build_throttle(make_settings())
    limit = Limit("t", 5, 60)

    async def one() -> bool:
        try:
            await throttle.hit(limit, "k")
        except RateLimited:
            return False
        return True

    results = await asyncio.gather(*(one() for _ in range(200)))
    assert results.count(True) == 5


async def test_memory_counters_expire_so_many_keys_leave_nothing_behind() -> None:
    throttle = build_throttle(make_settings())
    limit = Limit("t", 5, 1)
    for n in range(30_000):
        await throttle.hit(limit, f"198.51.{n // 256}.{n % 256}")
    assert throttle.tracked_keys() == 30_000
    # The library drops expired keys from a timer thread, slower on a busy machine: a
    # generous bound, which a quiet machine never comes near.
    deadline = time.monotonic() + 60
    while (throttle.tracked_keys() or 0) > 1:  # expired keys go as hits come
        assert time.monotonic() < deadline, throttle.tracked_keys()
        await throttle.hit(Limit("trigger", 1000, 1), "one more")
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("kind", ["memory"])
async def test_a_refused_hit_says_when_to_retry(kind: str) -> None:
    throttle = build_throttle(make_settings(limits=LimitsSettings(storage=kind)))  # type: ignore[arg-type]
    limit = Limit("t", 1, 60)
    await throttle.hit(limit, "k")
    with pytest.raises(RateLimited) as refused:
        await throttle.hit(limit, "k")
    assert 1 <= refused.value.retry_after <= 60
    assert isinstance(throttle, Throttle)


async def test_an_account_tried_from_many_addresses_slows_down_and_never_locks() -> None:
    settings = make_settings(
        limits=LimitsSettings(login_account_free_attempts=3, login_account_max_delay_seconds=4)
    )
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    limiter = LoginRateLimiter(build_throttle(settings), settings, sleep=sleep)
    for n in range(7):
        await limiter.admit("ada@example.com", f"198.51.100.{n}")
    assert waits == [1.0, 2.0, 4.0, 4.0]
    await limiter.admit("ada@example.com", "192.0.2.1")  # the owner: slowed, not refused
    assert waits[-1] == 4.0
