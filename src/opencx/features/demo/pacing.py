"""The simulation's waits: simulated seconds at the simulation's speed, cut short when
it stops. Stopping never interrupts a step that writes: it ends the next wait."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["Pacer", "Stopped"]


class Stopped(Exception):
    """The simulation is stopping: the wait that raised this is its work's end."""


class Pacer:
    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.stopping = asyncio.Event()

    async def wait(self, simulated_seconds: float) -> None:
        """Wait ``simulated_seconds`` of simulated time; ``Stopped`` once stopping."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(simulated_seconds, 0.0) / self.speed):
                await self.stopping.wait()
        if self.stopping.is_set():
            raise Stopped

    async def wait_real(self, seconds: float) -> None:
        """Wait ``seconds`` of real time (a poll); ``Stopped`` once stopping."""
        await self.wait(seconds * self.speed)

    def stop(self) -> None:
        self.stopping.set()
