"""NATS transport for the bus between nodes (``nats://``, core subjects).

Needs the ``nats`` extra: ``pip install 'opencx[nats]'``. The client reconnects by itself
and replays the subscription; each reconnection makes live views resync, since core NATS
keeps no history for the time the link was down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg

from opencx.realtime.broker import redacted

__all__ = ["NatsTransport"]

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT = 3  # seconds


class NatsTransport:
    def __init__(self, url: str, subject: str) -> None:
        self._url = url
        self._subject = subject
        self._client: Client | None = None

    @property
    def name(self) -> str:
        return redacted(self._url)

    async def listen(
        self, on_message: Callable[[bytes], None], on_ready: Callable[[], None]
    ) -> None:
        closed = asyncio.Event()

        async def reconnected() -> None:
            on_ready()

        async def disconnected() -> None:
            log.warning("bus_link_lost", bus=self.name)

        async def on_closed() -> None:
            closed.set()

        async def on_error(exc: Exception) -> None:
            log.warning("bus_link_error", bus=self.name, error=type(exc).__name__)

        async def deliver(msg: Msg) -> None:
            on_message(msg.data)

        client = await nats.connect(
            servers=[self._url],
            name="opencx",
            connect_timeout=CONNECT_TIMEOUT,
            max_reconnect_attempts=-1,
            reconnected_cb=reconnected,
            disconnected_cb=disconnected,
            closed_cb=on_closed,
            error_cb=on_error,
        )
        try:
            await client.subscribe(self._subject, cb=deliver)
            await client.flush(timeout=CONNECT_TIMEOUT)
            self._client = client
            on_ready()
            await closed.wait()
        finally:
            self._client = None
            if not client.is_closed:
                await client.close()

    async def send(self, data: bytes) -> None:
        if self._client is not None:
            await self._client.publish(self._subject, data)
            return
        # Not listening (a CLI command, or the link is down): a short-lived connection.
        client = await nats.connect(
            servers=[self._url],
            connect_timeout=CONNECT_TIMEOUT,
            allow_reconnect=False,
            error_cb=_quiet,
        )
        try:
            await client.publish(self._subject, data)
            await client.flush(timeout=CONNECT_TIMEOUT)
        finally:
            await client.close()


async def _quiet(_exc: Exception) -> None:
    """The caller reports the failure; nats-py would log it a second time."""
