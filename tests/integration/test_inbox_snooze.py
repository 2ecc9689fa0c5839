"""Snoozing a conversation through the API: it leaves the agent's inbox, comes back when
the wake-up job runs at its time (driven with the test clock), or at once when the
customer writes; every change is audited and published."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from opencx.core.enums import Channel, IdentityKind, Role
from opencx.core.events import EventType
from opencx.features.contacts.intake import receive
from opencx.features.context import AppContext
from opencx.features.conversations.snoozes import WAKE_JOB
from opencx.jobs import inbox as inbox_jobs
from opencx.jobs.inprocess import DatabaseJobQueue
from opencx.jobs.registry import JobRegistry
from opencx.jobs.runner import InProcessRunner
from opencx.providers.base import InboundMessage, Sender
from opencx.testing import FakeClock, RecordingJobQueue, RecordingPublisher
from tests.conftest import Caller, MakeCaller
from tests.integration.inbox_helpers import call, conversation, customer, inbox, inbox_ids, write

pytestmark = pytest.mark.timeout(60)


def iso(clock: FakeClock, seconds: float = 0) -> str:
    return (clock.now() + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def runner(ctx: AppContext) -> InProcessRunner:
    """Jobs deferred into the ``jobs`` table, run by the in-process runner: the wake-up
    job only (the sweep has a test of its own)."""
    queue = DatabaseJobQueue(ctx.sessions, ctx.clock)
    ctx.jobs = queue
    jobs = JobRegistry()
    jobs.job(WAKE_JOB)(inbox_jobs.wake_snoozed_conversation)
    return InProcessRunner(ctx, registry=jobs, wakeup=queue.wakeup)


def snooze_events(publisher: RecordingPublisher, conversation_id: int) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in event.payload.items() if k != "conversation_id"}
        | {"actor": event.actor_user_id}
        for event in publisher.events
        if event.type is EventType.CONVERSATION_UPDATED
        and event.entity_id == conversation_id
        and "snoozed_until" in event.payload
    ]


async def snooze(
    client: httpx.AsyncClient, caller: Caller, conversation_id: int, until: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/conversations/{conversation_id}/snooze",
        json={"until": until},
        headers=caller.headers,
    )


async def test_a_snoozed_conversation_leaves_mine_and_the_job_brings_it_back_when_due(
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    clock: FakeClock,
    publisher: RecordingPublisher,
    runner: InProcessRunner,
) -> None:
    agent = await make_caller(Role.AGENT)
    person = await customer(client, admin, "Gaëlle")
    later = await conversation(client, admin, person, assignee_id=agent.user.id)
    other = await conversation(client, admin, person, assignee_id=agent.user.id)
    until = iso(clock, 2 * 3600)
    as_published = (clock.now() + timedelta(hours=2)).isoformat()

    response = await snooze(client, agent, later, until)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "conversation_id": later,
        "snoozed_until": until,
        "snoozed_by_id": agent.user.id,
    }
    assert await inbox_ids(client, agent) == [other]
    [line] = await inbox(client, agent, view="snoozed")
    assert (line["conversation_id"], line["snoozed_until"]) == (later, until)
    assert await inbox_ids(client, admin, view="snoozed") == []

    clock.advance(3600)
    await runner.run_until_idle()
    assert await inbox_ids(client, agent) == [other]
    clock.advance(3600)
    [run] = await runner.run_until_idle()
    assert (run.task, run.status) == (WAKE_JOB, "succeeded")
    assert await inbox_ids(client, agent) == [other, later]
    assert await inbox_ids(client, agent, view="snoozed") == []
    assert snooze_events(publisher, later) == [
        {
            "fields": ["snoozed_until"],
            "snoozed_until": as_published,
            "snoozed_by": agent.user.id,
            "actor": agent.user.id,
        },
        {
            "fields": ["snoozed_until"],
            "snoozed_until": None,
            "woke": True,
            "reason": "due",
            "actor": None,
        },
    ]
    audit = await call(
        client,
        admin,
        "GET",
        "/audit",
        params={"entity_kind": "conversation", "entity_id": later},
    )
    actions = [entry["action"] for entry in audit["items"]]
    assert actions[-2:] == ["conversation.snooze", "conversation.wake"]


async def test_a_snooze_moved_later_is_not_cut_short_by_its_first_job(
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    clock: FakeClock,
    runner: InProcessRunner,
) -> None:
    agent = await make_caller(Role.AGENT)
    later = await conversation(
        client, admin, await customer(client, admin, "Hugo"), assignee_id=agent.user.id
    )
    assert (await snooze(client, agent, later, iso(clock, 600))).status_code == 200
    assert (await snooze(client, agent, later, iso(clock, 7200))).status_code == 200
    clock.advance(900)
    await runner.run_until_idle()
    assert await inbox_ids(client, agent) == []
    clock.advance(7200)
    await runner.run_until_idle()
    assert await inbox_ids(client, agent) == [later]


async def test_the_sweep_wakes_a_conversation_whose_job_was_lost(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    clock: FakeClock,
) -> None:
    agent = await make_caller(Role.AGENT)
    later = await conversation(
        client, admin, await customer(client, admin, "Kim"), assignee_id=agent.user.id
    )
    until = clock.now() + timedelta(minutes=30)
    assert (await snooze(client, agent, later, iso(clock, 1800))).status_code == 200
    assert isinstance(ctx.jobs, RecordingJobQueue)  # the job is recorded, never run
    [deferred] = ctx.jobs.jobs
    assert (deferred.task, deferred.args, deferred.run_at) == (
        WAKE_JOB,
        {"conversation_id": later},
        until,
    )
    jobs = JobRegistry()
    jobs.job("wake_snoozed_conversations", every=timedelta(minutes=1))(
        inbox_jobs.wake_snoozed_conversations
    )
    sweeper = InProcessRunner(ctx, registry=jobs)
    clock.advance(1800)
    await sweeper.run_until_idle()  # schedules the sweep a minute ahead
    clock.advance(60)
    [run] = await sweeper.run_until_idle()
    assert (run.task, run.status) == ("wake_snoozed_conversations", "succeeded")
    assert await inbox_ids(client, agent) == [later]


async def test_the_customer_writing_wakes_a_snoozed_conversation_at_once(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    clock: FakeClock,
    publisher: RecordingPublisher,
) -> None:
    agent = await make_caller(Role.AGENT)
    person = await customer(client, admin, "Inès", ("email", "ines@example.com"))
    by_api = await conversation(
        client, admin, person, subject="Ma commande", assignee_id=agent.user.id
    )
    assert (await snooze(client, agent, by_api, iso(clock, 86_400))).status_code == 200
    await write(client, agent, by_api, "Nous revenons vers vous.", author="agent", channel="chat")
    assert await inbox_ids(client, agent) == []  # its agent's answer wakes nothing

    await write(client, admin, by_api, "Alors ?")
    assert await inbox_ids(client, agent) == [by_api]
    assert snooze_events(publisher, by_api)[-1] == {
        "fields": ["snoozed_until"],
        "snoozed_until": None,
        "woke": True,
        "reason": "customer_wrote",
        "actor": None,
    }

    # A message received on a channel (the e-mail intake) wakes it the same way; an
    # automatic reply does not.
    assert (await snooze(client, agent, by_api, iso(clock, 86_400))).status_code == 200
    await receive(ctx, email(1, flags=frozenset({"auto_submitted"})))
    assert await inbox_ids(client, agent) == []
    received = await receive(ctx, email(2))
    assert received.conversation_id == by_api
    assert await inbox_ids(client, agent) == [by_api]
    assert snooze_events(publisher, by_api)[-1]["reason"] == "customer_wrote"


def email(n: int, **fields: Any) -> InboundMessage:
    values: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "provider": "smtp",
        "provider_message_id": f"wake{n}@example.com",
        "sender": Sender(IdentityKind.EMAIL, "ines@example.com", "Inès"),
        "recipient": "support@example.com",
        "text": f"Toujours rien ({n})",
        "subject": "Ma commande",
    }
    return InboundMessage(**(values | fields))


async def test_a_snooze_is_refused_outside_its_bounds_and_ended_by_hand(
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    clock: FakeClock,
    publisher: RecordingPublisher,
) -> None:
    agent = await make_caller(Role.AGENT)
    person = await customer(client, admin, "Jade")
    open_one = await conversation(client, admin, person, assignee_id=agent.user.id)
    closed = await conversation(client, admin, person)
    await call(client, admin, "POST", f"/conversations/{closed}/status", {"status": "closed"})

    for until in [iso(clock, -60), iso(clock), iso(clock, 91 * 86_400), "2026-01-06T09:00:00"]:
        refused = await snooze(client, agent, open_one, until)
        assert refused.status_code == 422, (until, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert "until" in refused.text
    assert (await snooze(client, agent, closed, iso(clock, 60))).status_code == 409
    assert (await snooze(client, agent, 999_999, iso(clock, 60))).status_code == 404
    assert (await snooze(client, agent, open_one, iso(clock, 90 * 86_400))).status_code == 200

    path = f"/conversations/{open_one}/snooze"
    ended = await call(client, agent, "DELETE", path)
    assert ended == {"conversation_id": open_one, "snoozed_until": None, "snoozed_by_id": None}
    assert await inbox_ids(client, agent) == [open_one]
    assert snooze_events(publisher, open_one)[-1] == {
        "fields": ["snoozed_until"],
        "snoozed_until": None,
        "woke": False,
        "actor": agent.user.id,
    }
    before = len(publisher.events)
    assert await call(client, agent, "DELETE", path) == ended  # nothing to end: unchanged
    assert len(publisher.events) == before
