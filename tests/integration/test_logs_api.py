"""The event log and audit trail through the API: filters, polling, who may read what."""

from __future__ import annotations

from typing import Any

import httpx

from opencx.core.enums import Channel, Role
from opencx.db.models import Queue
from opencx.features.context import AppContext, transaction
from opencx.testing import FakeClock
from tests.conftest import Caller, MakeCaller

API = "/api/v1"


async def events(client: httpx.AsyncClient, caller: Caller, **params: Any) -> list[Any]:
    response = await client.get(f"{API}/events", params=params, headers=caller.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_events_filter_and_poll_incrementally(
    client: httpx.AsyncClient, admin: Caller, clock: FakeClock
) -> None:
    first = await client.post(f"{API}/customers", json={"display_name": "A"}, headers=admin.headers)
    clock.advance(3600)
    second = await client.post(
        f"{API}/customers", json={"display_name": "B"}, headers=admin.headers
    )
    everything = await events(client, admin)
    created = [e for e in everything if e["type"] == "customer.created"]
    assert [e["entity_id"] for e in created] == [first.json()["id"], second.json()["id"]]
    assert created[0]["actor_user_id"] == admin.user.id
    assert [e["id"] for e in everything] == sorted(e["id"] for e in everything)

    by_entity = await events(client, admin, entity_kind="customer", entity_id=second.json()["id"])
    assert [e["entity_id"] for e in by_entity] == [second.json()["id"]]
    typed = await events(client, admin, type="customer.created")
    assert len(typed) == 2
    later = await events(client, admin, since=clock.now().isoformat(), type="customer.created")
    assert [e["entity_id"] for e in later] == [second.json()["id"]]
    earlier = await events(client, admin, until=clock.now().isoformat(), type="customer.created")
    assert [e["entity_id"] for e in earlier] == [first.json()["id"]]

    last_seen = everything[-1]["id"]
    assert await events(client, admin, after_id=last_seen) == []
    await client.patch(
        f"{API}/customers/{first.json()['id']}", json={"segment": "gold"}, headers=admin.headers
    )
    new = await events(client, admin, after_id=last_seen)
    assert [(e["type"], e["payload"]) for e in new] == [
        ("customer.updated", {"fields": ["segment"]})
    ]

    pages: list[Any] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"{API}/events", params=params, headers=admin.headers)
        pages += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == await events(client, admin)

    naive = await client.get(
        f"{API}/events", params={"since": "2026-01-05T09:00:00"}, headers=admin.headers
    )
    assert naive.status_code == 422


async def test_partner_supervisors_read_their_sites_events_only(
    client: httpx.AsyncClient, ctx: AppContext, admin: Caller, make_caller: MakeCaller
) -> None:
    site_ids = []
    for name in ("A", "B"):
        response = await client.post(
            f"{API}/sites", json={"name": name, "kind": "partner"}, headers=admin.headers
        )
        site_ids.append(response.json()["id"])
    conversation_ids = []
    for site_id in site_ids:
        async with transaction(ctx) as session:
            queue = Queue(name=f"q{site_id}", channel=Channel.CHAT, site_id=site_id)
            session.add(queue)
            await session.flush()
            queue_id = queue.id
        customer = await client.post(f"{API}/customers", json={}, headers=admin.headers)
        conversation = await client.post(
            f"{API}/conversations",
            json={"customer_id": customer.json()["id"], "queue_id": queue_id},
            headers=admin.headers,
        )
        conversation_ids.append(conversation.json()["id"])
    supervisor = await make_caller(Role.SUPERVISOR, site_id=site_ids[0])
    seen = await events(client, supervisor)
    assert {e["site_id"] for e in seen} == {site_ids[0]}
    assert [e["entity_id"] for e in seen if e["type"] == "conversation.created"] == [
        conversation_ids[0]
    ]
    all_created = await events(client, admin, type="conversation.created")
    assert [e["site_id"] for e in all_created] == site_ids


async def test_audit_is_for_admins(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    customer = await client.post(
        f"{API}/customers", json={"display_name": "Ana"}, headers=admin.headers
    )
    await client.patch(
        f"{API}/customers/{customer.json()['id']}", json={"country": "es"}, headers=admin.headers
    )
    response = await client.get(
        f"{API}/audit",
        params={
            "entity_kind": "customer",
            "entity_id": customer.json()["id"],
            "actor_user_id": admin.user.id,
        },
        headers=admin.headers,
    )
    assert response.status_code == 200
    entries = response.json()["items"]
    assert [e["action"] for e in entries] == ["customer.create", "customer.update"]
    assert entries[1]["changes"] == {"country": "ES"}
    only_updates = await client.get(
        f"{API}/audit", params={"action": "customer.update"}, headers=admin.headers
    )
    assert len(only_updates.json()["items"]) == 1
    supervisor = await make_caller(Role.SUPERVISOR)
    agent = await make_caller(Role.AGENT)
    assert (await client.get(f"{API}/audit", headers=supervisor.headers)).status_code == 403
    assert (await client.get(f"{API}/events", headers=agent.headers)).status_code == 403
    assert (await client.get(f"{API}/events", headers=supervisor.headers)).status_code == 200
