"""Redis pub/sub transport for the bus between nodes (``redis://`` or ``rediss://``).

Needs the ``redis`` extra: ``pip install 'opencx[redis]'``. Pub/sub keeps no history: a
node that was disconnected resyncs its live views when it is subscribed again.
"""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from opencx.realtime.broker import redacted

__all__ = ["RedisTransport"]

#: How long the listener waits for a message before checking the link with a PING.
PING_INTERVAL = 15.0


class RedisTransport:
    def __init__(self, url: str, channel: str) -> None:
        self._url = url
        self._channel = channel
        self._client: Redis | None = None

    @property
    def name(self) -> str:
        return redacted(self._url)

    async def listen(
        self, on_message: Callable[[bytes], None], on_ready: Callable[[], None]
    ) -> None:
        client = Redis.from_url(self._url)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            self._client = client
            while True:
                message = await pubsub.get_message(timeout=PING_INTERVAL)
                if message is None:
                    await pubsub.ping()
                elif message["type"] == "subscribe":
                    # Also sent again when redis-py reconnects and resubscribes by itself.
                    on_ready()
                elif message["type"] == "message":
                    on_message(message["data"])
        finally:
            self._client = None
            # Whether mypy sees PubSub.aclose as untyped depends on the redis-py release
            # installed: the ignore may be needed or unused, and the check passes either way.
            await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]
            await client.aclose()

    async def send(self, data: bytes) -> None:
        if self._client is not None:
            await self._client.publish(self._channel, data)
            return
        # Not listening (a CLI command, or the link is down): a short-lived connection.
        async with Redis.from_url(self._url) as client:
            await client.publish(self._channel, data)
