"""The event bus: publishes committed events to every subscriber on every node.

``InProcessBus`` serves one process; the Redis and NATS buses carry the same events
between nodes and fan them out locally through an ``InProcessBus``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from opencx.core.events import DomainEvent

__all__ = ["InProcessBus"]


class InProcessBus:
    """Fan-out to local subscriber queues; a slow subscriber never blocks publishers."""

    def __init__(self, *, max_queue: int = 10_000) -> None:
        self._subscribers: set[asyncio.Queue[DomainEvent | None]] = set()
        self._max_queue = max_queue

    def subscribe(self) -> asyncio.Queue[DomainEvent | None]:
        queue: asyncio.Queue[DomainEvent | None] = asyncio.Queue(self._max_queue)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[DomainEvent | None]) -> None:
        self._subscribers.discard(queue)

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        self.deliver_locally(events)

    def deliver_locally(self, events: Sequence[DomainEvent]) -> None:
        for queue in list(self._subscribers):
            for event in events:
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    # The subscriber fell too far behind: None tells it to resync
                    # from a fresh snapshot rather than silently miss events.
                    self._subscribers.discard(queue)
                    _drop_and_signal(queue)
                    break


def _drop_and_signal(queue: asyncio.Queue[DomainEvent | None]) -> None:
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(None)
