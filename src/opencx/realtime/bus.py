"""The event bus: publishes committed events to every subscriber on every node.

``InProcessBus`` serves one process; the broker buses (``opencx.realtime.broker``, with a
Redis or NATS transport) carry the same events between nodes and fan them out locally
through an ``InProcessBus``.

A subscriber's queue yields events in the order this node received them, or ``None``:
the queue was dropped (the subscriber fell behind, or the link to other nodes was lost
for a while) and the subscriber must subscribe again and read a fresh snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from opencx.core.events import DomainEvent

__all__ = ["EventSource", "InProcessBus", "Subscription"]

#: What a subscriber reads: events, or ``None`` meaning "resubscribe and resync".
Subscription = asyncio.Queue[DomainEvent | None]


@runtime_checkable
class EventSource(Protocol):
    """Where live views get committed events from (every bus is one)."""

    def subscribe(self) -> Subscription: ...

    def unsubscribe(self, queue: Subscription) -> None: ...


class InProcessBus:
    """Fan-out to local subscriber queues; a slow subscriber never blocks publishers."""

    def __init__(self, *, max_queue: int = 10_000) -> None:
        self._subscribers: set[Subscription] = set()
        self._max_queue = max_queue

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> Subscription:
        queue: Subscription = asyncio.Queue(self._max_queue)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: Subscription) -> None:
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

    def resync_all(self) -> None:
        """Tell every subscriber that events may have been missed (a link was down)."""
        for queue in list(self._subscribers):
            self._subscribers.discard(queue)
            _drop_and_signal(queue)


def _drop_and_signal(queue: Subscription) -> None:
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(None)
