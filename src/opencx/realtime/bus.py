"""The event bus: publishes committed events to every subscriber on every node.

``InProcessBus`` serves one process; the broker buses (``opencx.realtime.broker``, with a
Redis or NATS transport) carry the same events between nodes and fan them out locally
through an ``InProcessBus``.

A subscriber's queue yields events in the order this node received them, or ``None``:
the queue was dropped (the subscriber fell behind, or the link to other nodes was lost
for a while) and the subscriber must subscribe again and read a fresh snapshot.

A new subscriber hears every event. One that knows what it is about (a live feed, once
its view is read) narrows itself with ``listen_on(queue, keys)``: from then on it hears
only the events routed by one of its keys (``opencx.core.live_routes``), and its keys
grow by what those events add, so that a thousand agents' sockets cost one dictionary
lookup per event rather than a thousand wake-ups.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Protocol, runtime_checkable

from opencx.core.events import DomainEvent
from opencx.core.live_routes import Key, event_routes

__all__ = ["EventSource", "InProcessBus", "Subscription"]

#: What a subscriber reads: events, or ``None`` meaning "resubscribe and resync".
Subscription = asyncio.Queue[DomainEvent | None]
#: The keys an event is routed by, each with the keys a subscriber gains by it.
RoutesOf = Callable[[DomainEvent], Mapping[Key, frozenset[Key]]]


@runtime_checkable
class EventSource(Protocol):
    """Where live views get committed events from (every bus is one)."""

    def subscribe(self) -> Subscription: ...

    def unsubscribe(self, queue: Subscription) -> None: ...

    def listen_on(self, queue: Subscription, keys: Collection[Key]) -> None:
        """From now on, hand ``queue`` only the events routed by one of ``keys``."""
        ...

    def keys_of(self, queue: Subscription) -> frozenset[Key] | None:
        """The keys ``queue`` listens on now (grown by the events it was handed), or
        ``None`` while it hears everything."""
        ...


class InProcessBus:
    """Fan-out to local subscriber queues; a slow subscriber never blocks publishers."""

    def __init__(self, *, max_queue: int = 10_000, routes_of: RoutesOf = event_routes) -> None:
        self._everything: set[Subscription] = set()
        self._keys: dict[Subscription, set[Key]] = {}
        self._listeners: dict[Key, set[Subscription]] = {}
        self._max_queue = max_queue
        self._routes_of = routes_of

    @property
    def subscriber_count(self) -> int:
        return len(self._everything) + len(self._keys)

    @property
    def narrowed_count(self) -> int:
        """Subscribers listening on keys rather than hearing everything."""
        return len(self._keys)

    def subscribe(self) -> Subscription:
        queue: Subscription = asyncio.Queue(self._max_queue)
        self._everything.add(queue)
        return queue

    def unsubscribe(self, queue: Subscription) -> None:
        self._everything.discard(queue)
        for key in self._keys.pop(queue, ()):
            self._forget(key, queue)

    def listen_on(self, queue: Subscription, keys: Collection[Key]) -> None:
        if queue in self._everything:
            self._everything.discard(queue)
        elif queue in self._keys:
            if self._keys[queue] == set(keys):
                return
            for key in self._keys.pop(queue):
                self._forget(key, queue)
        else:
            return  # dropped: its None is waiting for it
        self._keys[queue] = set(keys)
        for key in keys:
            self._listeners.setdefault(key, set()).add(queue)

    def keys_of(self, queue: Subscription) -> frozenset[Key] | None:
        keys = self._keys.get(queue)
        return None if keys is None else frozenset(keys)

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        self.deliver_locally(events)

    def deliver_locally(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            for queue in self._audience(event):
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    # The subscriber fell too far behind: None tells it to resync
                    # from a fresh snapshot rather than silently miss events.
                    self.unsubscribe(queue)
                    _drop_and_signal(queue)

    def resync_all(self) -> None:
        """Tell every subscriber that events may have been missed (a link was down)."""
        for queue in [*self._everything, *self._keys]:
            self.unsubscribe(queue)
            _drop_and_signal(queue)

    def _audience(self, event: DomainEvent) -> list[Subscription]:
        audience = list(self._everything)
        if not self._listeners:
            return audience
        handed: set[Subscription] = set()
        gains: list[tuple[Subscription, frozenset[Key]]] = []
        for key, gained in self._routes_of(event).items():
            for queue in self._listeners.get(key, ()):
                if queue not in handed:
                    handed.add(queue)
                    audience.append(queue)
                if gained:
                    gains.append((queue, gained))
        for queue, gained in gains:
            keys = self._keys[queue]
            for key in gained - keys:
                keys.add(key)
                self._listeners.setdefault(key, set()).add(queue)
        return audience

    def _forget(self, key: Key, queue: Subscription) -> None:
        listeners = self._listeners.get(key)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                del self._listeners[key]


def _drop_and_signal(queue: Subscription) -> None:
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(None)
