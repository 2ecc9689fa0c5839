"""A bus between nodes: local fan-out plus a broker transport (Redis, NATS).

Rules:
- ``publish`` delivers a node's own events to its local subscribers at once, then sends
  them to the broker for the other nodes; the listener ignores the node's own messages
  when they come back, so every event reaches each node's subscribers exactly once, and a
  node keeps serving its own users while the broker is down.
- A failed or slow send is logged (transport and error type only, never the URL's
  credentials) and never fails the request that committed the events.
- Each time the subscription is (re)established, local subscribers are told to resync:
  events from other nodes may have been missed while the link was down.
- The listener reconnects forever, backing off exponentially up to ``max_retry_delay``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Collection, Sequence
from typing import Protocol
from urllib.parse import urlsplit

import structlog

from opencx.core.events import DomainEvent
from opencx.core.live_routes import Key
from opencx.realtime.bus import InProcessBus, Subscription
from opencx.realtime.codec import decode_envelope, encode_envelope

__all__ = ["BrokerBus", "Transport", "redacted"]

log = structlog.get_logger(__name__)


class Transport(Protocol):
    """One broker channel (or subject) carrying raw bytes."""

    @property
    def name(self) -> str:
        """Where it points, without credentials, for logs: ``redis://host:6379/0``."""
        ...

    async def listen(
        self, on_message: Callable[[bytes], None], on_ready: Callable[[], None]
    ) -> None:
        """Connect and subscribe; call ``on_ready`` every time the subscription is
        (re)established and ``on_message`` for every message. Return or raise when the
        link is lost for good; cancelling stops it and closes the connection."""
        ...

    async def send(self, data: bytes) -> None:
        """Publish one message, through the listening connection when there is one."""
        ...


class BrokerBus:
    """An ``EventSource`` and ``Publisher`` shared by every node on one broker channel."""

    def __init__(
        self,
        transport: Transport,
        *,
        local: InProcessBus | None = None,
        send_timeout: float = 2.0,
        first_retry_delay: float = 0.5,
        max_retry_delay: float = 30.0,
    ) -> None:
        self.transport = transport
        self.local = local or InProcessBus()
        self.node_id = uuid.uuid4().hex
        self._send_timeout = send_timeout
        self._first_retry_delay = first_retry_delay
        self._max_retry_delay = max_retry_delay
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def is_listening(self) -> bool:
        """Subscribed on the broker right now."""
        return self._ready.is_set()

    async def until_listening(self) -> None:
        """Wait until the subscription on the broker is established."""
        await self._ready.wait()

    def subscribe(self) -> Subscription:
        return self.local.subscribe()

    def unsubscribe(self, queue: Subscription) -> None:
        self.local.unsubscribe(queue)

    def listen_on(self, queue: Subscription, keys: Collection[Key]) -> None:
        self.local.listen_on(queue, keys)

    def keys_of(self, queue: Subscription) -> frozenset[Key] | None:
        return self.local.keys_of(queue)

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        if not events:
            return
        self.local.deliver_locally(events)
        try:
            data = encode_envelope(self.node_id, events)
            # asyncio.timeout, not wait_for, which on 3.11 may swallow a cancellation
            async with asyncio.timeout(self._send_timeout):
                await self.transport.send(data)
        except Exception as exc:
            log.warning(
                "bus_publish_failed",
                bus=self.transport.name,
                error=type(exc).__name__,
                events=len(events),
            )

    async def start(self, *, ready_timeout: float = 5.0) -> None:
        """Start listening; wait (bounded) for the first subscription so that a node
        does not serve live views before it hears the other nodes."""
        if self._task is not None:
            return
        self._task = asyncio.create_task(self._listen_forever(), name="opencx-bus-listener")
        try:
            async with asyncio.timeout(ready_timeout):
                await self._ready.wait()
        except TimeoutError:
            log.warning("bus_not_ready", bus=self.transport.name, waited_s=ready_timeout)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._ready.clear()

    async def _listen_forever(self) -> None:
        delay = self._first_retry_delay
        while True:
            try:
                await self.transport.listen(self._on_message, self._on_ready)
                log.warning("bus_link_closed", bus=self.transport.name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("bus_link_failed", bus=self.transport.name, error=type(exc).__name__)
            if self._ready.is_set():
                delay = self._first_retry_delay  # it had worked: retry promptly
            self._ready.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_retry_delay)

    def _on_ready(self) -> None:
        if self._ready.is_set():
            log.info("bus_resubscribed", bus=self.transport.name)
        self._ready.set()
        self.local.resync_all()

    def _on_message(self, data: bytes) -> None:
        try:
            envelope = decode_envelope(data)
        except ValueError as exc:
            log.warning("bus_message_ignored", bus=self.transport.name, error=str(exc)[:200])
            return
        if envelope.node != self.node_id:
            self.local.deliver_locally(envelope.events)


def redacted(url: str) -> str:
    """The URL without user name or password, fit for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()
