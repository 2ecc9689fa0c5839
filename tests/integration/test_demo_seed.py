"""The demo company as someone trying it at 3 a.m. in Paris finds it: the web chat open,
a chat offered to the printed agent login (and to no seeded agent nobody controls),
and a seeded history whose answers were sent, not queued for a relay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from email import message_from_bytes
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from opencx.cli.demo import DEMO_AGENT_SKILLS, DEMO_MAILBOX, DEMO_WIDGET, seed_demo
from opencx.core.enums import (
    AuthorKind,
    Channel,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    PresenceState,
    Role,
)
from opencx.core.permissions import Principal
from opencx.db.models import (
    AgentSkill,
    Conversation,
    Message,
    QueueStats,
    RoutingReservation,
    Skill,
    User,
)
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.messages import SEND_JOB, MessageCreate, post_message
from opencx.features.delivery.outbox import send_queued_message
from opencx.features.routing.engine import routing_service
from opencx.settings import SmtpOutSettings
from opencx.testing import FakeClock, RecordingJobQueue
from tests.integration.test_routing_api import eventually

pytestmark = pytest.mark.timeout(60)

#: A Tuesday, 03:00 in Paris: outside every office hour of the demo company.
NIGHT = datetime(2026, 12, 8, 3, 0, tzinfo=ZoneInfo("Europe/Paris"))
AGENT_LOGIN = "agent@demo.opencx.dev"


@pytest.fixture
async def demo(ctx: AppContext, clock: FakeClock) -> AsyncIterator[AppContext]:
    """The demo seeded at 3 a.m., with the server's router running on it."""
    clock.advance((NIGHT - clock.now()).total_seconds())
    await seed_demo(ctx, customers=8)
    service = asyncio.create_task(routing_service(ctx))
    yield ctx
    service.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await service


async def agents(ctx: AppContext) -> dict[str, User]:
    async with transaction(ctx) as session:
        rows = await session.scalars(select(User).where(User.role == Role.AGENT))
        return {user.email: user for user in rows}


async def test_seeded_answers_are_sent_history_not_queued(demo: AppContext) -> None:
    async with transaction(demo) as session:
        by_status = dict(
            (
                await session.execute(
                    select(Message.delivery_status, func.count())
                    .where(Message.direction == Direction.OUTBOUND)
                    .group_by(Message.delivery_status)
                )
            ).all()
        )
    assert by_status.get(DeliveryStatus.SENT, 0) > 0
    assert DeliveryStatus.QUEUED not in by_status
    # Nor is a job left to send them when the server starts.
    assert isinstance(demo.jobs, RecordingJobQueue)
    assert [job for job in demo.jobs.jobs if job.task == SEND_JOB] == []


async def test_only_the_printed_agent_login_is_available_and_it_has_a_place_to_work(
    demo: AppContext,
) -> None:
    everyone = await agents(demo)
    printed = everyone.pop(AGENT_LOGIN)
    simulated = {email: everyone.pop(email) for email, u in list(everyone.items()) if u.simulated}
    # The simulation's agents wait, offline, for the simulation to set them available.
    assert len(simulated) == 6
    assert {user.presence for user in simulated.values()} == {PresenceState.OFFLINE}
    assert printed.presence is PresenceState.AVAILABLE
    assert (printed.site_id, printed.team_id) != (None, None)
    assert printed.capacity["chat"] >= 1
    assert printed.capacity["email"] >= 1
    assert {user.presence for user in everyone.values()} == {PresenceState.OFFLINE}
    assert len(everyone) == 25
    async with transaction(demo) as session:
        skills = dict(
            (
                await session.execute(
                    select(Skill.name, AgentSkill.level)
                    .join(AgentSkill, AgentSkill.skill_id == Skill.id)
                    .where(AgentSkill.user_id == printed.id)
                )
            ).all()
        )
    assert skills == dict(DEMO_AGENT_SKILLS)
    assert {"billing", "social_media"} <= set(skills)  # the e-mail and Messenger queues


async def test_at_3_am_the_chat_is_open_and_a_chat_is_offered_to_the_printed_agent(
    demo: AppContext, client: httpx.AsyncClient
) -> None:
    async def chat_stats() -> QueueStats | None:
        async with transaction(demo) as session:
            return await session.scalar(select(QueueStats).where(QueueStats.slots > 0))

    await eventually(chat_stats, "the router writes the queues' figures")
    widget = (await client.get(f"/chat/widgets/{DEMO_WIDGET}")).json()
    assert widget["online"] is True, widget
    assert widget["offline_email"] is False

    started = await client.post(
        f"/chat/widgets/{DEMO_WIDGET}/chats",
        json={"name": "Night Owl", "email": "owl@example.com", "intent": "My alarm beeps"},
    )
    assert started.status_code == 201, started.text
    assert started.json()["mode"] == "chat"

    async def offer() -> RoutingReservation | None:
        async with transaction(demo) as session:
            return await session.scalar(select(RoutingReservation))

    first = await eventually(offer, "the chat is offered")
    assert first.worker_id == (await agents(demo))[AGENT_LOGIN].id


async def test_an_answer_to_a_seeded_email_goes_to_its_customer_through_the_outbox(
    demo: AppContext, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    demo.settings.smtp_out = SmtpOutSettings(outbox=tmp_path / "outbox")
    async with transaction(demo) as session:
        received = await session.scalar(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.channel == Channel.EMAIL,
                Message.direction == Direction.INBOUND,
                Conversation.status != ConversationStatus.CLOSED,
            )
            .limit(1)
        )
    assert received is not None
    agent = Principal(user_id=(await agents(demo))[AGENT_LOGIN].id, role=Role.AGENT)
    answer, _ = await post_message(
        demo,
        agent,
        received.conversation_id,
        MessageCreate(
            body_text="Done.",
            channel=Channel.EMAIL,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.AGENT,
        ),
    )
    assert await send_queued_message(demo, answer.id)
    written = message_from_bytes((tmp_path / "outbox" / f"{answer.id}.eml").read_bytes())
    assert written["To"] == received.metadata_["sender"]
    assert written["To"].endswith("@example.com")
    assert written["From"].endswith(f"<{DEMO_MAILBOX}>")
