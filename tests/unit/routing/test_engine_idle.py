"""The router's wait between batches: woken by a command, timed out by the clock, and
always stoppable (a server shutting down cancels it)."""

from __future__ import annotations

import asyncio

from opencx.features.routing.engine import idle


async def test_a_router_stops_when_cancelled_just_as_a_command_wakes_it() -> None:
    wakeup = asyncio.Event()
    waiting = asyncio.create_task(idle(wakeup, delay=60.0, window=0.0))
    await asyncio.sleep(0)  # it is waiting for work
    wakeup.set()
    waiting.cancel()
    await asyncio.wait({waiting}, timeout=1.0)
    assert waiting.cancelled()


async def test_a_wake_up_is_followed_by_the_batch_window() -> None:
    wakeup = asyncio.Event()
    loop = asyncio.get_running_loop()
    waiting = asyncio.create_task(idle(wakeup, delay=60.0, window=0.05))
    await asyncio.sleep(0)
    started = loop.time()
    wakeup.set()
    await waiting
    assert 0.04 <= loop.time() - started < 1.0


async def test_with_no_command_the_wait_ends_at_its_delay() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await idle(asyncio.Event(), delay=0.05, window=10.0)  # no window after a time-out
    assert 0.04 <= loop.time() - started < 1.0
