"""The demo is alive: simulated customers write on every written channel through the
real intake, simulated agents accept, answer, code and end their contacts, and a real
customer's contact is never offered to a simulated agent. Off, nothing moves.

The simulation runs on a fast clock (``demo.speed``): a few seconds of a test are
several simulated minutes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from email.message import EmailMessage

import httpx
import pytest
from sqlalchemy import select

from opencx.cli.demo import DEMO_MAILBOX, seed_demo
from opencx.cli.main import set_demo_simulation
from opencx.core.enums import (
    AuthorKind,
    Channel,
    Direction,
    InteractionState,
    PresenceState,
    ReservationState,
    Role,
)
from opencx.core.permissions import Principal
from opencx.db.models import (
    Conversation,
    Customer,
    Interaction,
    Message,
    RoutingReservation,
    RoutingTask,
    User,
)
from opencx.features.contacts.intake import Received, receive
from opencx.features.context import AppContext, transaction
from opencx.features.demo import DemoSimulation, demo_simulation_service
from opencx.features.routing.engine import routing_service
from opencx.features.sources.mail_parsing import parse_received
from opencx.features.users.presence import PresenceUpdate, set_agent_presence
from opencx.providers.email import PROVIDER as MAILBOX
from opencx.settings import DemoSettings, Settings
from tests.conftest import Caller
from tests.integration.test_directory_api import API
from tests.integration.test_routing_api import eventually

pytestmark = pytest.mark.timeout(60)

AGENT_LOGIN = "agent@demo.opencx.dev"
#: About ten contacts and their handling in three seconds of the test.
FAST = DemoSettings(simulation=True, speed=300, contacts_per_minute=0.15, seed=176)
#: (Seed 176 writes on the five channels, one after the other, in its first 133 s.)
#: On a loaded machine the contacts' intake takes longer than their simulated pace.
PATIENCE = 20.0


@pytest.fixture
async def demo(ctx: AppContext) -> AsyncIterator[AppContext]:
    """The demo company, its printed agent offline (so only simulated agents could take
    a contact), with the server's router running."""
    await seed_demo(ctx, customers=0)
    async with transaction(ctx) as session:
        ada = await session.scalar(select(User).where(User.email == AGENT_LOGIN))
        assert ada is not None
        ada_id = ada.id
    me = Principal(user_id=ada_id, role=Role.AGENT)
    await set_agent_presence(ctx, me, ada_id, PresenceUpdate(state=PresenceState.OFFLINE))
    router = asyncio.create_task(routing_service(ctx))
    yield ctx
    router.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await router


@contextlib.asynccontextmanager
async def running(task: asyncio.Task[None]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def real_email(ctx: AppContext) -> Received:
    """A person's e-mail to the demo mailbox, the way the SMTP server stores it."""
    mail = EmailMessage()
    mail["From"], mail["To"] = "Real Person <real.person@example.org>", DEMO_MAILBOX
    mail["Subject"], mail["Message-ID"] = "My alarm beeps", "<real-1@example.org>"
    mail.set_content("It beeps every night. What can I do?")
    raw = mail.as_bytes()
    item = await parse_received(ctx, raw, recipient=DEMO_MAILBOX)
    return await receive(ctx, item, raw=raw, account=MAILBOX)


async def simulated_channels(ctx: AppContext) -> set[Channel]:
    async with transaction(ctx) as session:
        rows = await session.execute(
            select(Interaction.channel, Customer.attributes)
            .join(Conversation, Conversation.id == Interaction.conversation_id)
            .join(Customer, Customer.id == Conversation.customer_id)
        )
        return {channel for channel, attributes in rows if attributes.get("simulated") is True}


async def simulated_agent_ids(ctx: AppContext) -> set[int]:
    async with transaction(ctx) as session:
        return set(await session.scalars(select(User.id).where(User.simulated.is_(True))))


async def test_simulated_customers_and_agents_keep_the_demo_busy_but_never_take_a_real_contact(
    demo: AppContext,
) -> None:
    demo.settings.demo = FAST
    robots = await simulated_agent_ids(demo)
    assert len(robots) >= 3
    real = await real_email(demo)
    simulation = asyncio.create_task(DemoSimulation(demo).run())
    async with running(simulation):

        async def every_channel() -> set[Channel] | None:
            found = await simulated_channels(demo)
            return found if len(found) == 5 else None

        assert await eventually(
            every_channel, "simulated customers on every channel", patience=PATIENCE
        ) == {
            Channel.CHAT,
            Channel.EMAIL,
            Channel.SMS,
            Channel.WHATSAPP,
            Channel.MESSENGER,
        }

        async def handled() -> Interaction | None:
            async with transaction(demo) as session:
                return await session.scalar(
                    select(Interaction).where(
                        Interaction.state == InteractionState.ENDED,
                        Interaction.agent_id.in_(robots),
                        Interaction.action_reason_id.is_not(None),
                    )
                )

        done = await eventually(
            handled, "a contact answered, coded and ended by a robot", patience=PATIENCE
        )
        async with transaction(demo) as session:
            said = list(
                await session.scalars(
                    select(Message).where(Message.interaction_id == done.id).order_by(Message.id)
                )
            )
            reservations = list(
                await session.scalars(
                    select(RoutingReservation)
                    .join(RoutingTask, RoutingTask.id == RoutingReservation.task_id)
                    .where(RoutingTask.interaction_id == done.id)
                )
            )
        customer_lines = [m for m in said if m.author_kind is AuthorKind.CUSTOMER]
        answers = [m for m in said if m.direction is Direction.OUTBOUND]
        assert len(customer_lines) >= 1
        assert [m.author_user_id for m in answers] == [done.agent_id]
        assert ReservationState.COMPLETED in {r.state for r in reservations}
        assert done.declaration_reason_id is not None
        assert done.wrap_up_summary

    # Meanwhile the real customer's e-mail was offered to nobody: only robots were there.
    async with transaction(demo) as session:
        task = await session.scalar(
            select(RoutingTask)
            .join(Interaction, Interaction.id == RoutingTask.interaction_id)
            .where(Interaction.conversation_id == real.conversation_id)
        )
        assert task is not None
        assert "simulated" not in task.attributes
        offered_to = set(
            await session.scalars(
                select(RoutingReservation.worker_id).where(RoutingReservation.task_id == task.id)
            )
        )
        customer = await session.get(Customer, real.customer_id)
        assert customer is not None
        assert "simulated" not in customer.attributes
        presences = set(await session.scalars(select(User.presence).where(User.id.in_(robots))))
    assert offered_to == set()
    assert task.status.value == "waiting"
    # Stopping the server's simulation takes its agents offline.
    assert presences == {PresenceState.OFFLINE}


async def test_without_the_setting_the_service_sends_no_simulated_traffic(
    demo: AppContext,
) -> None:
    demo.settings.demo = FAST.model_copy(update={"simulation": False})
    service = asyncio.create_task(demo_simulation_service(demo))
    async with running(service):
        await asyncio.sleep(1.0)  # three simulated minutes of a running simulation
    async with transaction(demo) as session:
        conversations = list(await session.scalars(select(Conversation.id)))
        robots = set(await session.scalars(select(User.presence).where(User.simulated.is_(True))))
    assert conversations == []
    assert robots == {PresenceState.OFFLINE}


def demo_settings(*, no_simulation: bool) -> Settings:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    set_demo_simulation(settings, no_simulation=no_simulation)
    return settings


def test_the_demo_simulates_unless_told_not_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENCX_DEMO__SIMULATION", raising=False)
    monkeypatch.delenv("OPENCX_ROUTING__MAX_MISSED_OFFERS", raising=False)
    on = demo_settings(no_simulation=False)
    assert on.demo.simulation is True
    # The printed login, available before anyone signs in, is not set not ready.
    assert on.routing.max_missed_offers == 0
    off = demo_settings(no_simulation=True)
    assert off.demo.simulation is False
    assert off.routing.max_missed_offers == 3
    monkeypatch.setenv("OPENCX_DEMO__SIMULATION", "false")
    assert demo_settings(no_simulation=False).demo.simulation is False
    monkeypatch.setenv("OPENCX_DEMO__SIMULATION", "true")
    monkeypatch.setenv("OPENCX_ROUTING__MAX_MISSED_OFFERS", "2")
    assert demo_settings(no_simulation=True).demo.simulation is False
    assert demo_settings(no_simulation=False).routing.max_missed_offers == 2
    # ``opencx serve`` reads the setting alone: off unless set.
    monkeypatch.delenv("OPENCX_DEMO__SIMULATION")
    assert Settings(_env_file=None).demo.simulation is False  # type: ignore[call-arg]


async def test_no_client_can_mark_a_contact_simulated(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    body = {"interaction_id": 1, "attributes": {"simulated": True}}
    response = await client.post(f"{API}/tasks", json=body, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "simulated" in response.text
