"""The event bus: local fan-out, the bus between nodes over a fake broker, the codec,
and choosing a bus from its URL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from opencx.core.events import DomainEvent, EventType
from opencx.realtime.broker import BrokerBus, redacted
from opencx.realtime.bus import InProcessBus, Subscription
from opencx.realtime.codec import decode_envelope, encode_envelope, event_from_json, event_to_json
from opencx.realtime.factory import BusConfigError, create_bus

WAIT = 2.0  # seconds; every wait here is bounded


def event(n: int) -> DomainEvent:
    return DomainEvent(
        type=EventType.SITE_CHANGED,
        entity_kind="site",
        entity_id=1,
        occurred_at=datetime(2026, 1, 5, 9, 0, n, tzinfo=UTC),
        payload={"action": "site.update", "name": f"Lyon {n}"},
        actor_user_id=3,
        site_id=1,
        id=n,
    )


class FakeBroker:
    """Delivers every message to every listening transport, like Redis pub/sub."""

    def __init__(self) -> None:
        self.listeners: dict[FakeTransport, Callable[[bytes], None]] = {}
        self.down = False
        self.sent: list[bytes] = []


class FakeTransport:
    name = "fake://broker"

    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker
        self.cut = asyncio.Event()
        self.listens = 0

    async def listen(
        self, on_message: Callable[[bytes], None], on_ready: Callable[[], None]
    ) -> None:
        if self.broker.down:
            raise ConnectionError("broker down")
        self.listens += 1
        self.cut = asyncio.Event()
        self.broker.listeners[self] = on_message
        on_ready()
        try:
            await self.cut.wait()
            raise ConnectionError("link cut")
        finally:
            del self.broker.listeners[self]

    async def send(self, data: bytes) -> None:
        if self.broker.down:
            raise ConnectionError("broker down")
        self.broker.sent.append(data)
        for deliver in list(self.broker.listeners.values()):
            deliver(data)


async def next_item(queue: Subscription) -> DomainEvent | None:
    return await asyncio.wait_for(queue.get(), WAIT)


@pytest.fixture
def broker() -> FakeBroker:
    return FakeBroker()


async def started(broker: FakeBroker) -> BrokerBus:
    bus = BrokerBus(FakeTransport(broker), first_retry_delay=0, max_retry_delay=0)
    await bus.start(ready_timeout=WAIT)
    assert bus.is_listening
    return bus


async def test_each_node_delivers_every_event_exactly_once(broker: FakeBroker) -> None:
    a, b = await started(broker), await started(broker)
    on_a, on_b = a.subscribe(), b.subscribe()
    await a.publish([event(1), event(2)])
    await b.publish([event(3)])
    assert [(await next_item(on_a)) for _ in range(3)] == [event(1), event(2), event(3)]
    assert [(await next_item(on_b)) for _ in range(3)] == [event(1), event(2), event(3)]
    assert on_a.empty()
    assert on_b.empty()  # its own echo from the broker was not delivered again
    await a.stop()
    await b.stop()


async def test_broker_failure_is_logged_and_local_delivery_goes_on(broker: FakeBroker) -> None:
    bus = await started(broker)
    queue = bus.subscribe()
    broker.down = True
    with capture_logs() as logs:
        await bus.publish([event(1)])
    assert await next_item(queue) == event(1)
    assert logs == [
        {
            "event": "bus_publish_failed",
            "bus": "fake://broker",
            "error": "ConnectionError",
            "events": 1,
            "log_level": "warning",
        }
    ]
    await bus.stop()


async def test_lost_link_reconnects_and_tells_subscribers_to_resync(broker: FakeBroker) -> None:
    bus = await started(broker)
    transport = bus.transport
    assert isinstance(transport, FakeTransport)
    queue = bus.subscribe()
    transport.cut.set()
    assert await next_item(queue) is None  # resubscribe and read a fresh snapshot
    assert transport.listens == 2
    again = bus.subscribe()
    other = await started(broker)
    await other.publish([event(5)])
    assert await next_item(again) == event(5)
    await bus.stop()
    await other.stop()


async def test_start_gives_up_waiting_but_keeps_trying(broker: FakeBroker) -> None:
    broker.down = True
    bus = BrokerBus(FakeTransport(broker), first_retry_delay=0, max_retry_delay=0)
    with capture_logs() as logs:
        await bus.start(ready_timeout=0.05)
    assert not bus.is_listening
    assert {"event": "bus_not_ready", "bus": "fake://broker", "waited_s": 0.05} in [
        {k: v for k, v in entry.items() if k != "log_level"} for entry in logs
    ]
    broker.down = False
    await asyncio.wait_for(bus.until_listening(), WAIT)
    await bus.stop()


async def test_foreign_or_malformed_messages_are_ignored(broker: FakeBroker) -> None:
    bus = await started(broker)
    queue = bus.subscribe()
    sender = FakeTransport(broker)
    with capture_logs() as logs:
        await sender.send(b"not json")
        await sender.send(b'{"v": 99}')
        await sender.send(encode_envelope("another-node", [event(7)]))
    assert await next_item(queue) == event(7)
    assert [entry["event"] for entry in logs] == ["bus_message_ignored"] * 2
    await bus.stop()


def test_codec_round_trips_events_with_utc_timestamps() -> None:
    original = event(4)
    data = event_to_json(original)
    assert data["occurred_at"] == "2026-01-05T09:00:04+00:00"
    assert event_from_json(data) == original
    envelope = decode_envelope(encode_envelope("node-1", [original]))
    assert envelope.node == "node-1"
    assert envelope.events == (original,)
    with pytest.raises(ValueError, match="offset"):
        event_from_json({**data, "occurred_at": "2026-01-05T09:00:04"})
    with pytest.raises(ValueError, match="malformed"):
        event_from_json({"type": "site.changed"})


def test_in_process_bus_signals_overflow_and_resync() -> None:
    bus = InProcessBus(max_queue=2)
    slow, other = bus.subscribe(), bus.subscribe()
    bus.deliver_locally([event(1), event(2), event(3)])
    assert slow.get_nowait() is None
    assert slow.empty()
    assert bus.subscriber_count == 0  # both fell behind
    fresh = bus.subscribe()
    bus.resync_all()
    assert fresh.get_nowait() is None
    assert other.get_nowait() is None


def test_bus_is_chosen_by_url_scheme() -> None:
    assert isinstance(create_bus(None, channel="c"), InProcessBus)
    assert isinstance(create_bus("", channel="c"), InProcessBus)
    redis_bus = create_bus("redis://:s3cret@cache.internal:6380/2", channel="c")
    assert isinstance(redis_bus, BrokerBus)
    assert redis_bus.transport.name == "redis://cache.internal:6380/2"
    nats_bus = create_bus("nats://user:pw@nats.internal:4222", channel="c")
    assert isinstance(nats_bus, BrokerBus)
    assert "pw" not in nats_bus.transport.name
    with pytest.raises(BusConfigError, match="redis://, rediss:// or nats://"):
        create_bus("amqp://localhost", channel="c")


def test_missing_extra_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.delitem(sys.modules, "opencx.realtime.redis_bus", raising=False)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)  # as if not installed
    with pytest.raises(BusConfigError, match=r"pip install 'opencx\[redis\]'"):
        create_bus("rediss://cache.internal", channel="c")


def test_redacted_keeps_everything_but_credentials() -> None:
    assert redacted("rediss://u:p@h:1/0?ssl_cert_reqs=none") == "rediss://h:1/0?ssl_cert_reqs=none"
