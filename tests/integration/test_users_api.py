"""Users, agent profiles, skills, site grants and presence through the API."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from opencx.core.enums import Role
from opencx.core.events import EventType
from opencx.db.models import AuditEntry
from opencx.db.ratelimits import DatabaseLimitStorage
from opencx.features.auth import LoginRateLimiter, authenticate_password
from opencx.features.context import AppContext, transaction
from opencx.features.throttle import build_throttle
from opencx.testing import FakeClock, RecordingPublisher
from tests.conftest import Caller, MakeCaller

API = "/api/v1"


async def post(client: httpx.AsyncClient, caller: Caller, path: str, body: Any) -> dict[str, Any]:
    response = await client.post(API + path, json=body, headers=caller.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def site(client: httpx.AsyncClient, admin: Caller, name: str, kind: str = "partner") -> int:
    return int((await post(client, admin, "/sites", {"name": name, "kind": kind}))["id"])


def events_of(publisher: RecordingPublisher, type_: EventType) -> list[Any]:
    return [e for e in publisher.events if e.type is type_]


# --- creating and reading --------------------------------------------------------------


async def test_admin_creates_an_agent_with_a_profile(
    client: httpx.AsyncClient, admin: Caller, publisher: RecordingPublisher
) -> None:
    lyon = await site(client, admin, "Lyon", kind="internal")
    team = await post(client, admin, "/teams", {"name": "Chat"})
    created = await post(
        client,
        admin,
        "/users",
        {
            "email": "Marie@Example.com",
            "display_name": "Marie Curie",
            "role": "agent",
            "site_id": lyon,
            "team_id": team["id"],
            "locale": "fr",
            "timezone": "Europe/Paris",
            "languages": ["fr", "en", "fr"],
            "capacity": {"voice": 1, "chat": 3, "email": 5},
            "voice_blocks_other_channels": False,
        },
    )
    assert created["email"] == "marie@example.com"
    assert created["languages"] == ["fr", "en"]
    assert created["capacity"] == {"voice": 1, "chat": 3, "email": 5}
    assert (created["presence"], created["skills"], created["granted_site_ids"]) == (
        "offline",
        [],
        [],
    )
    assert not any("password" in key for key in created)
    fetched = await client.get(f"{API}/users/{created['id']}", headers=admin.headers)
    assert fetched.json() == created
    [event] = [
        e for e in events_of(publisher, EventType.USER_CREATED) if e.entity_id == created["id"]
    ]
    assert (event.payload, event.site_id, event.actor_user_id) == (
        {"role": "agent"},
        lyon,
        admin.user.id,
    )


async def test_user_input_is_checked(client: httpx.AsyncClient, admin: Caller) -> None:
    await post(client, admin, "/users", {"email": "taken@example.com", "role": "agent"})
    duplicate = await client.post(
        f"{API}/users", json={"email": "TAKEN@example.com", "role": "agent"}, headers=admin.headers
    )
    assert_problem(duplicate, 409, "opencx.conflict")
    for extra, field in [
        ({"languages": ["fra"]}, "body.languages.0"),
        ({"languages": ["FR"]}, "body.languages.0"),
        ({"capacity": {"fax": 1}}, "body.capacity.fax.[key]"),
        ({"capacity": {"chat": 101}}, "body.capacity.chat"),
        ({"timezone": "Mars/Olympus"}, "body.timezone"),
        ({"locale": "french"}, "body.locale"),
        ({"password": "short"}, "body.password"),
        ({"role": "owner"}, "body.role"),
        ({"site_id": 424242}, "site_id"),
        ({"team_id": 424242}, "team_id"),
        ({"password_hash": "x"}, "body.password_hash"),
    ]:
        response = await client.post(
            f"{API}/users",
            json={"email": "new@example.com", "role": "agent", **extra},
            headers=admin.headers,
        )
        problem = assert_problem(response, 422, "opencx.invalid_input")
        assert problem["errors"][0]["field"] == field, problem


async def test_users_are_listed_page_by_page_with_filters(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    for n in range(4):
        await post(client, admin, "/users", {"email": f"agent{n}@example.com", "role": "agent"})
    await post(
        client,
        admin,
        "/users",
        {"email": "boss@example.com", "role": "supervisor", "display_name": "Zoé"},
    )
    emails: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {
            "limit": 2,
            "role": "agent",
            **({"cursor": cursor} if cursor else {}),
        }
        page = (await client.get(f"{API}/users", params=params, headers=admin.headers)).json()
        emails += [u["email"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert emails == [f"agent{n}@example.com" for n in range(4)]
    found = await client.get(f"{API}/users", params={"q": "zo"}, headers=admin.headers)
    assert [u["email"] for u in found.json()["items"]] == ["boss@example.com"]
    offline = await client.get(
        f"{API}/users", params={"presence": "available"}, headers=admin.headers
    )
    assert offline.json()["items"] == []


async def test_agents_read_only_themselves(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    agent = await make_caller(Role.AGENT)
    me = await client.get(f"{API}/users/me", headers=agent.headers)
    assert me.status_code == 200
    assert me.json()["id"] == agent.user.id
    own = await client.get(f"{API}/users/{agent.user.id}", headers=agent.headers)
    assert own.json() == me.json()
    assert_problem(
        await client.get(f"{API}/users/{admin.user.id}", headers=agent.headers),
        403,
        "opencx.permission_denied",
    )
    assert_problem(
        await client.get(f"{API}/users", headers=agent.headers), 403, "opencx.permission_denied"
    )
    assert_problem(
        await client.patch(
            f"{API}/users/{agent.user.id}", json={"display_name": "Boss"}, headers=agent.headers
        ),
        403,
        "opencx.permission_denied",
    )


async def test_supervisors_read_but_only_admins_write(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    supervisor = await make_caller(Role.SUPERVISOR)
    agent = await make_caller(Role.AGENT)
    listed = await client.get(f"{API}/users", headers=supervisor.headers)
    assert {u["id"] for u in listed.json()["items"]} == {
        admin.user.id,
        supervisor.user.id,
        agent.user.id,
    }
    for response in (
        await client.post(
            f"{API}/users",
            json={"email": "x@example.com", "role": "agent"},
            headers=supervisor.headers,
        ),
        await client.patch(
            f"{API}/users/{agent.user.id}",
            json={"capacity": {"chat": 2}},
            headers=supervisor.headers,
        ),
        await client.put(
            f"{API}/users/{agent.user.id}/skills", json=[], headers=supervisor.headers
        ),
        await client.put(
            f"{API}/users/{agent.user.id}/site-grants", json=[], headers=supervisor.headers
        ),
    ):
        assert_problem(response, 403, "opencx.permission_denied")


async def test_partner_supervisors_see_users_of_their_sites_and_grants(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    own, other = await site(client, admin, "Partner A"), await site(client, admin, "Partner B")
    supervisor = await make_caller(Role.SUPERVISOR, site_id=own)
    mine = await make_caller(Role.AGENT, site_id=own)
    theirs = await make_caller(Role.AGENT, site_id=other)
    listed = await client.get(f"{API}/users", headers=supervisor.headers)
    assert [u["id"] for u in listed.json()["items"]] == [supervisor.user.id, mine.user.id]
    for hidden in (theirs.user.id, admin.user.id):
        response = await client.get(f"{API}/users/{hidden}", headers=supervisor.headers)
        assert_problem(response, 404, "opencx.not_found")

    granted = await client.put(
        f"{API}/users/{supervisor.user.id}/site-grants", json=[other, other], headers=admin.headers
    )
    assert granted.status_code == 200
    assert granted.json()["granted_site_ids"] == [other]
    response = await client.get(f"{API}/users/{theirs.user.id}", headers=supervisor.headers)
    assert response.status_code == 200
    unknown = await client.put(
        f"{API}/users/{supervisor.user.id}/site-grants", json=[424242], headers=admin.headers
    )
    assert_problem(unknown, 422, "opencx.invalid_input")


# --- changing ----------------------------------------------------------------------------


async def test_admin_updates_a_profile_and_it_is_recorded(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext, publisher: RecordingPublisher
) -> None:
    paris = await site(client, admin, "Paris", kind="internal")
    user = await post(
        client, admin, "/users", {"email": "a@example.com", "role": "agent", "site_id": paris}
    )
    response = await client.patch(
        f"{API}/users/{user['id']}",
        json={
            "role": "supervisor",
            "site_id": None,
            "languages": ["es"],
            "capacity": {"chat": 4},
            "voice_blocks_other_channels": False,
        },
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["role"], body["site_id"], body["languages"], body["capacity"]) == (
        "supervisor",
        None,
        ["es"],
        {"chat": 4},
    )
    [event] = events_of(publisher, EventType.USER_UPDATED)
    assert event.payload == {
        "fields": ["capacity", "languages", "role", "site_id", "voice_blocks_other_channels"]
    }
    async with transaction(ctx) as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "user.update"))
        assert entry is not None
        assert entry.changes["role"] == "supervisor"

    for patch, field in [
        ({"display_name": None}, "display_name"),
        ({"is_active": None}, "is_active"),
        ({"team_id": 424242}, "team_id"),
        ({"capacity": {"voice": -1}}, "body.capacity.voice"),
    ]:
        response = await client.patch(
            f"{API}/users/{user['id']}", json=patch, headers=admin.headers
        )
        assert assert_problem(response, 422, "opencx.invalid_input")["errors"][0]["field"] == field
    missing = await client.patch(
        f"{API}/users/424242", json={"locale": "fr"}, headers=admin.headers
    )
    assert_problem(missing, 404, "opencx.not_found")


async def test_admin_resets_a_password_without_it_showing_anywhere(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext
) -> None:
    user = await post(client, admin, "/users", {"email": "p@example.com", "role": "agent"})
    secret = "a brand new passphrase"
    response = await client.patch(
        f"{API}/users/{user['id']}", json={"password": secret}, headers=admin.headers
    )
    assert response.status_code == 200
    assert secret not in response.text
    signed_in = await authenticate_password(
        ctx,
        email="p@example.com",
        password=secret,
        client="test",
        limiter=LoginRateLimiter(
            build_throttle(ctx.settings, database=DatabaseLimitStorage(ctx.engine)), ctx.settings
        ),
    )
    assert signed_in.principal.user_id == user["id"]
    async with transaction(ctx) as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "user.update"))
        assert entry is not None
        assert entry.changes == {"password": "(reset)"}


async def test_an_admin_cannot_demote_or_deactivate_themselves(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    for patch in ({"role": "agent"}, {"is_active": False}):
        response = await client.patch(
            f"{API}/users/{admin.user.id}", json=patch, headers=admin.headers
        )
        assert_problem(response, 409, "opencx.conflict")
    response = await client.patch(
        f"{API}/users/{admin.user.id}",
        json={"role": "admin", "locale": "fr"},
        headers=admin.headers,
    )
    assert response.status_code == 200


async def test_skills_are_replaced_as_a_whole_and_shown_with_the_user(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    agent = await make_caller(Role.AGENT)
    billing = await post(client, admin, "/skills", {"name": "Billing"})
    delivery = await post(client, admin, "/skills", {"name": "Delivery"})
    url = f"{API}/users/{agent.user.id}/skills"
    response = await client.put(
        url,
        json=[{"skill_id": delivery["id"], "level": 7}, {"skill_id": billing["id"], "level": 3}],
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    expected = [{"skill_id": billing["id"], "level": 3}, {"skill_id": delivery["id"], "level": 7}]
    assert response.json()["skills"] == expected
    me = await client.get(f"{API}/users/me", headers=agent.headers)
    assert me.json()["skills"] == expected
    listed = await client.get(f"{API}/users", params={"role": "agent"}, headers=admin.headers)
    assert listed.json()["items"][0]["skills"] == expected

    in_use = await client.delete(f"{API}/skills/{billing['id']}", headers=admin.headers)
    assert assert_problem(in_use, 409, "opencx.conflict")["used_by"] == {"agents": 1}

    for body in (
        [{"skill_id": billing["id"], "level": 11}],
        [{"skill_id": billing["id"], "level": 0}],
        [{"skill_id": billing["id"]}, {"skill_id": billing["id"], "level": 2}],
        [{"skill_id": 424242, "level": 2}],
        {"skill_id": billing["id"]},
    ):
        response = await client.put(url, json=body, headers=admin.headers)
        assert_problem(response, 422, "opencx.invalid_input")

    cleared = await client.put(url, json=[{"skill_id": delivery["id"]}], headers=admin.headers)
    assert cleared.json()["skills"] == [{"skill_id": delivery["id"], "level": 1}]
    assert (
        await client.delete(f"{API}/skills/{billing['id']}", headers=admin.headers)
    ).status_code == 204


# --- presence --------------------------------------------------------------------------


async def set_presence(
    client: httpx.AsyncClient, caller: Caller, user_id: int, state: str, reason: str | None = None
) -> httpx.Response:
    return await client.put(
        f"{API}/users/{user_id}/presence",
        json={"state": state, "reason": reason},
        headers=caller.headers,
    )


async def test_an_agent_moves_through_presence_states_and_each_move_is_an_event(
    client: httpx.AsyncClient,
    make_caller: MakeCaller,
    clock: FakeClock,
    publisher: RecordingPublisher,
) -> None:
    lyon_admin = await make_caller(Role.ADMIN)
    lyon = await site(client, lyon_admin, "Lyon", kind="internal")
    agent = await make_caller(Role.AGENT, site_id=lyon)
    me = agent.user.id

    response = await set_presence(client, agent, me, "available")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "user_id": me,
        "state": "available",
        "reason": None,
        "since": "2026-01-05T09:00:00Z",
    }
    clock.advance(600)
    assert (await set_presence(client, agent, me, "not_ready", "break")).status_code == 200
    clock.advance(300)
    assert (await set_presence(client, agent, me, "not_ready", "lunch")).status_code == 200
    clock.advance(1800)
    assert (await set_presence(client, agent, me, "offline")).status_code == 200

    moves = events_of(publisher, EventType.AGENT_PRESENCE_CHANGED)
    assert [(e.entity_kind, e.entity_id, e.site_id, e.actor_user_id) for e in moves] == [
        ("user", me, lyon, me)
    ] * 4
    assert [e.payload for e in moves] == [
        {
            "presence": "available",
            "reason": None,
            "since": "2026-01-05T09:00:00+00:00",
            "previous": "offline",
        },
        {
            "presence": "not_ready",
            "reason": "break",
            "since": "2026-01-05T09:10:00+00:00",
            "previous": "available",
        },
        {
            "presence": "not_ready",
            "reason": "lunch",
            "since": "2026-01-05T09:15:00+00:00",
            "previous": "not_ready",
        },
        {
            "presence": "offline",
            "reason": None,
            "since": "2026-01-05T09:45:00+00:00",
            "previous": "not_ready",
        },
    ]
    fetched = (await client.get(f"{API}/users/me", headers=agent.headers)).json()
    assert (fetched["presence"], fetched["presence_reason"], fetched["presence_since"]) == (
        "offline",
        None,
        "2026-01-05T09:45:00Z",
    )


async def test_illegal_presence_moves_and_bad_reasons_change_nothing(
    client: httpx.AsyncClient, make_caller: MakeCaller, publisher: RecordingPublisher
) -> None:
    agent = await make_caller(Role.AGENT)
    me = agent.user.id
    again = await set_presence(client, agent, me, "offline")
    problem = assert_problem(again, 409, "opencx.illegal_transition")
    assert (problem["current"], problem["target"]) == ("offline", "offline")
    for state, reason, fragment in [
        ("not_ready", None, "needs a reason"),
        ("not_ready", "nap", "unknown reason 'nap'"),
        ("available", "break", "takes no reason"),
    ]:
        response = await set_presence(client, agent, me, state, reason)
        body = assert_problem(response, 422, "opencx.invalid_input")
        assert fragment in body["detail"]
    bad_state = await set_presence(client, agent, me, "busy")
    assert_problem(bad_state, 422, "opencx.invalid_input")
    assert (await set_presence(client, agent, me, "not_ready", "break")).status_code == 200
    repeat = await set_presence(client, agent, me, "not_ready", "break")
    assert_problem(repeat, 409, "opencx.illegal_transition")
    assert len(events_of(publisher, EventType.AGENT_PRESENCE_CHANGED)) == 1
    fetched = (await client.get(f"{API}/users/me", headers=agent.headers)).json()
    assert (fetched["presence"], fetched["presence_reason"]) == ("not_ready", "break")


async def test_who_may_set_whose_presence(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller, publisher: RecordingPublisher
) -> None:
    own, other = await site(client, admin, "Partner A"), await site(client, admin, "Partner B")
    agent = await make_caller(Role.AGENT, site_id=own)
    colleague = await make_caller(Role.AGENT, site_id=own)
    stranger = await make_caller(Role.AGENT, site_id=other)
    supervisor = await make_caller(Role.SUPERVISOR, site_id=own)

    denied = await set_presence(client, agent, colleague.user.id, "available")
    assert_problem(denied, 403, "opencx.permission_denied")
    allowed = await set_presence(client, supervisor, colleague.user.id, "not_ready", "coaching")
    assert allowed.status_code == 200
    hidden = await set_presence(client, supervisor, stranger.user.id, "available")
    assert_problem(hidden, 404, "opencx.not_found")
    by_admin = await set_presence(client, admin, stranger.user.id, "available")
    assert by_admin.status_code == 200
    [first, second] = events_of(publisher, EventType.AGENT_PRESENCE_CHANGED)
    assert (first.entity_id, first.actor_user_id, first.site_id) == (
        colleague.user.id,
        supervisor.user.id,
        own,
    )
    assert (second.entity_id, second.actor_user_id, second.site_id) == (
        stranger.user.id,
        admin.user.id,
        other,
    )


async def test_deactivating_an_agent_takes_them_offline(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller, publisher: RecordingPublisher
) -> None:
    agent = await make_caller(Role.AGENT)
    assert (await set_presence(client, agent, agent.user.id, "available")).status_code == 200
    response = await client.patch(
        f"{API}/users/{agent.user.id}", json={"is_active": False}, headers=admin.headers
    )
    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["presence"]) == (False, "offline")
    last = events_of(publisher, EventType.AGENT_PRESENCE_CHANGED)[-1]
    assert (last.payload["presence"], last.payload["previous"], last.actor_user_id) == (
        "offline",
        "available",
        admin.user.id,
    )
    assert (await client.get(f"{API}/users/me", headers=agent.headers)).status_code == 401
    revived = await set_presence(client, admin, agent.user.id, "available")
    assert_problem(revived, 409, "opencx.conflict")
