"""An API token is resolved once per ``token_cache_seconds``, and whatever ends or
changes the access it gives takes effect at the very next request.

The app here publishes to a bus, as a server does (the usual test context records
events instead, and so runs without the cache): in process on SQLite, whose file shows
other processes' commits; on PostgreSQL, a bus between nodes, without which there is no
cache."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from opencx.core.enums import Role
from opencx.core.events import DomainEvent, EventType
from opencx.features.auth.service import authenticate_token
from opencx.features.auth.token_cache import TokenCache, token_cache
from opencx.features.auth.tokens import hash_token, revoke_token_as_system
from opencx.features.context import AppContext
from opencx.realtime.broker import BrokerBus
from opencx.realtime.bus import InProcessBus
from opencx.runtime import build_context
from opencx.settings import Settings
from opencx.testing import RecordingPublisher
from opencx.web import create_app
from tests.conftest import Caller, MakeCaller
from tests.integration.test_routing_outcomes import counted


class Loopback:
    """A broker with one node on it: what it sends comes back to it."""

    name = "loopback"

    def __init__(self) -> None:
        self._deliver: Callable[[bytes], None] | None = None

    async def listen(
        self, on_message: Callable[[bytes], None], on_ready: Callable[[], None]
    ) -> None:
        self._deliver = on_message
        on_ready()
        await asyncio.Event().wait()

    async def send(self, data: bytes) -> None:
        if self._deliver is not None:
            self._deliver(data)


@pytest.fixture
async def bus_ctx(ctx: AppContext) -> AsyncIterator[AppContext]:
    if not ctx.settings.database.is_postgres:
        ctx.publisher = InProcessBus()
        yield ctx
        return
    bus = BrokerBus(Loopback())
    await bus.start()
    ctx.publisher = bus
    yield ctx
    await bus.stop()


@pytest.fixture
async def other_process(settings: Settings) -> AsyncIterator[AppContext]:
    """Another process on the same database (``opencx token revoke``): its own engine,
    and no bus to this one."""
    other = build_context(settings)
    other.publisher = RecordingPublisher()
    yield other
    await other.engine.dispose()


@pytest.fixture
async def http(bus_ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(bus_ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def status(http: httpx.AsyncClient, caller: Caller, path: str = "/api/v1/users/me") -> int:
    return (await http.get(path, headers=caller.headers)).status_code


async def test_a_token_is_resolved_once_then_remembered(
    bus_ctx: AppContext, make_caller: MakeCaller
) -> None:
    agent = await make_caller(Role.AGENT)
    counting, sessions = counted(bus_ctx)

    first = await authenticate_token(counting, agent.token)
    again = await authenticate_token(counting, agent.token)

    assert again == first
    assert first.principal.user_id == agent.user.id
    assert sessions.opened == 1


async def test_a_revoked_token_is_refused_at_the_next_request(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    agent = await make_caller(Role.AGENT)
    assert await status(http, agent) == 200  # now remembered
    [token] = (await http.get("/api/v1/tokens", headers=agent.headers)).json()["items"]

    revoked = await http.delete(f"/api/v1/tokens/{token['id']}", headers=agent.headers)

    assert revoked.status_code == 200
    assert await status(http, agent) == 401


async def test_a_deactivated_user_is_refused_at_the_next_request(
    http: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    agent = await make_caller(Role.AGENT)
    assert await status(http, agent) == 200
    body = {"is_active": False}
    changed = await http.patch(f"/api/v1/users/{agent.user.id}", json=body, headers=admin.headers)
    assert changed.status_code == 200, changed.text

    assert await status(http, agent) == 401


async def test_a_changed_role_applies_at_the_next_request(
    http: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    other = await make_caller(Role.ADMIN)
    assert await status(http, other, "/api/v1/audit") == 200
    body = {"role": "agent"}
    changed = await http.patch(f"/api/v1/users/{other.user.id}", json=body, headers=admin.headers)
    assert changed.status_code == 200, changed.text

    assert await status(http, other, "/api/v1/audit") == 403


async def test_a_new_password_ends_access_as_it_did_without_the_cache(
    bus_ctx: AppContext, http: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    agent = await make_caller(Role.AGENT)
    assert await status(http, agent) == 200
    body = {"password": "a brand new password"}
    changed = await http.patch(f"/api/v1/users/{agent.user.id}", json=body, headers=admin.headers)
    assert changed.status_code == 200, changed.text
    cache = token_cache(bus_ctx)
    assert cache is not None

    # Whatever the store now says of the token, the process asks the store again.
    assert cache.get(_digest(agent.token)) is None


def _digest(raw: str) -> str:
    return hash_token(raw)


async def test_a_change_heard_during_the_read_is_not_remembered(
    bus_ctx: AppContext, make_caller: MakeCaller
) -> None:
    agent = await make_caller(Role.AGENT)
    cache = token_cache(bus_ctx)
    assert cache is not None
    generation = cache.generation
    read = await authenticate_token(_uncached(bus_ctx), agent.token)
    await bus_ctx.publisher.publish([_access_ended(agent.user.id)])  # while it was read

    cache.put(_digest(agent.token), read, user_id=agent.user.id, generation=generation)

    assert cache.get(_digest(agent.token)) is None


async def test_a_dropped_subscription_forgets_everything(
    bus_ctx: AppContext, make_caller: MakeCaller
) -> None:
    agent = await make_caller(Role.AGENT)
    bus = bus_ctx.publisher
    local = bus.local if isinstance(bus, BrokerBus) else bus
    assert isinstance(local, InProcessBus)
    await authenticate_token(bus_ctx, agent.token)
    cache = token_cache(bus_ctx)
    assert cache is not None
    assert cache.get(_digest(agent.token)) is not None

    local.resync_all()  # what a bus does when its link to other nodes was down

    assert cache.get(_digest(agent.token)) is None


async def test_a_bus_not_connected_to_other_nodes_disables_the_cache(
    bus_ctx: AppContext, make_caller: MakeCaller
) -> None:
    agent = await make_caller(Role.AGENT)
    bus = DeafBus()
    cache = TokenCache(bus, ttl=60.0, loop=asyncio.get_running_loop())
    read = await authenticate_token(_uncached(bus_ctx), agent.token)

    cache.put(_digest(agent.token), read, user_id=agent.user.id, generation=cache.generation)

    assert cache.get(_digest(agent.token)) is None


async def test_no_cache_without_a_bus_to_hear_changes(ctx: AppContext) -> None:
    assert token_cache(ctx) is None  # the recording publisher hears nothing


async def test_postgresql_without_a_bus_between_nodes_has_no_cache(ctx: AppContext) -> None:
    if not ctx.settings.database.is_postgres:
        pytest.skip("on SQLite the file itself shows other processes' commits")
    ctx.publisher = InProcessBus()
    assert token_cache(ctx) is None


async def test_a_revocation_by_another_process_is_refused_at_the_next_request(
    bus_ctx: AppContext,
    http: httpx.AsyncClient,
    make_caller: MakeCaller,
    other_process: AppContext,
) -> None:
    if bus_ctx.settings.database.is_postgres:
        pytest.skip("PostgreSQL hears other processes through the bus between nodes")
    agent = await make_caller(Role.AGENT)
    assert await status(http, agent) == 200  # now remembered
    [token] = (await http.get("/api/v1/tokens", headers=agent.headers)).json()["items"]

    await revoke_token_as_system(other_process, token["id"])

    assert await status(http, agent) == 401


async def test_other_processes_commits_that_change_no_access_keep_the_cache(
    bus_ctx: AppContext, make_caller: MakeCaller, other_process: AppContext
) -> None:
    if bus_ctx.settings.database.is_postgres:
        pytest.skip("PostgreSQL hears other processes through the bus between nodes")
    agent = await make_caller(Role.AGENT)
    counting, sessions = counted(bus_ctx)
    await authenticate_token(counting, agent.token)
    async with other_process.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE users SET display_name = 'Ana B.' WHERE id = :id"), {"id": agent.user.id}
        )

    await authenticate_token(counting, agent.token)

    assert sessions.opened == 1


class DeafBus(InProcessBus):
    is_listening = False


def _uncached(ctx: AppContext) -> AppContext:
    return dataclasses.replace(ctx, publisher=RecordingPublisher(), local={})


def _access_ended(user_id: int) -> DomainEvent:
    return DomainEvent(
        type=EventType.USER_ACCESS_ENDED,
        entity_kind="user",
        entity_id=user_id,
        occurred_at=datetime(2026, 1, 5, tzinfo=UTC),
    )
