"""The customer 360 view through the API: every channel in one history, most recent
first, with what still waits; partner sites see their own part; a constant number of
queries whatever the history's length."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import event

from opencx.core.enums import Role
from opencx.features.context import AppContext
from opencx.testing import FakeClock
from tests.conftest import Caller, MakeCaller
from tests.integration.test_directory_api import API, assert_problem, post


async def conversation(
    client: httpx.AsyncClient,
    caller: Caller,
    customer_id: int,
    subject: str,
    channels: list[str],
    **fields: Any,
) -> tuple[int, list[int]]:
    """A conversation with one contact per channel and a message on each; its id and
    its interactions' ids."""
    made = await post(
        client, caller, "/conversations", {"customer_id": customer_id, "subject": subject, **fields}
    )
    interactions = []
    for channel in channels:
        contact = await post(
            client,
            caller,
            f"/conversations/{made['id']}/interactions",
            {"channel": channel, "direction": "inbound"},
        )
        interactions.append(contact["id"])
        await post(
            client,
            caller,
            f"/conversations/{made['id']}/messages",
            {
                "body_text": f"About {subject.lower()},\n  on {channel}",
                "channel": channel,
                "direction": "inbound",
                "author_kind": "customer",
                "interaction_id": contact["id"],
            },
        )
    return made["id"], interactions


async def overview(
    client: httpx.AsyncClient, caller: Caller, customer_id: int, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        f"{API}/customers/{customer_id}/overview", params=params, headers=caller.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_360_view_gathers_every_channel_most_recent_first(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller, clock: FakeClock
) -> None:
    agent = await make_caller(Role.AGENT)
    customer = await post(
        client,
        admin,
        "/customers",
        {
            "display_name": "Zoé Martin",
            "language": "fr",
            "country": "FR",
            "identities": [
                {"kind": "email", "value": "zoe@example.com"},
                {"kind": "phone", "value": "+33612345678"},
            ],
        },
    )
    older, _ = await conversation(
        client,
        admin,
        customer["id"],
        "Parcel late",
        ["messenger", "voice", "email"],
        assignee_id=agent.user.id,
    )
    clock.advance(3600)
    newer, [chat] = await conversation(client, admin, customer["id"], "Invoice", ["chat"])
    task = await post(client, admin, "/tasks", {"interaction_id": chat})

    seen = await overview(client, agent, customer["id"])
    assert seen["profile"] == {
        "id": customer["id"],
        "name": "Zoé Martin",
        "locale": "fr",
        "time_zone": "Europe/Paris",
        "country": "FR",
        "segment": None,
        "created_at": customer["created_at"],
        "merged_into_id": None,
    }
    assert seen["identities"] == [
        {"kind": "email", "value": "zoe@example.com", "verified": False},
        {"kind": "phone", "value": "+33612345678", "verified": False},
    ]
    assert [c["id"] for c in seen["conversations"]] == [newer, older]
    latest, first = seen["conversations"]
    assert first["channels"] == ["voice", "email", "messenger"]
    assert first["preview"] == "About parcel late, on email"
    assert first["assignee"] == {"id": agent.user.id, "name": agent.user.display_name}
    assert (latest["assignee"], latest["status"], latest["subject"]) == (None, "open", "Invoice")
    assert latest["last_activity_at"] > first["last_activity_at"]
    assert seen["conversations_total"] == 2
    assert seen["channel_counts"] == {"voice": 1, "email": 1, "chat": 1, "messenger": 1}
    [waiting] = seen["open_tasks"]
    assert waiting == {
        "id": task["id"],
        "conversation_id": newer,
        "interaction_id": chat,
        "channel": "chat",
        "queue": None,
        "status": task["status"],
        "since": task["created_at"],
    }
    assert [
        c["id"] for c in (await overview(client, agent, customer["id"], limit=1))["conversations"]
    ] == [newer]


async def test_a_time_zone_attribute_wins_and_a_country_of_several_zones_names_none(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    spain = await post(client, admin, "/customers", {"display_name": "Ana", "country": "ES"})
    chosen = await post(
        client,
        admin,
        "/customers",
        {"display_name": "Ana", "country": "ES", "attributes": {"time_zone": "Atlantic/Canary"}},
    )
    assert (await overview(client, admin, spain["id"]))["profile"]["time_zone"] is None
    assert (await overview(client, admin, chosen["id"]))["profile"][
        "time_zone"
    ] == "Atlantic/Canary"


async def test_a_partner_site_sees_its_own_part_of_the_history_and_no_other_customer(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    dakar = await post(client, admin, "/sites", {"name": "Dakar", "kind": "partner"})
    tunis = await post(client, admin, "/sites", {"name": "Tunis", "kind": "partner"})
    queues = {
        site["name"]: await post(
            client,
            admin,
            "/queues",
            {"name": f"{site['name']} mail", "channel": "email", "site_id": site["id"]},
        )
        for site in (dakar, tunis)
    }
    customer = await post(client, admin, "/customers", {"display_name": "Zoé"})
    ours, _ = await conversation(
        client, admin, customer["id"], "Ours", ["email"], queue_id=queues["Dakar"]["id"]
    )
    await conversation(
        client, admin, customer["id"], "Theirs", ["voice"], queue_id=queues["Tunis"]["id"]
    )
    stranger = await post(client, admin, "/customers", {"display_name": "Hidden"})
    await conversation(
        client, admin, stranger["id"], "Theirs", ["voice"], queue_id=queues["Tunis"]["id"]
    )
    in_dakar = await make_caller(Role.AGENT, site_id=dakar["id"])

    seen = await overview(client, in_dakar, customer["id"])
    assert [c["id"] for c in seen["conversations"]] == [ours]
    assert (seen["conversations_total"], seen["channel_counts"]) == (1, {"email": 1})
    assert (await overview(client, admin, customer["id"]))["conversations_total"] == 2
    hidden = await client.get(
        f"{API}/customers/{stranger['id']}/overview", headers=in_dakar.headers
    )
    assert_problem(hidden, 404, "opencx.not_found")


async def test_a_longer_history_costs_no_more_queries(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext
) -> None:
    short = await post(client, admin, "/customers", {"display_name": "Short"})
    long = await post(client, admin, "/customers", {"display_name": "Long"})
    await conversation(client, admin, short["id"], "One", ["email"])
    for n in range(6):
        _, [contact, _] = await conversation(client, admin, long["id"], f"N{n}", ["email", "chat"])
        await post(client, admin, "/tasks", {"interaction_id": contact})

    async def queries(customer_id: int) -> int:
        statements: list[str] = []

        def counted(*args: Any) -> None:
            statements.append(args[2])

        event.listen(ctx.engine.sync_engine, "before_cursor_execute", counted)
        try:
            await overview(client, admin, customer_id)
        finally:
            event.remove(ctx.engine.sync_engine, "before_cursor_execute", counted)
        return len(statements)

    assert await queries(long["id"]) == await queries(short["id"])
