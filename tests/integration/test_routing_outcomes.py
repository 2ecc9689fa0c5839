"""A caller waiting for the router is answered by the router itself: no polling.

The waiter's safety re-read is pushed far beyond the test's patience, so an answer can
only have come from the router's announcement; and the sessions the waiter opens are
counted: one, the transaction that queued its command."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Role
from opencx.core.errors import Conflict
from opencx.core.events import DomainEvent, EventType
from opencx.core.permissions import Principal
from opencx.features.context import AppContext, transaction
from opencx.features.routing import outcomes
from opencx.features.routing.commands import (
    CommandKind,
    await_outcome,
    awaiting_outcomes,
    enqueue,
    urgent_event,
    wake_router,
    wakeup_event,
)
from opencx.features.routing.engine import idle
from opencx.features.routing.tasks import act_on_reservation
from opencx.testing import RecordingPublisher
from tests.conftest import Caller, MakeCaller
from tests.integration.test_routing_api import (
    Floor,
    agent_on,
    build_floor,
    new_task,
    offers,
    router,
    task_when,
)

__all__ = ["router"]  # the fixture, used by name


class CountingSessions:
    """``ctx.sessions`` that counts the sessions opened through it."""

    def __init__(self, ctx: AppContext) -> None:
        self._sessions = ctx.sessions
        self.opened = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        self.opened += 1
        async with self._sessions() as session:
            yield session


def counted(ctx: AppContext) -> tuple[AppContext, CountingSessions]:
    """The same process (its waiters and router) seen through a session counter."""
    sessions = CountingSessions(ctx)
    return dataclasses.replace(ctx, sessions=sessions), sessions  # type: ignore[arg-type]


@pytest.fixture
def no_rereads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outcomes, "RECHECK_SECONDS", 3600.0)


async def offered(
    client: httpx.AsyncClient, floor: Floor, agent: Caller
) -> tuple[Principal, dict[str, Any]]:
    task = await new_task(client, floor)
    await task_when(client, floor.admin, task["id"], "reserved")
    [offer] = await offers(client, agent, state="pending")
    return Principal(user_id=agent.user.id, role=Role.AGENT, site_id=floor.site_id), offer


async def test_an_accept_is_answered_by_the_router_without_reading_back(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    router: None,
    no_rereads: None,
) -> None:
    floor = await build_floor(client, admin)
    agent = await agent_on(client, make_caller, floor)
    principal, offer = await offered(client, floor, agent)
    waiter_ctx, sessions = counted(ctx)

    accepted = await act_on_reservation(waiter_ctx, principal, offer["id"], CommandKind.ACCEPT)

    assert (accepted.id, accepted.state, accepted.ended_at) == (offer["id"], "accepted", None)
    assert sessions.opened == 1  # queuing the command; no poll, no read back
    stored = (await offers(client, agent))[0]
    assert accepted.model_dump(mode="json") == stored


async def test_a_refusal_reaches_the_waiter_as_the_router_gave_it(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    router: None,
    no_rereads: None,
) -> None:
    floor = await build_floor(client, admin)
    agent = await agent_on(client, make_caller, floor)
    waiter_ctx, sessions = counted(ctx)
    async with awaiting_outcomes(waiter_ctx) as expect, transaction(waiter_ctx) as session:
        command = await enqueue(
            session, waiter_ctx, CommandKind.ACCEPT, task_id=999_999, worker_id=agent.user.id
        )
        expect(command.id)

    with pytest.raises(Exception, match="not being routed") as refused:
        await await_outcome(waiter_ctx, command.id)

    assert refused.value.code == "opencx.not_found"  # type: ignore[attr-defined]
    assert sessions.opened == 1


async def test_a_command_that_never_commits_leaves_no_waiter(ctx: AppContext) -> None:
    expected: list[int] = []

    async def change_of_mind() -> None:
        async with awaiting_outcomes(ctx) as expect, transaction(ctx) as session:
            command = await enqueue(session, ctx, CommandKind.RELOAD)
            expect(command.id)
            expected.append(command.id)
            assert outcomes._waiters(ctx).expecting(command.id)
            raise Conflict("changed my mind")

    with pytest.raises(Conflict):
        await change_of_mind()

    assert not outcomes._waiters(ctx).expecting(expected[0])


async def test_a_waiter_registered_late_reads_the_answer_it_missed(
    ctx: AppContext, publisher: RecordingPublisher, router: None, no_rereads: None
) -> None:
    announced = asyncio.Event()
    record = publisher.publish

    async def publish(events: Sequence[DomainEvent]) -> None:
        await record(events)
        announced.set()

    async with transaction(ctx) as session:
        command = await enqueue(session, ctx, CommandKind.RELOAD)
    publisher.publish = publish  # type: ignore[method-assign]
    wake_router()
    # The router answers before anyone waits: nobody hears its announcement.
    async with asyncio.timeout(10):
        await announced.wait()
    waiter_ctx, sessions = counted(ctx)

    outcome = await await_outcome(waiter_ctx, command.id)

    assert (outcome.command_id, outcome.problem) == (command.id, None)
    assert sessions.opened == 1  # the one read after registering


async def _done(ctx: AppContext, command_id: int) -> bool:
    return await outcomes._read(ctx, command_id) is not None


async def test_the_router_announces_outcomes_after_its_commit(
    ctx: AppContext, publisher: RecordingPublisher, router: None
) -> None:
    stored_when_announced: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    record = publisher.publish

    async def publish(events: Sequence[DomainEvent]) -> None:
        await record(events)
        for event in events:
            if event.type is EventType.ROUTING_COMMANDS_DONE and not stored_when_announced.done():
                stored_when_announced.set_result(await _done(ctx, command.id))

    publisher.publish = publish  # type: ignore[method-assign]
    async with awaiting_outcomes(ctx) as expect, transaction(ctx) as session:
        command = await enqueue(session, ctx, CommandKind.RELOAD)
        expect(command.id)
    await await_outcome(ctx, command.id)

    # Its waiter is woken first; the bus hears of it right after.
    async with asyncio.timeout(10):
        assert await stored_when_announced is True
    [done] = [
        e
        for e in publisher.events
        if e.type is EventType.ROUTING_COMMANDS_DONE
        and e.payload["outcomes"][0]["command_id"] == command.id
    ]
    assert done.payload["outcomes"] == [
        {"command_id": command.id, "problem": None, "reservation": None}
    ]
    assert done.id is None  # published, never stored


async def test_an_awaited_command_cuts_the_batch_window_short() -> None:
    wakeup, urgent = wakeup_event(), urgent_event()
    wakeup.clear()
    urgent.clear()
    waiting = asyncio.create_task(idle(wakeup, delay=60.0, window=60.0, urgent=urgent))
    wake_router()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not waiting.done()  # an intake burst is gathered for the window

    wake_router(urgent=True)

    async with asyncio.timeout(5):
        await waiting
