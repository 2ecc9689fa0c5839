"""Teams, skills, queues, business hours and contact reasons through the API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from opencx.core.enums import Role
from opencx.core.events import EventType
from opencx.db.models import AuditEntry, Conversation, Customer
from opencx.features.context import AppContext, transaction
from opencx.testing import RecordingPublisher
from tests.conftest import Caller, MakeCaller

API = "/api/v1"


async def post(client: httpx.AsyncClient, caller: Caller, path: str, body: Any) -> dict[str, Any]:
    response = await client.post(API + path, json=body, headers=caller.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def list_all(
    client: httpx.AsyncClient, caller: Caller, path: str, **params: Any
) -> list[Any]:
    """Every item of a list, following cursors two at a time."""
    items: list[Any] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(API + path, params=query, headers=caller.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


# --- teams and skills ---------------------------------------------------------------


async def test_teams_are_created_listed_by_prefix_updated_and_deleted(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext, publisher: RecordingPublisher
) -> None:
    for name in ["Chat", "Support N1", "Support N2", "support N3", "Renewals"]:
        await post(client, admin, "/teams", {"name": name, "description": f"{name} team"})
    assert [t["name"] for t in await list_all(client, admin, "/teams")] == [
        "Chat",
        "Support N1",
        "Support N2",
        "support N3",
        "Renewals",
    ]
    found = await list_all(client, admin, "/teams", q="SUPPORT")
    assert [t["name"] for t in found] == ["Support N1", "Support N2", "support N3"]
    assert await list_all(client, admin, "/teams", q="%") == []

    team_id = found[0]["id"]
    response = await client.patch(
        f"{API}/teams/{team_id}", json={"description": "first line"}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Support N1"
    assert response.json()["description"] == "first line"

    response = await client.delete(f"{API}/teams/{team_id}", headers=admin.headers)
    assert response.status_code == 204
    assert_problem(
        await client.get(f"{API}/teams/{team_id}", headers=admin.headers), 404, "opencx.not_found"
    )

    changes = [
        (e.entity_id, e.payload)
        for e in publisher.events
        if e.type is EventType.DIRECTORY_CHANGED and e.entity_id == team_id
    ]
    assert changes == [
        (team_id, {"kind": "team", "action": "create"}),
        (team_id, {"kind": "team", "action": "update"}),
        (team_id, {"kind": "team", "action": "delete"}),
    ]
    async with transaction(ctx) as session:
        audit = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_id == team_id).order_by(AuditEntry.id)
        )
        assert list(audit) == ["team.create", "team.update", "team.delete"]


async def test_team_in_use_cannot_be_deleted(client: httpx.AsyncClient, admin: Caller) -> None:
    team = await post(client, admin, "/teams", {"name": "Chat"})
    await post(
        client, admin, "/users", {"email": "a@example.com", "role": "agent", "team_id": team["id"]}
    )
    await post(
        client, admin, "/queues", {"name": "Chat FR", "channel": "chat", "team_id": team["id"]}
    )
    body = assert_problem(
        await client.delete(f"{API}/teams/{team['id']}", headers=admin.headers),
        409,
        "opencx.conflict",
    )
    assert body["used_by"] == {"users": 1, "queues": 1}


async def test_duplicate_names_unknown_rows_and_bad_input_are_problems(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    await post(client, admin, "/skills", {"name": "Billing"})
    other = await post(client, admin, "/skills", {"name": "Delivery"})
    dup = await client.post(f"{API}/skills", json={"name": "Billing"}, headers=admin.headers)
    assert_problem(dup, 409, "opencx.conflict")
    rename = await client.patch(
        f"{API}/skills/{other['id']}", json={"name": "Billing"}, headers=admin.headers
    )
    assert_problem(rename, 409, "opencx.conflict")
    nulled = await client.patch(
        f"{API}/skills/{other['id']}", json={"name": None}, headers=admin.headers
    )
    assert assert_problem(nulled, 422, "opencx.invalid_input")["errors"][0]["field"] == "name"
    too_long = await client.post(f"{API}/skills", json={"name": "x" * 81}, headers=admin.headers)
    assert_problem(too_long, 422, "opencx.invalid_input")
    unknown_field = await client.post(
        f"{API}/teams", json={"name": "X", "colour": "red"}, headers=admin.headers
    )
    assert_problem(unknown_field, 422, "opencx.invalid_input")
    missing = await client.get(f"{API}/skills/999999", headers=admin.headers)
    assert_problem(missing, 404, "opencx.not_found")
    deleted = await client.delete(f"{API}/skills/999999", headers=admin.headers)
    assert_problem(deleted, 404, "opencx.not_found")


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/skills", "q"),
        ("/teams", "q"),
        ("/queues", "q"),
        ("/business-hours", "q"),
        ("/channel-accounts", "q"),
        ("/contact-reasons", "q"),
        ("/users", "q"),
        ("/tasks", "status"),
        ("/customers", "cursor"),
    ],
)
async def test_a_nul_character_in_a_query_is_refused_not_sent_to_the_database(
    client: httpx.AsyncClient, admin: Caller, path: str, param: str
) -> None:
    response = await client.get(f"{API}{path}", params={param: "ab\x00"}, headers=admin.headers)
    assert_problem(response, 422, "opencx.invalid_input")


async def test_creates_replay_with_an_idempotency_key(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    headers = {**admin.headers, "Idempotency-Key": "team-chat"}
    first = await client.post(f"{API}/teams", json={"name": "Chat"}, headers=headers)
    again = await client.post(f"{API}/teams", json={"name": "Chat"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


async def test_everyone_reads_the_directory_but_only_admins_change_it(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    team = await post(client, admin, "/teams", {"name": "Chat"})
    for role in (Role.AGENT, Role.SUPERVISOR):
        caller = await make_caller(role)
        listed = await client.get(f"{API}/teams", headers=caller.headers)
        assert [t["name"] for t in listed.json()["items"]] == ["Chat"]
        for response in (
            await client.post(f"{API}/skills", json={"name": "X"}, headers=caller.headers),
            await client.patch(
                f"{API}/teams/{team['id']}", json={"name": "Y"}, headers=caller.headers
            ),
            await client.delete(f"{API}/teams/{team['id']}", headers=caller.headers),
            await client.post(
                f"{API}/queues", json={"name": "Q", "channel": "chat"}, headers=caller.headers
            ),
            await client.post(
                f"{API}/business-hours",
                json={"name": "H", "timezone": "UTC"},
                headers=caller.headers,
            ),
        ):
            assert_problem(response, 403, "opencx.permission_denied")


# --- queues ---------------------------------------------------------------------------


async def test_queues_are_filtered_by_channel_team_and_site(
    client: httpx.AsyncClient, admin: Caller, publisher: RecordingPublisher
) -> None:
    site = await post(client, admin, "/sites", {"name": "Lyon"})
    team = await post(client, admin, "/teams", {"name": "Chat"})
    hours = await post(
        client, admin, "/business-hours", {"name": "Office", "timezone": "Europe/Paris"}
    )
    voice = await post(
        client,
        admin,
        "/queues",
        {
            "name": "Voice FR",
            "channel": "voice",
            "site_id": site["id"],
            "business_hours_id": hours["id"],
            "target_expression": "languages HAS 'fr'",
            "priority": 5,
            "service_level_seconds": 20,
            "wrap_up_seconds": 60,
        },
    )
    chat = await post(
        client, admin, "/queues", {"name": "Chat FR", "channel": "chat", "team_id": team["id"]}
    )
    assert voice["target_expression"] == "languages HAS 'fr'"
    assert (voice["priority"], voice["wrap_up_seconds"], chat["service_level_seconds"]) == (
        5,
        60,
        20,
    )

    def names(items: list[Any]) -> list[str]:
        return [q["name"] for q in items]

    assert names(await list_all(client, admin, "/queues")) == ["Voice FR", "Chat FR"]
    assert names(await list_all(client, admin, "/queues", channel="chat")) == ["Chat FR"]
    assert names(await list_all(client, admin, "/queues", team_id=team["id"])) == ["Chat FR"]
    assert names(await list_all(client, admin, "/queues", site_id=site["id"])) == ["Voice FR"]

    response = await client.patch(
        f"{API}/queues/{voice['id']}",
        json={"business_hours_id": None, "priority": 9},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert (response.json()["business_hours_id"], response.json()["priority"]) == (None, 9)
    queue_events = [e for e in publisher.events if e.type is EventType.QUEUE_CHANGED]
    assert [(e.entity_id, e.site_id, e.payload["action"]) for e in queue_events] == [
        (voice["id"], site["id"], "create"),
        (chat["id"], None, "create"),
        (voice["id"], site["id"], "update"),
    ]


async def test_queue_input_is_checked(client: httpx.AsyncClient, admin: Caller) -> None:
    for body, field in [
        ({"name": "Q", "channel": "fax"}, "body.channel"),
        (
            {"name": "Q", "channel": "chat", "target_expression": "x" * 2001},
            "body.target_expression",
        ),
        ({"name": "Q", "channel": "chat", "priority": -1}, "body.priority"),
        ({"name": "Q", "channel": "chat", "site_id": 2**63}, "body.site_id"),
        ({"name": "Q", "channel": "chat", "team_id": 424242}, "team_id"),
        ({"name": "Q", "channel": "chat", "business_hours_id": 424242}, "business_hours_id"),
    ]:
        response = await client.post(f"{API}/queues", json=body, headers=admin.headers)
        problem = assert_problem(response, 422, "opencx.invalid_input")
        assert problem["errors"][0]["field"] == field


async def test_partner_users_see_only_queues_of_their_sites(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    own = await post(client, admin, "/sites", {"name": "Partner A", "kind": "partner"})
    other = await post(client, admin, "/sites", {"name": "Partner B", "kind": "partner"})
    mine = await post(
        client, admin, "/queues", {"name": "A", "channel": "voice", "site_id": own["id"]}
    )
    theirs = await post(
        client, admin, "/queues", {"name": "B", "channel": "voice", "site_id": other["id"]}
    )
    shared = await post(client, admin, "/queues", {"name": "Global", "channel": "email"})

    partner = await make_caller(Role.SUPERVISOR, site_id=own["id"])
    assert [q["id"] for q in await list_all(client, partner, "/queues")] == [mine["id"]]
    for hidden in (theirs, shared):
        response = await client.get(f"{API}/queues/{hidden['id']}", headers=partner.headers)
        assert_problem(response, 404, "opencx.not_found")
    internal = await make_caller(Role.AGENT)
    assert len(await list_all(client, internal, "/queues")) == 3


async def test_queue_used_by_a_conversation_cannot_be_deleted(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext
) -> None:
    used = await post(client, admin, "/queues", {"name": "Used", "channel": "email"})
    unused = await post(client, admin, "/queues", {"name": "Unused", "channel": "email"})
    async with transaction(ctx) as session:
        customer = Customer()
        session.add(customer)
        await session.flush()
        session.add(Conversation(customer_id=customer.id, queue_id=used["id"]))
    response = await client.delete(f"{API}/queues/{used['id']}", headers=admin.headers)
    assert assert_problem(response, 409, "opencx.conflict")["used_by"] == {"conversations": 1}
    response = await client.delete(f"{API}/queues/{unused['id']}", headers=admin.headers)
    assert response.status_code == 204


# --- business hours ---------------------------------------------------------------------

WEEKDAYS = [{"day": d, "open": "09:00", "close": "18:00"} for d in range(5)]
EVERY_DAY = [{"day": d, "open": "09:00", "close": "18:00"} for d in range(7)]


async def test_business_hours_schedule_is_validated(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    for weekly, fragment in [
        ([{"day": 7, "open": "09:00", "close": "18:00"}], "less than or equal to 6"),
        ([{"day": 0, "open": "18:00", "close": "09:00"}], "must come before"),
        ([{"day": 0, "open": "9:00", "close": "18:00"}], "pattern"),
        ([{"day": 0, "open": "09:00", "close": "24:30"}], "pattern"),
        (
            [
                {"day": 1, "open": "09:00", "close": "13:00"},
                {"day": 1, "open": "12:00", "close": "18:00"},
            ],
            "day 1: intervals overlap at 12:00",
        ),
    ]:
        response = await client.post(
            f"{API}/business-hours",
            json={"name": "Office", "timezone": "Europe/Paris", "weekly": weekly},
            headers=admin.headers,
        )
        problem = assert_problem(response, 422, "opencx.invalid_input")
        assert fragment in problem["errors"][0]["message"], problem
    response = await client.post(
        f"{API}/business-hours",
        json={"name": "Office", "timezone": "Europe/Lutece"},
        headers=admin.headers,
    )
    assert (
        assert_problem(response, 422, "opencx.invalid_input")["errors"][0]["field"]
        == "body.timezone"
    )


async def test_business_hours_are_stored_in_order_and_updated(
    client: httpx.AsyncClient, admin: Caller, publisher: RecordingPublisher
) -> None:
    weekly = [
        {"day": 1, "open": "14:00", "close": "18:00"},
        {"day": 0, "open": "09:00", "close": "24:00"},
        {"day": 1, "open": "09:00", "close": "12:00"},
    ]
    created = await post(
        client,
        admin,
        "/business-hours",
        {"name": "Office", "timezone": "Europe/Paris", "weekly": weekly},
    )
    assert created["weekly"] == sorted(weekly, key=lambda i: (i["day"], i["open"]))
    response = await client.patch(
        f"{API}/business-hours/{created['id']}",
        json={"timezone": "America/Montreal", "weekly": WEEKDAYS},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert response.json()["timezone"] == "America/Montreal"
    assert response.json()["weekly"] == WEEKDAYS
    fetched = await client.get(f"{API}/business-hours/{created['id']}", headers=admin.headers)
    assert fetched.json() == response.json()
    kinds = [e.payload for e in publisher.events if e.type is EventType.DIRECTORY_CHANGED]
    assert kinds == [
        {"kind": "business_hours", "action": "create"},
        {"kind": "business_hours", "action": "update"},
    ]


async def test_holidays_are_a_sub_resource(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    hours = await post(
        client,
        admin,
        "/business-hours",
        {"name": "Office", "timezone": "Europe/Paris", "weekly": WEEKDAYS},
    )
    other = await post(client, admin, "/business-hours", {"name": "Other", "timezone": "UTC"})
    base = f"/business-hours/{hours['id']}/holidays"
    christmas = await post(client, admin, base, {"day": "2026-12-25", "name": "Christmas"})
    eve = await post(
        client,
        admin,
        base,
        {
            "day": "2026-12-24",
            "name": "Christmas Eve",
            "special_hours": [{"open": "09:00", "close": "12:00"}],
        },
    )
    await post(client, admin, base, {"day": "2027-01-01", "name": "New Year"})
    assert christmas["special_hours"] == []
    assert eve["special_hours"] == [{"open": "09:00", "close": "12:00"}]

    agent = await make_caller(Role.AGENT)
    listed = await list_all(client, agent, base)
    assert [h["name"] for h in listed] == ["Christmas", "Christmas Eve", "New Year"]
    assert [h["name"] for h in await list_all(client, agent, base, since="2027-01-01")] == [
        "New Year"
    ]

    duplicate = await client.post(
        API + base, json={"day": "2026-12-25", "name": "Again"}, headers=admin.headers
    )
    assert_problem(duplicate, 409, "opencx.conflict")
    overlapping = await client.post(
        API + base,
        json={
            "day": "2026-12-31",
            "name": "NYE",
            "special_hours": [
                {"open": "09:00", "close": "12:00"},
                {"open": "11:00", "close": "13:00"},
            ],
        },
        headers=admin.headers,
    )
    assert_problem(overlapping, 422, "opencx.invalid_input")
    wrong_parent = await client.delete(
        f"{API}/business-hours/{other['id']}/holidays/{christmas['id']}", headers=admin.headers
    )
    assert_problem(wrong_parent, 404, "opencx.not_found")
    on_missing = await client.get(f"{API}/business-hours/999999/holidays", headers=admin.headers)
    assert_problem(on_missing, 404, "opencx.not_found")
    removed = await client.delete(f"{API}{base}/{christmas['id']}", headers=admin.headers)
    assert removed.status_code == 204
    assert [h["name"] for h in await list_all(client, agent, base)] == ["Christmas Eve", "New Year"]


async def status(
    client: httpx.AsyncClient, caller: Caller, hours_id: int, at: str
) -> dict[str, Any]:
    response = await client.get(
        f"{API}/business-hours/{hours_id}/status", params={"at": at}, headers=caller.headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_status_follows_local_time_across_a_dst_change(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    hours = await post(
        client,
        admin,
        "/business-hours",
        {"name": "Paris", "timezone": "Europe/Paris", "weekly": EVERY_DAY},
    )
    hid = hours["id"]
    # Paris moves to summer time on Sunday 29 March 2026: 09:00 local is 08:00 UTC on
    # Saturday but 07:00 UTC on Sunday.
    saturday_evening = await status(client, admin, hid, "2026-03-28T20:00:00Z")
    assert saturday_evening == {
        "at": "2026-03-28T20:00:00Z",
        "open": False,
        "next_opening": "2026-03-29T07:00:00Z",
    }
    assert (await status(client, admin, hid, "2026-03-28T07:30:00Z"))["open"] is False
    assert (await status(client, admin, hid, "2026-03-29T07:30:00Z"))["open"] is True
    sunday = await status(client, admin, hid, "2026-03-29T09:30:00+02:00")
    assert sunday == {
        "at": "2026-03-29T07:30:00Z",
        "open": True,
        "next_opening": "2026-03-29T07:30:00Z",
    }


async def test_status_honours_holidays_and_defaults_to_now(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    hours = await post(
        client,
        admin,
        "/business-hours",
        {"name": "Office", "timezone": "Europe/Paris", "weekly": WEEKDAYS},
    )
    hid = hours["id"]
    # The test clock reads Monday 5 January 2026, 09:00 UTC (10:00 in Paris).
    response = await client.get(f"{API}/business-hours/{hid}/status", headers=admin.headers)
    assert response.json() == {
        "at": "2026-01-05T09:00:00Z",
        "open": True,
        "next_opening": "2026-01-05T09:00:00Z",
    }
    await post(
        client, admin, f"/business-hours/{hid}/holidays", {"day": "2026-01-05", "name": "Closed"}
    )
    await post(
        client,
        admin,
        f"/business-hours/{hid}/holidays",
        {
            "day": "2026-01-06",
            "name": "Late",
            "special_hours": [{"open": "14:00", "close": "16:00"}],
        },
    )
    assert (await status(client, admin, hid, "2026-01-05T09:00:00Z")) == {
        "at": "2026-01-05T09:00:00Z",
        "open": False,
        "next_opening": "2026-01-06T13:00:00Z",
    }
    for at, field in [("2026-01-05T09:00:00", "at"), ("not-a-date", "query.at")]:
        response = await client.get(
            f"{API}/business-hours/{hid}/status", params={"at": at}, headers=admin.headers
        )
        assert assert_problem(response, 422, "opencx.invalid_input")["errors"][0]["field"] == field


async def test_business_hours_followed_by_a_queue_cannot_be_deleted(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    hours = await post(
        client, admin, "/business-hours", {"name": "Office", "timezone": "UTC", "weekly": WEEKDAYS}
    )
    await post(
        client,
        admin,
        f"/business-hours/{hours['id']}/holidays",
        {"day": "2026-05-01", "name": "May Day"},
    )
    queue = await post(
        client,
        admin,
        "/queues",
        {"name": "Q", "channel": "voice", "business_hours_id": hours["id"]},
    )
    response = await client.delete(f"{API}/business-hours/{hours['id']}", headers=admin.headers)
    assert assert_problem(response, 409, "opencx.conflict")["used_by"] == {"queues": 1}
    await client.delete(f"{API}/queues/{queue['id']}", headers=admin.headers)
    response = await client.delete(f"{API}/business-hours/{hours['id']}", headers=admin.headers)
    assert response.status_code == 204
    gone = await client.get(f"{API}/business-hours/{hours['id']}/holidays", headers=admin.headers)
    assert_problem(gone, 404, "opencx.not_found")


# --- contact reasons ------------------------------------------------------------------


async def reason(
    client: httpx.AsyncClient,
    admin: Caller,
    axis: str,
    code: str,
    parent: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = {
        "axis": axis,
        "code": code,
        "labels": {"en": code.title(), "fr": f"{code} (fr)"},
        "parent_id": parent["id"] if parent else None,
    }
    return await post(client, admin, "/contact-reasons", body)


async def test_contact_reasons_form_one_tree_per_axis(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    delivery = await reason(client, admin, "declaration", "delivery")
    late = await reason(client, admin, "declaration", "delivery.late", delivery)
    await reason(client, admin, "declaration", "delivery.damaged", delivery)
    lost = await reason(client, admin, "declaration", "delivery.late.lost", late)
    billing = await reason(client, admin, "declaration", "billing")
    await reason(client, admin, "action", "delivery")  # the same code on another axis
    assert lost["labels"] == {"en": "Delivery.Late.Lost", "fr": "delivery.late.lost (fr)"}

    agent = await make_caller(Role.AGENT)
    declared = await list_all(client, agent, "/contact-reasons", axis="declaration")
    assert len(declared) == 5
    children = await list_all(client, agent, "/contact-reasons", parent_id=delivery["id"])
    assert [r["code"] for r in children] == ["delivery.late", "delivery.damaged"]

    await client.patch(
        f"{API}/contact-reasons/{late['id']}", json={"is_active": False}, headers=admin.headers
    )
    response = await client.get(
        f"{API}/contact-reasons/tree", params={"axis": "declaration"}, headers=agent.headers
    )
    assert response.status_code == 200

    def shape(nodes: list[dict[str, Any]]) -> list[Any]:
        return [(n["code"], n["is_active"], shape(n["children"])) for n in nodes]

    assert shape(response.json()) == [
        ("billing", True, []),
        (
            "delivery",
            True,
            [
                ("delivery.damaged", True, []),
                ("delivery.late", False, [("delivery.late.lost", True, [])]),
            ],
        ),
    ]
    active = await client.get(
        f"{API}/contact-reasons/tree",
        params={"axis": "declaration", "active_only": "true"},
        headers=agent.headers,
    )
    assert shape(active.json()) == [
        ("billing", True, []),
        ("delivery", True, [("delivery.damaged", True, [])]),
    ]
    assert billing["parent_id"] is None


async def test_contact_reason_trees_stay_trees(client: httpx.AsyncClient, admin: Caller) -> None:
    root = await reason(client, admin, "qualification", "payment")
    child = await reason(client, admin, "qualification", "payment.card", root)
    grandchild = await reason(client, admin, "qualification", "payment.card.refused", child)
    action = await reason(client, admin, "action", "refund")

    async def move(node: dict[str, Any], parent_id: int | None) -> httpx.Response:
        return await client.patch(
            f"{API}/contact-reasons/{node['id']}",
            json={"parent_id": parent_id},
            headers=admin.headers,
        )

    for node, parent_id, fragment in [
        (root, grandchild["id"], "under itself"),
        (root, root["id"], "under itself"),
        (child, action["id"], "action axis"),
        (child, 999999, "does not exist"),
    ]:
        problem = assert_problem(await move(node, parent_id), 422, "opencx.invalid_input")
        assert problem["errors"][0]["field"] == "parent_id"
        assert fragment in problem["detail"]
    response = await move(grandchild, None)
    assert response.status_code == 200
    assert response.json()["parent_id"] is None

    wrong_axis = await client.post(
        f"{API}/contact-reasons",
        json={"axis": "action", "code": "x", "labels": {"en": "X"}, "parent_id": root["id"]},
        headers=admin.headers,
    )
    assert_problem(wrong_axis, 422, "opencx.invalid_input")


async def test_contact_reason_codes_and_labels_are_checked(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    await reason(client, admin, "action", "refund")
    duplicate = await client.post(
        f"{API}/contact-reasons",
        json={"axis": "action", "code": "refund", "labels": {"en": "Refund again"}},
        headers=admin.headers,
    )
    assert_problem(duplicate, 409, "opencx.conflict")
    for body in [
        {"axis": "action", "code": "reship", "labels": {"fr": "Réexpédition"}},
        {"axis": "action", "code": "reship", "labels": {"en": "Reship", "French": "x"}},
        {"axis": "action", "code": "reship", "labels": {"en": ""}},
        {"axis": "action", "code": "has space", "labels": {"en": "X"}},
        {"axis": "mood", "code": "reship", "labels": {"en": "X"}},
    ]:
        response = await client.post(f"{API}/contact-reasons", json=body, headers=admin.headers)
        assert_problem(response, 422, "opencx.invalid_input")


async def test_a_reason_with_children_cannot_be_deleted(
    client: httpx.AsyncClient, admin: Caller, publisher: RecordingPublisher
) -> None:
    parent = await reason(client, admin, "declaration", "account")
    child = await reason(client, admin, "declaration", "account.password", parent)
    response = await client.delete(f"{API}/contact-reasons/{parent['id']}", headers=admin.headers)
    assert assert_problem(response, 409, "opencx.conflict")["used_by"] == {"children": 1}
    for node in (child, parent):
        response = await client.delete(f"{API}/contact-reasons/{node['id']}", headers=admin.headers)
        assert response.status_code == 204
    actions = [
        e.payload["action"] for e in publisher.events if e.type is EventType.DIRECTORY_CHANGED
    ]
    assert actions == ["create", "create", "delete", "delete"]
