"""Customers through the API: profiles, identities, resolution and merges."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from opencx.core.enums import Role
from opencx.core.events import EventType
from opencx.testing import RecordingPublisher
from tests.conftest import Caller, MakeCaller

API = "/api/v1"


async def create_customer(client: httpx.AsyncClient, caller: Caller, **body: Any) -> Any:
    response = await client.post(f"{API}/customers", json=body, headers=caller.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_with_identities_then_find_by_name_and_identity(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    jane = await create_customer(
        client,
        admin,
        display_name="Jane Doe",
        country="fr",
        segment="gold",
        identities=[
            {"kind": "email", "value": "  Jane.Doe@Example.COM "},
            {"kind": "phone", "value": "06 12 34 56 78", "region": "FR"},
        ],
    )
    assert jane["country"] == "FR"
    assert [(i["kind"], i["value"]) for i in jane["identities"]] == [
        ("email", "jane.doe@example.com"),
        ("phone", "+33612345678"),
    ]
    await create_customer(client, admin, display_name="John 100%_Smith", country="BE")

    async def names(**params: str) -> list[str]:
        response = await client.get(f"{API}/customers", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        return [c["display_name"] for c in response.json()["items"]]

    assert await names(q="jane") == ["Jane Doe"]
    assert await names(q="100%_") == ["John 100%_Smith"]
    assert await names(q="%") == ["John 100%_Smith"]
    assert await names(identity="email:JANE.DOE@example.com") == ["Jane Doe"]
    assert await names(identity="phone:+33 6 12 34 56 78") == ["Jane Doe"]
    assert await names(identity="phone:0612345678", region="FR") == ["Jane Doe"]
    assert await names(segment="gold") == ["Jane Doe"]
    assert await names(country="be") == ["John 100%_Smith"]
    assert await names(identity="email:nobody@example.com") == []
    bad = await client.get(
        f"{API}/customers", params={"identity": "fax:123"}, headers=admin.headers
    )
    assert bad.status_code == 422
    nul = await client.get(f"{API}/customers", params={"q": "\x00"}, headers=admin.headers)
    assert nul.status_code == 422
    fetched = await client.get(f"{API}/customers/{jane['id']}", headers=admin.headers)
    assert fetched.json() == jane


async def test_customers_list_page_by_page(client: httpx.AsyncClient, admin: Caller) -> None:
    for n in range(5):
        await create_customer(client, admin, display_name=f"C{n}")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{API}/customers", params=params, headers=admin.headers)).json()
        seen += [c["display_name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"C{n}" for n in range(5)]


async def test_identity_conflicts_name_the_owner(
    client: httpx.AsyncClient, admin: Caller, publisher: RecordingPublisher
) -> None:
    owner = await create_customer(
        client, admin, identities=[{"kind": "email", "value": "a@example.com"}]
    )
    other = await create_customer(client, admin, display_name="Other")
    response = await client.post(
        f"{API}/customers/{other['id']}/identities",
        json={"kind": "email", "value": "A@EXAMPLE.com"},
        headers=admin.headers,
    )
    assert response.status_code == 409
    assert response.json()["customer_id"] == owner["id"]
    assert str(owner["id"]) in response.json()["detail"]
    response = await client.post(
        f"{API}/customers",
        json={"identities": [{"kind": "email", "value": "a@example.com"}]},
        headers=admin.headers,
    )
    assert response.status_code == 409
    assert response.json()["customer_id"] == owner["id"]
    added = await client.post(
        f"{API}/customers/{other['id']}/identities",
        json={"kind": "messenger", "value": " 2468 "},
        headers=admin.headers,
    )
    assert added.status_code == 201
    assert added.json()["value"] == "2468"
    identity_events = [e for e in publisher.events if e.type is EventType.IDENTITY_ADDED]
    assert [e.entity_id for e in identity_events] == [owner["id"], other["id"]]
    assert identity_events[-1].payload == {"identity_id": added.json()["id"], "kind": "messenger"}


async def test_bad_identities_are_422_naming_the_field(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    customer = await create_customer(client, admin)
    url = f"{API}/customers/{customer['id']}/identities"
    cases = [
        ({"kind": "email", "value": "not-an-email"}, "value"),
        # A number that does not parse is kept as given (a short code is an address),
        # but what is no address at all is refused.
        ({"kind": "phone", "value": "06\u200e12345678"}, "value"),
        ({"kind": "phone", "value": "0612345678", "region": "QQ"}, "region"),
        ({"kind": "web", "value": "x" * 321}, "value"),
        ({"kind": "fax", "value": "1"}, "body.kind"),
    ]
    for body, field in cases:
        response = await client.post(url, json=body, headers=admin.headers)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field, body
    missing = await client.post(
        f"{API}/customers/999/identities", json={"kind": "web", "value": "v"}, headers=admin.headers
    )
    assert missing.status_code == 404


async def test_remove_identity(client: httpx.AsyncClient, admin: Caller) -> None:
    one = await create_customer(client, admin, identities=[{"kind": "web", "value": "v1"}])
    two = await create_customer(client, admin, identities=[{"kind": "web", "value": "v2"}])
    identity_id = one["identities"][0]["id"]
    wrong = await client.delete(
        f"{API}/customers/{two['id']}/identities/{identity_id}", headers=admin.headers
    )
    assert wrong.status_code == 404
    gone = await client.delete(
        f"{API}/customers/{one['id']}/identities/{identity_id}", headers=admin.headers
    )
    assert gone.status_code == 204
    found = await client.get(
        f"{API}/customers", params={"identity": "web:v1"}, headers=admin.headers
    )
    assert found.json()["items"] == []
    again = await client.post(
        f"{API}/customers/{two['id']}/identities",
        json={"kind": "web", "value": "v1"},
        headers=admin.headers,
    )
    assert again.status_code == 201


async def test_patch_profile(
    client: httpx.AsyncClient, admin: Caller, publisher: RecordingPublisher
) -> None:
    customer = await create_customer(client, admin, attributes={"plan": "basic", "cars": 2})
    url = f"{API}/customers/{customer['id']}"
    response = await client.patch(
        url,
        json={
            "display_name": "Jan Kowalski",
            "language": "pl",
            "country": "pl",
            "lifetime_value": 1250.5,
            "subscription_start": "2025-01-01",
            "subscription_end": "2026-01-01",
            "attributes": {"plan": None, "vip": True},
        },
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["country"] == "PL"
    assert body["attributes"] == {"cars": 2, "vip": True}
    assert body["subscription_end"] == "2026-01-01"
    updated = [e for e in publisher.events if e.type is EventType.CUSTOMER_UPDATED][-1]
    assert "Kowalski" not in str(updated.payload)
    assert "display_name" in updated.payload["fields"]
    bad_bodies: list[dict[str, Any]] = [
        {"country": "XX"},
        {"language": "French"},
        {"display_name": None},
        {"attributes": None},
        {"subscription_end": "2024-12-31"},
        {"lifetime_value": 1e300},
        {"attributes": {f"k{n}": n for n in range(49)}},
        {"attributes": {"k": "x" * 1001}},
        {"attributes": {"": 1}},
        {"display_name": "nul\x00byte"},
        {"attributes": {"k": ["x"]}},
        {"attributes": {"k\x00": 1}},
        {"unknown": 1},
    ]
    for bad in bad_bodies:
        response = await client.patch(url, json=bad, headers=admin.headers)
        assert response.status_code == 422, bad
    assert (await client.get(url, headers=admin.headers)).json()["display_name"] == "Jan Kowalski"


async def test_resolve_finds_or_creates(
    client: httpx.AsyncClient, make_caller: MakeCaller, publisher: RecordingPublisher
) -> None:
    agent = await make_caller(Role.AGENT)
    url = f"{API}/customers/resolve"
    first = await client.post(
        url,
        json={"kind": "email", "value": "Max@Example.com", "display_name": "Max"},
        headers=agent.headers,
    )
    assert first.status_code == 201, first.text
    again = await client.post(
        url, json={"kind": "email", "value": " max@example.COM"}, headers=agent.headers
    )
    assert again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["display_name"] == "Max"
    types = [e.type for e in publisher.events if e.entity_id == first.json()["id"]]
    assert types.count(EventType.CUSTOMER_CREATED) == 1
    assert types.count(EventType.IDENTITY_ADDED) == 1


async def test_concurrent_resolves_of_a_new_identity_make_one_customer(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    body = {"kind": "messenger", "value": "psid-7777"}
    responses = await asyncio.gather(
        *(
            client.post(f"{API}/customers/resolve", json=body, headers=admin.headers)
            for _ in range(3)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    listed = await client.get(f"{API}/customers", headers=admin.headers)
    assert len(listed.json()["items"]) == 1


async def test_merge_moves_everything_and_is_audited(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    target = await create_customer(
        client,
        admin,
        display_name="Jane Doe",
        language="fr",
        attributes={"plan": "gold"},
        identities=[{"kind": "email", "value": "jane@example.com"}],
    )
    source = await create_customer(
        client,
        admin,
        display_name="J. Doe",
        language="en",
        country="FR",
        segment="premium",
        attributes={"plan": "basic", "car": "Clio"},
        identities=[{"kind": "phone", "value": "+33612345678"}],
    )
    conversation = (
        await client.post(
            f"{API}/conversations",
            json={"customer_id": source["id"], "subject": "Renewal"},
            headers=admin.headers,
        )
    ).json()
    supervisor = await make_caller(Role.SUPERVISOR)
    agent = await make_caller(Role.AGENT)
    url = f"{API}/customers/{target['id']}/merge"
    body = {"source_customer_id": source["id"], "reason": "same person"}
    forbidden = await client.post(url, json=body, headers=agent.headers)
    assert forbidden.status_code == 403
    merged = await client.post(url, json=body, headers=supervisor.headers)
    assert merged.status_code == 201, merged.text
    moved = merged.json()["moved"]
    assert moved["identity_ids"] == [source["identities"][0]["id"]]
    assert moved["conversation_ids"] == [conversation["id"]]
    assert moved["profile_fields"] == ["country", "segment", "attributes.car"]

    after = (await client.get(f"{API}/customers/{target['id']}", headers=admin.headers)).json()
    assert after["language"] == "fr"
    assert after["country"] == "FR"
    assert after["attributes"] == {"plan": "gold", "car": "Clio"}
    assert {i["value"] for i in after["identities"]} == {"jane@example.com", "+33612345678"}
    old = (await client.get(f"{API}/customers/{source['id']}", headers=admin.headers)).json()
    assert old["merged_into_id"] == target["id"]
    assert old["identities"] == []
    moved_conversation = await client.get(
        f"{API}/conversations/{conversation['id']}", headers=admin.headers
    )
    assert moved_conversation.json()["customer_id"] == target["id"]
    listed = (await client.get(f"{API}/customers", headers=admin.headers)).json()["items"]
    assert [c["id"] for c in listed] == [target["id"]]
    by_phone = await client.get(
        f"{API}/customers", params={"identity": "phone:+33612345678"}, headers=admin.headers
    )
    assert [c["id"] for c in by_phone.json()["items"]] == [target["id"]]
    for customer_id in (target["id"], source["id"]):
        history = await client.get(f"{API}/customers/{customer_id}/merges", headers=admin.headers)
        assert [m["id"] for m in history.json()["items"]] == [merged.json()["id"]]

    audit = await client.get(
        f"{API}/audit", params={"action": "customer.merge"}, headers=admin.headers
    )
    [entry] = audit.json()["items"]
    assert entry["actor_user_id"] == supervisor.user.id
    assert entry["changes"]["source_customer_id"] == source["id"]
    events = await client.get(
        f"{API}/events", params={"type": "customer.merged"}, headers=admin.headers
    )
    [event] = events.json()["items"]
    assert event["entity_id"] == target["id"]
    assert event["payload"]["conversation_ids"] == [conversation["id"]]

    again = await client.post(url, json=body, headers=supervisor.headers)
    assert again.status_code == 409
    assert again.json()["merged_into_id"] == target["id"]
    into_merged = await client.post(
        f"{API}/customers/{source['id']}/merge",
        json={"source_customer_id": target["id"]},
        headers=supervisor.headers,
    )
    assert into_merged.status_code == 409
    itself = await client.post(
        url, json={"source_customer_id": target["id"]}, headers=supervisor.headers
    )
    assert itself.status_code == 409
    unknown = await client.post(url, json={"source_customer_id": 999}, headers=supervisor.headers)
    assert unknown.status_code == 422
    patch_merged = await client.patch(
        f"{API}/customers/{source['id']}", json={"segment": "x"}, headers=admin.headers
    )
    assert patch_merged.status_code == 409


async def test_merging_a_merge_target_repoints_earlier_sources(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    a, b, c = [await create_customer(client, admin, display_name=n) for n in "ABC"]
    for target, source in ((b, a), (c, b)):
        response = await client.post(
            f"{API}/customers/{target['id']}/merge",
            json={"source_customer_id": source["id"]},
            headers=admin.headers,
        )
        assert response.status_code == 201, response.text
    first = (await client.get(f"{API}/customers/{a['id']}", headers=admin.headers)).json()
    assert first["merged_into_id"] == c["id"]
