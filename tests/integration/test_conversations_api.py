"""Conversations, interactions and the cross-channel timeline through the API, with
site visibility for partner users."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from opencx.core.enums import Channel, ReasonAxis, Role
from opencx.core.events import EventType
from opencx.core.pagination import encode_cursor
from opencx.db.models import ContactReason, Queue
from opencx.features.context import AppContext, transaction
from opencx.testing import FakeClock, RecordingPublisher
from tests.conftest import Caller, MakeCaller

API = "/api/v1"


async def make_site(client: httpx.AsyncClient, admin: Caller, name: str, kind: str) -> int:
    response = await client.post(
        f"{API}/sites", json={"name": name, "kind": kind}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def make_queue(
    ctx: AppContext, name: str, *, site_id: int | None, channel: Channel = Channel.CHAT
) -> int:
    async with transaction(ctx) as session:
        queue = Queue(name=name, channel=channel, site_id=site_id)
        session.add(queue)
        await session.flush()
        return queue.id


async def make_reason(ctx: AppContext, axis: ReasonAxis, code: str, *, active: bool = True) -> int:
    async with transaction(ctx) as session:
        reason = ContactReason(axis=axis, code=code, labels={"en": code}, is_active=active)
        session.add(reason)
        await session.flush()
        return reason.id


async def post(client: httpx.AsyncClient, caller: Caller, path: str, body: Any) -> Any:
    response = await client.post(f"{API}{path}", json=body, headers=caller.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def new_conversation(
    client: httpx.AsyncClient, caller: Caller, **body: Any
) -> dict[str, Any]:
    if "customer_id" not in body:
        customer = await post(client, caller, "/customers", {"display_name": "C"})
        body["customer_id"] = customer["id"]
    return dict(await post(client, caller, "/conversations", body))


async def test_conversation_crud_and_filters(
    client: httpx.AsyncClient, ctx: AppContext, admin: Caller, make_caller: MakeCaller
) -> None:
    paris = await make_site(client, admin, "Paris", "internal")
    lyon = await make_site(client, admin, "Lyon", "internal")
    q_paris = await make_queue(ctx, "Support Paris", site_id=paris)
    q_lyon = await make_queue(ctx, "Support Lyon", site_id=lyon)
    agent = await make_caller(Role.AGENT, site_id=paris)
    created = await new_conversation(
        client, agent, subject="Parcel", intent="delivery", priority=5, queue_id=q_paris
    )
    assert created["site_id"] == paris
    assert created["status"] == "open"
    other = await new_conversation(client, agent, subject="Other")
    assert other["site_id"] == paris  # the creator's site when there is no queue

    url = f"{API}/conversations/{created['id']}"
    patched = await client.patch(
        url,
        json={"subject": "Parcel lost", "queue_id": q_lyon, "assignee_id": agent.user.id},
        headers=agent.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["site_id"] == lyon
    assert patched.json()["assignee_id"] == agent.user.id

    async def ids(**params: Any) -> list[int]:
        response = await client.get(f"{API}/conversations", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert await ids() == [created["id"], other["id"]]
    assert await ids(site_id=lyon) == [created["id"]]
    assert await ids(queue_id=q_lyon) == [created["id"]]
    assert await ids(assignee_id=agent.user.id) == [created["id"]]
    assert await ids(customer_id=other["customer_id"]) == [other["id"]]
    assert await ids(status="closed") == []
    bad_bodies: list[tuple[dict[str, Any], str]] = [
        ({"queue_id": 999}, "queue_id"),
        ({"assignee_id": 999}, "assignee_id"),
        ({"subject": None}, "subject"),
        ({"priority": 10_000}, "body.priority"),
        ({"customer_id": 1}, "body.customer_id"),
    ]
    for bad, field in bad_bodies:
        response = await client.patch(url, json=bad, headers=agent.headers)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == field
    unknown_customer = await client.post(
        f"{API}/conversations", json={"customer_id": 999}, headers=agent.headers
    )
    assert unknown_customer.status_code == 422
    assert (await client.get(f"{API}/conversations/999", headers=agent.headers)).status_code == 404


async def test_contact_reasons_must_exist_be_active_and_on_their_axis(
    client: httpx.AsyncClient, ctx: AppContext, admin: Caller
) -> None:
    declaration = await make_reason(ctx, ReasonAxis.DECLARATION, "parcel_not_arrived")
    qualification = await make_reason(ctx, ReasonAxis.QUALIFICATION, "payment_failed")
    action = await make_reason(ctx, ReasonAxis.ACTION, "reship")
    retired = await make_reason(ctx, ReasonAxis.ACTION, "fax_back", active=False)
    conversation = await new_conversation(client, admin)
    url = f"{API}/conversations/{conversation['id']}"
    coded = await client.patch(
        url,
        json={
            "declaration_reason_id": declaration,
            "qualification_reason_id": qualification,
            "action_reason_id": action,
        },
        headers=admin.headers,
    )
    assert coded.status_code == 200, coded.text
    assert coded.json()["action_reason_id"] == action
    for bad in (
        {"declaration_reason_id": action},
        {"action_reason_id": retired},
        {"qualification_reason_id": 999},
    ):
        response = await client.patch(url, json=bad, headers=admin.headers)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == next(iter(bad))
    cleared = await client.patch(url, json={"action_reason_id": None}, headers=admin.headers)
    assert cleared.json()["action_reason_id"] is None


async def test_status_lifecycle(
    client: httpx.AsyncClient, admin: Caller, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    conversation = await new_conversation(client, admin)
    url = f"{API}/conversations/{conversation['id']}/status"
    resolved = await post(client, admin, url.removeprefix(API), {"status": "resolved"})
    assert resolved["closed_at"] is None
    clock.advance(60)
    closed = await post(client, admin, url.removeprefix(API), {"status": "closed"})
    assert closed["closed_at"] == clock.now().isoformat().replace("+00:00", "Z")
    illegal = await client.post(url, json={"status": "pending"}, headers=admin.headers)
    assert illegal.status_code == 409
    assert illegal.json()["code"] == "opencx.illegal_transition"
    assert illegal.json()["allowed"] == ["open"]
    no_new_contact = await client.post(
        f"{API}/conversations/{conversation['id']}/interactions",
        json={"channel": "voice", "direction": "inbound"},
        headers=admin.headers,
    )
    assert no_new_contact.status_code == 409
    reopened = await post(client, admin, url.removeprefix(API), {"status": "open"})
    assert reopened["closed_at"] is None
    changes = [
        (e.payload["previous"], e.payload["status"])
        for e in publisher.events
        if e.type is EventType.CONVERSATION_STATUS_CHANGED
    ]
    assert changes == [("open", "resolved"), ("resolved", "closed"), ("closed", "open")]


async def test_interaction_lifecycle_stamps_times_and_counts_hold(
    client: httpx.AsyncClient,
    ctx: AppContext,
    admin: Caller,
    make_caller: MakeCaller,
    clock: FakeClock,
    publisher: RecordingPublisher,
) -> None:
    site = await make_site(client, admin, "Paris", "internal")
    queue = await make_queue(ctx, "Voice", site_id=site, channel=Channel.VOICE)
    agent = await make_caller(Role.AGENT, site_id=site)
    conversation = await new_conversation(client, admin, queue_id=queue)
    start = clock.now()
    interaction = await post(
        client,
        agent,
        f"/conversations/{conversation['id']}/interactions",
        {"channel": "voice", "direction": "inbound", "queue_id": queue, "agent_id": agent.user.id},
    )
    assert interaction["state"] == "created"
    assert interaction["site_id"] == site
    path = f"/interactions/{interaction['id']}/state"
    for seconds, state in [
        (5, "queued"),
        (20, "offered"),
        (3, "active"),
        (60, "held"),
        (30, "active"),
        (100, "held"),
        (10, "wrap_up"),
        (25, "ended"),
    ]:
        clock.advance(seconds)
        interaction = await post(client, agent, path, {"state": state})
    assert interaction["hold_seconds"] == 40.0
    assert interaction["held_since"] is None

    stamps = {
        name: interaction[name]
        for name in ("queued_at", "offered_at", "answered_at", "ended_at", "wrapped_up_at")
    }
    expected = [5, 25, 28, 228, 253]
    fetched = await client.get(f"{API}/interactions/{interaction['id']}", headers=agent.headers)
    assert fetched.json() == interaction
    got = [
        (datetime.fromisoformat(value.replace("Z", "+00:00")) - start).total_seconds()
        for value in stamps.values()
    ]
    assert got == expected
    illegal = await client.post(f"{API}{path}", json={"state": "active"}, headers=agent.headers)
    assert illegal.status_code == 409
    assert illegal.json()["current"] == "ended"
    changes = [e for e in publisher.events if e.type is EventType.INTERACTION_STATE_CHANGED]
    assert changes[0].payload == {
        "conversation_id": conversation["id"],
        "state": "queued",
        "previous": "created",
        "channel": "voice",
        "queue_id": queue,
        "agent_id": agent.user.id,
        "waiting_since": stamps["queued_at"].replace("Z", "+00:00"),  # supervisors' queues
    }
    assert "waiting_since" not in changes[-1].payload  # ended: it waits no more
    assert {e.site_id for e in changes} == {site}
    listed = await client.get(
        f"{API}/conversations/{conversation['id']}/interactions", headers=agent.headers
    )
    assert [i["id"] for i in listed.json()["items"]] == [interaction["id"]]


async def test_messenger_then_phone_then_email_is_one_conversation_in_one_timeline(
    client: httpx.AsyncClient,
    ctx: AppContext,
    admin: Caller,
    make_caller: MakeCaller,
    clock: FakeClock,
) -> None:
    site = await make_site(client, admin, "Paris", "internal")
    queue = await make_queue(ctx, "Social", site_id=site, channel=Channel.MESSENGER)
    agent = await make_caller(Role.AGENT, site_id=site)
    # 2 a.m.: a customer writes on Messenger; the channel resolves the sender's PSID.
    customer = await post(
        client, admin, "/customers/resolve", {"kind": "messenger", "value": "psid-1029384756"}
    )
    conversation = await post(
        client,
        admin,
        "/conversations",
        {"customer_id": customer["id"], "subject": "Subscription", "queue_id": queue},
    )
    cid = conversation["id"]
    chat = await post(
        client,
        admin,
        f"/conversations/{cid}/interactions",
        {"channel": "messenger", "direction": "inbound", "queue_id": queue},
    )
    first = await post(
        client,
        admin,
        f"/conversations/{cid}/messages",
        {
            "body_text": "My renewal failed",
            "channel": "messenger",
            "direction": "inbound",
            "author_kind": "customer",
            "interaction_id": chat["id"],
            "provider_message_id": "m_1",
        },
    )
    # Morning: the agent answers on Messenger, then calls the customer.
    clock.advance(6 * 3600)
    reply = await post(
        client,
        agent,
        f"/conversations/{cid}/messages",
        {
            "body_text": "Can I call you?",
            "channel": "messenger",
            "direction": "outbound",
            "author_kind": "agent",
            "interaction_id": chat["id"],
        },
    )
    clock.advance(120)
    await post(
        client,
        agent,
        f"/customers/{customer['id']}/identities",
        {"kind": "phone", "value": "06 12 34 56 78", "region": "FR"},
    )
    call = await post(
        client,
        agent,
        f"/conversations/{cid}/interactions",
        {"channel": "voice", "direction": "outbound", "agent_id": agent.user.id},
    )
    # Then an email confirming the renewal.
    clock.advance(900)
    await post(
        client,
        agent,
        f"/customers/{customer['id']}/identities",
        {"kind": "email", "value": "Client@Example.com"},
    )
    email = await post(
        client,
        agent,
        f"/conversations/{cid}/messages",
        {
            "body_text": "Your subscription is renewed.",
            "channel": "email",
            "direction": "outbound",
            "author_kind": "agent",
        },
    )

    timeline = await client.get(f"{API}/conversations/{cid}/timeline", headers=agent.headers)
    assert timeline.status_code == 200, timeline.text
    entries = timeline.json()["items"]
    assert [(e["kind"], (e["interaction"] or e["message"])["id"]) for e in entries] == [
        ("interaction", chat["id"]),
        ("message", first["id"]),
        ("message", reply["id"]),
        ("interaction", call["id"]),
        ("message", email["id"]),
    ]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    channels = [(e["interaction"] or e["message"])["channel"] for e in entries]
    assert channels == ["messenger", "messenger", "messenger", "voice", "email"]
    assert reply["author_user_id"] == agent.user.id

    paged: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get(
                f"{API}/conversations/{cid}/timeline", params=params, headers=agent.headers
            )
        ).json()
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == entries
    forged = await client.get(
        f"{API}/conversations/{cid}/timeline",
        params={"cursor": encode_cursor(2**40)},
        headers=agent.headers,
    )
    assert forged.status_code == 422

    # Every identity now leads to the same customer.
    for kind, value in [
        ("messenger", "psid-1029384756"),
        ("phone", "+33612345678"),
        ("email", "client@example.com"),
    ]:
        resolved = await client.post(
            f"{API}/customers/resolve", json={"kind": kind, "value": value}, headers=agent.headers
        )
        assert resolved.status_code == 200
        assert resolved.json()["id"] == customer["id"]


async def test_partner_users_see_only_their_sites(
    client: httpx.AsyncClient, ctx: AppContext, admin: Caller, make_caller: MakeCaller
) -> None:
    own_site = await make_site(client, admin, "Partner A", "partner")
    other_site = await make_site(client, admin, "Partner B", "partner")
    own_queue = await make_queue(ctx, "A", site_id=own_site)
    other_queue = await make_queue(ctx, "B", site_id=other_site)
    mine = await new_conversation(client, admin, queue_id=own_queue)
    theirs = await new_conversation(client, admin, queue_id=other_queue)
    hidden_interaction = await post(
        client,
        admin,
        f"/conversations/{theirs['id']}/interactions",
        {"channel": "chat", "direction": "inbound"},
    )
    hidden_message = await post(
        client,
        admin,
        f"/conversations/{theirs['id']}/messages",
        {"body_text": "hi", "channel": "chat", "direction": "inbound", "author_kind": "customer"},
    )
    unclaimed = await post(client, admin, "/customers", {"display_name": "New"})
    agent = await make_caller(Role.AGENT, site_id=own_site)

    listed = await client.get(f"{API}/conversations", headers=agent.headers)
    assert [c["id"] for c in listed.json()["items"]] == [mine["id"]]
    customers = await client.get(f"{API}/customers", headers=agent.headers)
    assert [c["id"] for c in customers.json()["items"]] == [mine["customer_id"]]
    hidden_paths = [
        f"/conversations/{theirs['id']}",
        f"/conversations/{theirs['id']}/timeline",
        f"/conversations/{theirs['id']}/messages",
        f"/conversations/{theirs['id']}/interactions",
        f"/customers/{theirs['customer_id']}",
        f"/customers/{theirs['customer_id']}/merges",
        f"/customers/{unclaimed['id']}",
        f"/interactions/{hidden_interaction['id']}",
        f"/messages/{hidden_message['id']}",
    ]
    for path in hidden_paths:
        response = await client.get(f"{API}{path}", headers=agent.headers)
        assert response.status_code == 404, path
    writes = [
        ("PATCH", f"/conversations/{theirs['id']}", {"subject": "x"}),
        ("POST", f"/conversations/{theirs['id']}/status", {"status": "closed"}),
        ("POST", f"/interactions/{hidden_interaction['id']}/state", {"state": "queued"}),
        ("PATCH", f"/customers/{theirs['customer_id']}", {"segment": "x"}),
        (
            "POST",
            f"/conversations/{theirs['id']}/messages",
            {"body_text": "x", "channel": "chat", "direction": "outbound", "author_kind": "agent"},
        ),
    ]
    for method, path, body in writes:
        response = await client.request(method, f"{API}{path}", json=body, headers=agent.headers)
        assert response.status_code == 404, path
    assert (await client.get(f"{API}/conversations/{mine['id']}", headers=agent.headers)).is_success
    into_other_queue = await client.post(
        f"{API}/conversations",
        json={"customer_id": mine["customer_id"], "queue_id": other_queue},
        headers=agent.headers,
    )
    assert into_other_queue.status_code == 422
    # A customer with no conversation yet can be claimed by opening its first one here.
    claimed = await client.post(
        f"{API}/conversations", json={"customer_id": unclaimed["id"]}, headers=agent.headers
    )
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["site_id"] == own_site
    assert (
        await client.get(f"{API}/customers/{unclaimed['id']}", headers=agent.headers)
    ).is_success
    taken = await client.post(
        f"{API}/conversations",
        json={"customer_id": theirs["customer_id"]},
        headers=agent.headers,
    )
    assert taken.status_code == 422
