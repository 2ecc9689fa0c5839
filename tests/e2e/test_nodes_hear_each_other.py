"""What one node does reaches the others' waiting callers and caches through the real
bus (Redis, NATS): an agent on a node without the router is answered when the router's
node announces the outcome; a token revoked on one node is refused by the other at its
next request.

Two nodes in this process, each with its own context and bus connection on one broker
channel and one database; the router runs on node A only. The waiter's safety re-read
is pushed beyond the test's patience, so its answer can only have crossed the bus."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from opencx.core.enums import Role
from opencx.core.events import DomainEvent, EventType
from opencx.features.context import AppContext
from opencx.features.routing import commands, outcomes
from opencx.features.routing.commands import CommandKind, listen_for_wakeups, urgent_event
from opencx.features.routing.engine import routing_service
from opencx.features.routing.tasks import ReservationOut, act_on_reservation
from opencx.realtime.broker import BrokerBus
from opencx.realtime.bus import Subscription
from opencx.runtime import build_context
from opencx.settings import BusSettings, Settings
from opencx.web import create_app
from tests.conftest import Caller, MakeCaller
from tests.e2e.test_two_nodes import BUSES
from tests.integration.test_routing_api import agent_on, build_floor
from tests.integration.test_routing_outcomes import counted, offered

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@contextlib.asynccontextmanager
async def node(settings: Settings, bus_url: str, channel: str) -> AsyncIterator[AppContext]:
    bus = BusSettings(url=bus_url, channel=channel)
    ctx = build_context(settings.model_copy(update={"bus": bus}))
    publisher = ctx.publisher
    assert isinstance(publisher, BrokerBus)
    await publisher.start()
    try:
        yield ctx
    finally:
        await publisher.stop()
        await ctx.engine.dispose()


@pytest.mark.parametrize("bus", sorted(BUSES))
async def test_an_accept_on_another_node_is_answered_over_the_bus(
    bus: str,
    settings: Settings,
    admin: Caller,
    make_caller: MakeCaller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outcomes, "RECHECK_SECONDS", 3600.0)
    channel = f"opencx.e2e.{uuid.uuid4().hex}"
    async with node(settings, BUSES[bus], channel) as a, node(settings, BUSES[bus], channel) as b:
        heard_on_b = b.publisher.subscribe()  # type: ignore[attr-defined]
        service = asyncio.create_task(routing_service(a))
        try:
            transport = httpx.ASGITransport(app=create_app(a))
            async with httpx.AsyncClient(transport=transport, base_url="http://a") as client:
                floor = await build_floor(client, admin)
                agent = await agent_on(client, make_caller, floor)
                principal, offer = await offered(client, floor, agent)
            waiter_b, sessions = counted(b)

            accepted = await act_on_reservation(
                waiter_b, principal, offer["id"], CommandKind.ACCEPT
            )

            assert (accepted.id, accepted.state) == (offer["id"], "accepted")
            assert sessions.opened == 1
            answered = [
                ReservationOut.model_validate(outcome["reservation"])
                for event in drain(heard_on_b)
                if event.type is EventType.ROUTING_COMMANDS_DONE
                for outcome in event.payload["outcomes"]
                if outcome["reservation"] is not None
            ]
            assert answered == [accepted]
        finally:
            service.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await service


def drain(queue: Subscription) -> list[DomainEvent]:
    events = []
    while not queue.empty():
        event = queue.get_nowait()
        assert event is not None, "node B's bus link dropped during the test"
        events.append(event)
    return events


@pytest.mark.parametrize("bus", sorted(BUSES))
async def test_a_token_revoked_on_one_node_is_refused_by_the_other_at_once(
    bus: str, settings: Settings, make_caller: MakeCaller
) -> None:
    channel = f"opencx.e2e.{uuid.uuid4().hex}"
    agent = await make_caller(Role.AGENT)
    async with node(settings, BUSES[bus], channel) as a, node(settings, BUSES[bus], channel) as b:
        heard_on_b = b.publisher.subscribe()  # type: ignore[attr-defined]
        on_a = httpx.ASGITransport(app=create_app(a))
        on_b = httpx.ASGITransport(app=create_app(b))
        async with (
            httpx.AsyncClient(transport=on_a, base_url="http://a") as http_a,
            httpx.AsyncClient(transport=on_b, base_url="http://b") as http_b,
        ):
            me = await http_b.get("/api/v1/users/me", headers=agent.headers)
            assert me.status_code == 200  # node B now remembers the token
            tokens = await http_a.get("/api/v1/tokens", headers=agent.headers)
            [token] = tokens.json()["items"]

            revoked = await http_a.delete(f"/api/v1/tokens/{token['id']}", headers=agent.headers)
            assert revoked.status_code == 200
            async with asyncio.timeout(10):  # the bus carries it to node B
                while (event := await heard_on_b.get()) is None or (
                    event.type is not EventType.USER_ACCESS_ENDED
                ):
                    pass

            again = await http_b.get("/api/v1/users/me", headers=agent.headers)
            assert again.status_code == 401


@pytest.mark.parametrize("bus", sorted(BUSES))
async def test_a_caller_on_another_node_wakes_the_router_without_its_poll(
    bus: str, settings: Settings
) -> None:
    channel = f"opencx.e2e.{uuid.uuid4().hex}"
    async with node(settings, BUSES[bus], channel) as a, node(settings, BUSES[bus], channel) as b:
        hearing = asyncio.create_task(listen_for_wakeups(a))
        try:
            await asyncio.sleep(0)  # it subscribes
            urgent = urgent_event()
            urgent.clear()

            await commands._wake_other_nodes(b)  # what a waiting caller on node B sends

            async with asyncio.timeout(10):
                await urgent.wait()
        finally:
            hearing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hearing
