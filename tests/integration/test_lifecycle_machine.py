"""Contacts driven from every entry point at random keep one lifecycle.

A hypothesis state machine receives messages (intake), creates and routes interactions,
moves them by hand (the API), sets agents' presence, answers offers and acts on tasks
through the API's services (the router stepping meanwhile) or by sending the router's
commands directly, steps it, lets time pass (offers time out, wrap-ups end) and
restarts it from the database. After every
step: no interaction is over while its task is offered; a task has at most one live
reservation; the store equals the router; and every move in the event log is one the
lifecycle tables allow, each following the one before.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from opencx.core.enums import (
    Channel,
    Direction,
    IdentityKind,
    InteractionState,
    PresenceState,
    ReservationState,
    Role,
    TaskStatus,
)
from opencx.core.errors import Conflict, IllegalTransition, NotFound
from opencx.core.lifecycles import (
    INTERACTION_TRANSITIONS,
    LIVE_RESERVATION_STATES,
    RESERVATION_TRANSITIONS,
    TASK_TRANSITIONS,
)
from opencx.core.permissions import Principal
from opencx.db.models import Event, Interaction, RoutingReservation, RoutingTask
from opencx.features.auth.service import authenticate_user_id
from opencx.features.contacts.intake import receive
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.conversations import ConversationCreate, create_conversation
from opencx.features.conversations.interactions import (
    InteractionCreate,
    StateChange,
    change_interaction_state,
    create_interaction,
)
from opencx.features.customers.schemas import CustomerCreate
from opencx.features.customers.service import create_customer
from opencx.features.directory.queues import QueueCreate, create_queue
from opencx.features.directory.skills import SkillCreate, create_skill
from opencx.features.routing.commands import CommandKind, enqueue
from opencx.features.routing.engine import RoutingEngine
from opencx.features.routing.leadership import Leadership
from opencx.features.routing.tasks import (
    TaskCreate,
    act_on_reservation,
    act_on_task,
    create_task,
)
from opencx.features.users.agents import SkillLevel, set_user_skills
from opencx.features.users.presence import PresenceUpdate, set_agent_presence
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.providers.base import InboundMessage, Sender
from opencx.runtime import build_context
from opencx.settings import DatabaseSettings, Settings, StorageSettings
from opencx.testing import FakeClock, InMemoryBlobStore, RecordingJobQueue, RecordingPublisher
from opencx.testing.databases import PostgresTemplate, SqliteTemplate

pytestmark = pytest.mark.timeout(120)

T = TypeVar("T")
_I = InteractionState
_OVER = (_I.ENDED, _I.ABANDONED)
_TASK_COMMANDS = [
    CommandKind.COMPLETE,
    CommandKind.TRANSFER,
    CommandKind.CANCEL,
    CommandKind.CALLBACK,
    CommandKind.END_WRAP_UP,
]
#: Where the router keeps an interaction while it holds its task in each status.
_FOLLOWS = {
    TaskStatus.WAITING: {_I.QUEUED},
    TaskStatus.RESERVED: {_I.OFFERED},
    TaskStatus.ASSIGNED: {_I.ACTIVE, _I.HELD},
}


class Contacts:
    """One floor (a queue with a wrap-up, two agents) on a fresh database."""

    def __init__(self, database_url: str, storage: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        ctx = build_context(
            Settings(
                env="test",
                database=DatabaseSettings(url=database_url),
                storage=StorageSettings(path=storage),
                _env_file=None,  # type: ignore[call-arg]
            )
        )
        ctx.clock = self.clock
        ctx.publisher = RecordingPublisher()
        ctx.jobs = RecordingJobQueue()
        ctx.blobs = InMemoryBlobStore()
        self.ctx: AppContext = ctx
        self.messages = itertools.count(1)
        self.engine: RoutingEngine | None = None
        self.run(self._floor())

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def close(self) -> None:
        if self.engine is not None:
            self.run(self.engine.leadership.release())
        self.run(self.ctx.engine.dispose())
        self.loop.close()

    async def _floor(self) -> None:
        ctx = self.ctx
        self.admin = await self._person(Role.ADMIN, "admin@example.com")
        skill = await create_skill(ctx, self.admin, SkillCreate(name="billing"))
        queue = await create_queue(
            ctx,
            self.admin,
            QueueCreate(
                name="Billing",
                channel=Channel.EMAIL,
                target_expression="skills.billing >= 1",
                wrap_up_seconds=10,
            ),
        )
        self.queue_id = queue.id
        self.agents: list[Principal] = []
        for n in range(2):
            agent = await self._person(Role.AGENT, f"agent{n}@example.com")
            await set_user_skills(
                ctx, self.admin, agent.user_id, [SkillLevel(skill_id=skill.id, level=1)]
            )
            self.agents.append(agent)
            update = PresenceUpdate(state=PresenceState.AVAILABLE)
            await set_agent_presence(ctx, agent, agent.user_id, update)
        customer = await create_customer(ctx, self.admin, CustomerCreate(display_name="C"))
        conversation = await create_conversation(
            ctx, self.admin, ConversationCreate(customer_id=customer.id, queue_id=queue.id)
        )
        self.conversation_id = conversation.id
        await self.start_engine()

    async def _person(self, role: Role, email: str) -> Principal:
        user = await create_user_as_system(self.ctx, UserCreate(email=email, role=role))
        return (await authenticate_user_id(self.ctx, user.id)).principal

    async def start_engine(self) -> None:
        if self.engine is not None:
            await self.engine.leadership.release()
        leadership = Leadership(self.ctx)
        await asyncio.wait_for(leadership.acquire(), 10)
        self.engine = RoutingEngine(self.ctx, leadership)
        await self.engine.restore()

    async def rows(self) -> tuple[list[RoutingTask], list[RoutingReservation], list[Interaction]]:
        async with transaction(self.ctx) as session:
            tasks = list(await session.scalars(select(RoutingTask).order_by(RoutingTask.id)))
            reservations = list(
                await session.scalars(select(RoutingReservation).order_by(RoutingReservation.id))
            )
            interactions = list(await session.scalars(select(Interaction).order_by(Interaction.id)))
        return tasks, reservations, interactions

    async def step(self) -> None:
        assert self.engine is not None
        await self.engine.step()

    async def served(self, work: Coroutine[Any, Any, T]) -> T:
        """Run a service call that waits for the router's outcome, stepping the router
        until it returns (a server runs both at once)."""
        call = asyncio.ensure_future(work)
        while not call.done():
            await self.step()
            await asyncio.wait({call}, timeout=0.01)
        return call.result()

    async def events(self) -> list[Event]:
        async with transaction(self.ctx) as session:
            return list(await session.scalars(select(Event).order_by(Event.id)))

    async def command(self, kind: CommandKind, task_id: int, worker_id: int | None) -> None:
        async with transaction(self.ctx) as session:
            await enqueue(session, self.ctx, kind, task_id=task_id, worker_id=worker_id)


class LifecycleMachine(RuleBasedStateMachine):
    floor_factory: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.floor: Contacts = type(self).floor_factory()

    def teardown(self) -> None:
        self.floor.close()

    # ------------------------------------------------------------ entry points

    @rule(sender=st.integers(0, 2))
    def intake_receives_a_message(self, sender: int) -> None:
        item = InboundMessage(
            channel=Channel.EMAIL,
            provider="smtp",
            provider_message_id=f"m{next(self.floor.messages)}@example.com",
            sender=Sender(IdentityKind.EMAIL, f"customer{sender}@example.com", "Ada"),
            recipient="support@example.com",
            text="My parcel has not arrived.",
            subject=f"Parcel {sender}",
        )
        self.floor.run(receive(self.floor.ctx, item, queue_id=self.floor.queue_id))
        self.floor.run(self.floor.step())

    @rule()
    def an_interaction_is_routed(self) -> None:
        floor = self.floor

        async def route() -> None:
            interaction = await create_interaction(
                floor.ctx,
                floor.admin,
                floor.conversation_id,
                InteractionCreate(channel=Channel.EMAIL, direction=Direction.INBOUND),
            )
            await create_task(floor.ctx, floor.admin, TaskCreate(interaction_id=interaction.id))

        floor.run(route())
        floor.run(floor.step())

    @rule(pick=st.integers(0, 50), state=st.sampled_from(list(InteractionState)))
    def someone_moves_an_interaction_by_hand(self, pick: int, state: InteractionState) -> None:
        _, _, interactions = self.floor.run(self.floor.rows())
        if not interactions:
            return
        interaction = interactions[pick % len(interactions)]
        # Refused or not, the invariants check what it left.
        with contextlib.suppress(IllegalTransition):
            self.floor.run(
                change_interaction_state(
                    self.floor.ctx, self.floor.admin, interaction.id, StateChange(state=state)
                )
            )

    @rule(agent=st.integers(0, 1), state=st.sampled_from(list(PresenceState)))
    def an_agent_sets_their_presence(self, agent: int, state: PresenceState) -> None:
        principal = self.floor.agents[agent]
        update = PresenceUpdate(
            state=state, reason="break" if state is PresenceState.NOT_READY else None
        )
        with contextlib.suppress(IllegalTransition):
            self.floor.run(set_agent_presence(self.floor.ctx, principal, principal.user_id, update))

    @rule(pick=st.integers(0, 50), accept=st.booleans())
    def an_agent_answers_an_offer(self, pick: int, accept: bool) -> None:
        _, reservations, _ = self.floor.run(self.floor.rows())
        pending = [r for r in reservations if r.state is ReservationState.PENDING]
        if not pending:
            return
        offer = pending[pick % len(pending)]
        kind = CommandKind.ACCEPT if accept else CommandKind.REJECT
        self.floor.run(self.floor.command(kind, offer.task_id, offer.worker_id))
        self.floor.run(self.floor.step())

    @rule(pick=st.integers(0, 50), accept=st.booleans())
    def an_agent_answers_an_offer_through_the_api(self, pick: int, accept: bool) -> None:
        _, reservations, _ = self.floor.run(self.floor.rows())
        if not reservations:
            return
        offer = reservations[pick % len(reservations)]
        agent = next(a for a in self.floor.agents if a.user_id == offer.worker_id)
        kind = CommandKind.ACCEPT if accept else CommandKind.REJECT
        answer = act_on_reservation(self.floor.ctx, agent, offer.id, kind)
        with contextlib.suppress(Conflict):  # no longer pending: refused, nothing changed
            self.floor.run(self.floor.served(answer))

    @rule(pick=st.integers(0, 50), kind=st.sampled_from(_TASK_COMMANDS))
    def a_supervisor_acts_on_a_task_through_the_api(self, pick: int, kind: CommandKind) -> None:
        tasks, _, _ = self.floor.run(self.floor.rows())
        if not tasks:
            return
        task = tasks[pick % len(tasks)]
        action = act_on_task(self.floor.ctx, self.floor.admin, task.id, kind)
        # Refused when the task's status does not allow it (or it left routing).
        with contextlib.suppress(Conflict, NotFound):
            self.floor.run(self.floor.served(action))

    @rule(
        pick=st.integers(0, 50),
        kind=st.sampled_from(_TASK_COMMANDS),
        as_holder=st.booleans(),
        then_step=st.booleans(),
    )
    def someone_acts_on_a_task(
        self, pick: int, kind: CommandKind, as_holder: bool, then_step: bool
    ) -> None:
        tasks, reservations, _ = self.floor.run(self.floor.rows())
        routed = [t for t in tasks if t.status in _FOLLOWS] or tasks
        if not routed:
            return
        task = routed[pick % len(routed)]
        worker_id = task.worker_id if as_holder else None
        if kind is CommandKind.END_WRAP_UP:
            mine = [r.worker_id for r in reservations if r.task_id == task.id]
            worker_id = mine[-1] if mine else None
        self.floor.run(self.floor.command(kind, task.id, worker_id))
        if then_step:
            self.floor.run(self.floor.step())

    @rule()
    def the_router_steps(self) -> None:
        assert self.floor.engine is not None
        self.floor.run(self.floor.engine.step())

    @rule(seconds=st.sampled_from([1.0, 11.0, 25.0, 70.0]))
    def time_passes(self, seconds: float) -> None:
        assert self.floor.engine is not None
        self.floor.clock.advance(seconds)
        self.floor.run(self.floor.engine.step())

    @rule()
    def the_router_restarts(self) -> None:
        self.floor.run(self.floor.start_engine())

    # --------------------------------------------------------------- invariants

    @invariant()
    def no_contact_is_over_while_it_is_offered(self) -> None:
        tasks, reservations, interactions = self.floor.run(self.floor.rows())
        state = {i.id: i.state for i in interactions}
        task_of = {t.id: t for t in tasks}
        for reservation in reservations:
            if reservation.state is ReservationState.PENDING:
                task = task_of[reservation.task_id]
                assert state[task.interaction_id] not in _OVER, (task.id, reservation.id)

    @invariant()
    def a_task_has_at_most_one_live_reservation(self) -> None:
        _, reservations, _ = self.floor.run(self.floor.rows())
        live = [r.task_id for r in reservations if r.state in LIVE_RESERVATION_STATES]
        assert len(live) == len(set(live)), live

    @invariant()
    def the_store_equals_the_router(self) -> None:
        engine = self.floor.engine
        assert engine is not None
        assert engine.router is not None
        tasks, reservations, interactions = self.floor.run(self.floor.rows())
        state = {i.id: i.state for i in interactions}
        live = {r.task_id: r for r in reservations if r.state in LIVE_RESERVATION_STATES}
        routed = {t.id: t for t in tasks if t.status in _FOLLOWS}
        assert set(routed) == set(engine.router.tasks)
        for task_id, record in engine.router.tasks.items():
            row = routed[task_id]
            assert (row.status, row.worker_id) == (record.status, record.worker_id), task_id
            assert state[row.interaction_id] in _FOLLOWS[record.status], task_id
            reservation = live.get(task_id)
            if record.status is TaskStatus.WAITING:
                assert reservation is None, task_id
            else:
                assert reservation is not None, task_id
                assert reservation.worker_id == record.worker_id, task_id
                expected = (
                    ReservationState.PENDING
                    if record.status is TaskStatus.RESERVED
                    else ReservationState.ACCEPTED
                )
                assert reservation.state is expected, task_id
        for task_id in set(live) - set(routed):
            raise AssertionError(f"task {task_id} has a live reservation but is not routed")

    @invariant()
    def every_logged_move_is_legal_and_follows_the_last(self) -> None:
        interactions: dict[int, InteractionState] = {}
        reservations: dict[int, ReservationState] = {}
        for event in self.floor.run(self.floor.events()):
            payload = event.payload
            if event.type == "interaction.created":
                interactions[event.entity_id] = InteractionState(payload["state"])
            elif event.type == "interaction.state_changed":
                previous = InteractionState(payload["previous"])
                new = InteractionState(payload["state"])
                assert interactions.get(event.entity_id, _I.CREATED) is previous, event.id
                assert new in INTERACTION_TRANSITIONS[previous], (event.id, previous, new)
                interactions[event.entity_id] = new
            elif event.type == "reservation.created":
                assert payload["state"] == ReservationState.PENDING
                reservations[event.entity_id] = ReservationState.PENDING
            elif event.type == "reservation.updated":
                before = reservations[event.entity_id]
                after = ReservationState(payload["state"])
                assert after in RESERVATION_TRANSITIONS[before], (event.id, before, after)
                reservations[event.entity_id] = after
            elif event.type == "task.ended":
                outcome = TaskStatus(payload["outcome"])
                assert not TASK_TRANSITIONS[outcome], (event.id, outcome)


def test_contacts_keep_one_lifecycle_whatever_moves_them(
    db_template: SqliteTemplate | PostgresTemplate, tmp_path: Path
) -> None:
    def floor() -> Contacts:
        return Contacts(db_template.fresh(), tmp_path / "attachments")

    machine = type("Machine", (LifecycleMachine,), {"floor_factory": staticmethod(floor)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=8,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            # Shrinking replays whole floors on fresh databases: minutes, not seconds. The
            # failing run's steps are printed in full instead.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
        ),
    )
