"""The routing service against a real database: what the active router stores equals
what it holds, a restarted router resumes where the last one stopped, and a router
whose leadership was taken over can no longer write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from opencx.core.enums import Channel, Direction, InteractionState, PresenceState, Role
from opencx.core.permissions import Principal
from opencx.core.routing.decisions import Decision
from opencx.core.routing.model import SiteState, TaskSpec
from opencx.core.routing.router import Router
from opencx.core.routing.snapshot import Snapshot
from opencx.db.models import Interaction, RoutingCommand, RoutingReservation, RoutingTask
from opencx.features.auth.service import authenticate_user_id
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.conversations import ConversationCreate, create_conversation
from opencx.features.conversations.interactions import InteractionCreate, create_interaction
from opencx.features.customers.schemas import CustomerCreate
from opencx.features.customers.service import create_customer
from opencx.features.directory.business_hours import (
    BusinessHoursCreate,
    WeeklyInterval,
    create_business_hours,
)
from opencx.features.directory.queues import QueueCreate, QueueUpdate, create_queue, update_queue
from opencx.features.directory.sites import SiteCreate, create_site
from opencx.features.directory.skills import SkillCreate, create_skill
from opencx.features.routing.commands import CommandKind, enqueue
from opencx.features.routing.engine import RoutingEngine
from opencx.features.routing.leadership import Leadership, LostLeadership
from opencx.features.routing.state import load_snapshot, to_instant
from opencx.features.routing.tasks import TaskCreate, create_task
from opencx.features.users.agents import SkillLevel, set_user_skills
from opencx.features.users.presence import PresenceUpdate, set_agent_presence
from opencx.features.users.service import UserOut
from opencx.testing.fakes import FakeClock
from tests.conftest import Caller, MakeCaller

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def admin_caller(make_caller: MakeCaller) -> Caller:
    return await make_caller(Role.ADMIN)


@dataclass
class Person:
    user: UserOut
    principal: Principal


async def person(ctx: AppContext, caller: Caller) -> Person:
    return Person(caller.user, (await authenticate_user_id(ctx, caller.user.id)).principal)


@dataclass
class Floor:
    admin: Person
    agents: list[Person]
    queue_id: int
    site_id: int
    conversation_id: int


@pytest.fixture
async def floor(ctx: AppContext, admin_caller: Caller, make_caller: MakeCaller) -> Floor:
    admin = await person(ctx, admin_caller)
    site = await create_site(ctx, admin.principal, SiteCreate(name="Lyon"))
    skill = await create_skill(ctx, admin.principal, SkillCreate(name="billing"))
    queue = await create_queue(
        ctx,
        admin.principal,
        QueueCreate(
            name="Billing",
            channel=Channel.VOICE,
            site_id=site.id,
            target_expression="skills.billing >= 1",
            wrap_up_seconds=10,
        ),
    )
    agents = []
    for n in range(3):
        agent = await person(ctx, await make_caller(Role.AGENT, site_id=site.id))
        await set_user_skills(
            ctx, admin.principal, agent.user.id, [SkillLevel(skill_id=skill.id, level=n + 1)]
        )
        agents.append(agent)
    customer = await create_customer(ctx, admin.principal, CustomerCreate(display_name="C"))
    conversation = await create_conversation(
        ctx, admin.principal, ConversationCreate(customer_id=customer.id, queue_id=queue.id)
    )
    return Floor(admin, agents, queue.id, site.id, conversation.id)


async def new_task(ctx: AppContext, floor: Floor, **fields: object) -> int:
    interaction = await create_interaction(
        ctx,
        floor.admin.principal,
        floor.conversation_id,
        InteractionCreate(channel=Channel.VOICE, direction=Direction.INBOUND),
    )
    task = await create_task(
        ctx,
        floor.admin.principal,
        TaskCreate.model_validate({"interaction_id": interaction.id, **fields}),
    )
    return task.id


async def available(ctx: AppContext, agent: Person, state: PresenceState) -> None:
    await set_agent_presence(
        ctx,
        agent.principal,
        agent.user.id,
        PresenceUpdate(state=state, reason="break" if state is PresenceState.NOT_READY else None),
    )


MakeEngine = Callable[[], Awaitable[RoutingEngine]]


@pytest.fixture
async def engine_for(ctx: AppContext) -> AsyncIterator[MakeEngine]:
    """Start routers on the test's database; their locks are let go at the end."""
    made: list[RoutingEngine] = []

    async def make() -> RoutingEngine:
        leadership = Leadership(ctx)
        await asyncio.wait_for(leadership.acquire(), 10)
        engine = RoutingEngine(ctx, leadership)
        made.append(engine)
        await engine.restore()
        return engine

    yield make
    for engine in made:
        await engine.leadership.release()


async def command(ctx: AppContext, kind: CommandKind, task_id: int, worker_id: int) -> None:
    async with transaction(ctx) as session:
        await enqueue(session, ctx, kind, task_id=task_id, worker_id=worker_id)


async def stored(ctx: AppContext) -> Snapshot:
    async with transaction(ctx) as session:
        return await load_snapshot(session, ctx.settings.routing, now=ctx.clock.now())


def comparable(snapshot: Snapshot, now: float) -> tuple[object, object]:
    """Workers and tasks, in id order, without re-offer cool-downs already over."""
    workers = sorted(snapshot.workers, key=lambda w: w.spec.id)
    tasks = []
    for task in sorted(snapshot.tasks, key=lambda t: t.spec.id):
        excluded = {k: v for k, v in task.excluded.items() if v > now}
        tasks.append(
            (
                task.spec,
                task.status,
                task.queue_id,
                task.worker_id,
                task.expires_at,
                task.accepted_at,
                task.priority,
                task.filter_index,
                task.step_index,
                task.pinned,
                task.callback,
                excluded,
            )
        )
    return [(w.spec, w.presence, w.idle_since, w.missed_offers, w.wraps) for w in workers], tasks


async def assert_stored_equals_router(ctx: AppContext, engine: RoutingEngine) -> None:
    assert engine.router is not None
    now = to_instant(ctx.clock.now())
    assert comparable(await stored(ctx), now) == comparable(engine.router.snapshot(), now)


async def held(ctx: AppContext) -> dict[str, int]:
    async with transaction(ctx) as session:
        rows = await session.execute(
            select(RoutingReservation.state, func.count()).group_by(RoutingReservation.state)
        )
        return {row[0]: row[1] for row in rows}


async def test_a_task_is_offered_accepted_completed_and_wrapped_up(
    ctx: AppContext, floor: Floor, clock: FakeClock, engine_for: MakeEngine
) -> None:
    engine = await engine_for()
    agent = floor.agents[0]
    await available(ctx, agent, PresenceState.AVAILABLE)
    task_id = await new_task(ctx, floor)
    await engine.step()
    await assert_stored_equals_router(ctx, engine)
    async with transaction(ctx) as session:
        task = await session.get(RoutingTask, task_id)
        assert task is not None
        assert task.status == "reserved"
        assert task.worker_id == agent.user.id
        interaction = await session.get(Interaction, task.interaction_id)
        assert interaction is not None
        assert interaction.state is InteractionState.OFFERED

    clock.advance(3)
    await command(ctx, CommandKind.ACCEPT, task_id, agent.user.id)
    await engine.step()
    await assert_stored_equals_router(ctx, engine)
    clock.advance(60)
    await command(ctx, CommandKind.COMPLETE, task_id, agent.user.id)
    await engine.step()
    await assert_stored_equals_router(ctx, engine)
    async with transaction(ctx) as session:
        task = await session.get(RoutingTask, task_id)
        assert task is not None
        assert task.status == "completed"
        interaction = await session.get(Interaction, task.interaction_id)
        assert interaction is not None
        assert interaction.state is InteractionState.WRAP_UP
    clock.advance(10)
    await engine.step()
    async with transaction(ctx) as session:
        interaction = await session.get(Interaction, task.interaction_id)
        assert interaction is not None
        assert interaction.state is InteractionState.ENDED
    await assert_stored_equals_router(ctx, engine)
    assert await held(ctx) == {"completed": 1}


async def test_what_is_stored_is_what_the_router_holds_through_a_busy_hour(
    ctx: AppContext, floor: Floor, clock: FakeClock, engine_for: MakeEngine
) -> None:
    engine = await engine_for()
    a, b, c = floor.agents
    await available(ctx, a, PresenceState.AVAILABLE)
    tasks = [await new_task(ctx, floor, priority=n % 3) for n in range(6)]
    await engine.step()
    await assert_stored_equals_router(ctx, engine)
    await available(ctx, b, PresenceState.AVAILABLE)
    await engine.step()
    await assert_stored_equals_router(ctx, engine)
    assert engine.router is not None
    offered = {t: r.worker_id for t, r in engine.router.tasks.items() if r.worker_id}
    assert sorted(offered.values()) == sorted([a.user.id, b.user.id])
    first, second = sorted(offered)
    await command(ctx, CommandKind.ACCEPT, first, offered[first])
    await command(ctx, CommandKind.REJECT, second, offered[second])
    await engine.step()
    await assert_stored_equals_router(ctx, engine)
    # Nobody answers for longer than an offer lasts: it times out and goes elsewhere.
    clock.advance(ctx.settings.routing.offer_timeout_seconds + 1)
    await engine.step()
    await assert_stored_equals_router(ctx, engine)
    assert (await held(ctx)).get("timed_out", 0) >= 1
    await available(ctx, c, PresenceState.AVAILABLE)
    await engine.step()
    await assert_stored_equals_router(ctx, engine)
    # A transfer and a cancellation, then the site drains.
    await command(ctx, CommandKind.TRANSFER, first, offered[first])
    async with transaction(ctx) as session:
        stored_command = await enqueue(session, ctx, CommandKind.CANCEL, task_id=tasks[-1])
        assert stored_command.id
    await engine.step()
    await assert_stored_equals_router(ctx, engine)
    assert engine.router is not None
    engine.router.set_site_state(floor.site_id, SiteState.DRAINING, now=to_instant(clock.now()))
    # (the router's own change is written with its next batch)
    clock.advance(5)
    await engine.step()
    states = await held(ctx)
    assert states.get("pending", 0) + states.get("accepted", 0) <= len(floor.agents)


async def test_a_restarted_router_resumes_and_times_out_what_expired_while_down(
    ctx: AppContext, floor: Floor, clock: FakeClock, engine_for: MakeEngine
) -> None:
    engine = await engine_for()
    agent = floor.agents[1]
    await available(ctx, agent, PresenceState.AVAILABLE)
    first = await new_task(ctx, floor)
    second = await new_task(ctx, floor)
    await engine.step()
    assert engine.router is not None
    before = comparable(engine.router.snapshot(), to_instant(clock.now()))
    await engine.leadership.release()

    # A new router on the same database holds the same state.
    again = await engine_for()
    assert again.router is not None
    assert comparable(again.router.snapshot(), to_instant(clock.now())) == before
    assert again.leadership.epoch == engine.leadership.epoch + 1

    # The old one cannot write any more.
    await command(ctx, CommandKind.REJECT, first, agent.user.id)
    with pytest.raises(LostLeadership):
        await engine.step()

    # Down for a minute: the pending offer timed out meanwhile, the next router says so.
    await again.leadership.release()
    clock.advance(60)
    third = await engine_for()
    await third.step()
    async with transaction(ctx) as session:
        reservations = list(await session.scalars(select(RoutingReservation)))
    by_task = {(r.task_id, r.state) for r in reservations}
    assert (first, "rejected") in by_task or (first, "timed_out") in by_task
    live = [r for r in reservations if r.state in ("pending", "accepted")]
    assert len({r.task_id for r in live}) == len(live)
    assert {first, second} >= {r.task_id for r in live}
    await assert_stored_equals_router(ctx, third)


async def test_when_a_queue_closes_on_its_hours_its_waiting_tasks_take_the_fallback(
    ctx: AppContext, floor: Floor, clock: FakeClock, engine_for: MakeEngine
) -> None:
    # The clock reads Monday 10:00 in Paris; the queue's hours end at 10:30 there.
    hours = await create_business_hours(
        ctx,
        floor.admin.principal,
        BusinessHoursCreate(
            name="Mornings",
            timezone="Europe/Paris",
            weekly=[WeeklyInterval(day=0, open="08:00", close="10:30")],
        ),
    )
    await update_queue(
        ctx, floor.admin.principal, floor.queue_id, QueueUpdate(business_hours_id=hours.id)
    )
    engine = await engine_for()
    task_id = await new_task(ctx, floor)  # nobody is available: it waits
    await engine.step()
    assert engine.config is not None
    assert engine.config.hours_change == clock.now() + timedelta(minutes=30)
    clock.advance(29 * 60)
    await engine.step()
    async with transaction(ctx) as session:
        task = await session.get(RoutingTask, task_id)
        assert task is not None
        assert task.status == "waiting"
    clock.advance(60)
    await engine.step()
    async with transaction(ctx) as session:
        task = await session.get(RoutingTask, task_id)
        assert task is not None
        assert (task.status, task.fallback_action) == ("fallback", "voicemail")
        interaction = await session.get(Interaction, task.interaction_id)
        assert interaction is not None
        assert interaction.state is InteractionState.ENDED


async def test_a_command_that_trips_a_bug_is_refused_and_routing_goes_on(
    ctx: AppContext,
    floor: Floor,
    engine_for: MakeEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = await engine_for()
    await available(ctx, floor.agents[0], PresenceState.AVAILABLE)
    poisoned = await new_task(ctx, floor)
    healthy = await new_task(ctx, floor)
    original = Router.submit

    def submit(self: Router, spec: TaskSpec, **kwargs: Any) -> list[Decision]:
        if spec.id == poisoned:
            raise RuntimeError("a bug")
        return original(self, spec, **kwargs)

    monkeypatch.setattr(Router, "submit", submit)
    await engine.step()
    async with transaction(ctx) as session:
        failed = await session.scalar(
            select(RoutingCommand).where(RoutingCommand.task_id == poisoned)
        )
        assert failed is not None
        assert failed.done_at is not None
        assert failed.error == {"code": "opencx.error", "detail": "internal error"}
        task = await session.get(RoutingTask, healthy)
        assert task is not None
        assert task.status == "reserved"
    await assert_stored_equals_router(ctx, engine)
