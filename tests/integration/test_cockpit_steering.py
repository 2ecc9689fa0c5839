"""What the cockpit reads and steers beyond the tables: a queue's alert thresholds
(stored, set by supervisors and admins, shown in every supervisor's snapshot), the
queue's members as routing decides them, and an agent's state forced by a supervisor;
a partner site's supervisor steers only their own site."""

from __future__ import annotations

from typing import Any

import httpx

from opencx.core.enums import Role, SiteKind
from opencx.core.events import DomainEvent
from opencx.core.live_views import SupervisorView, apply, relevant, view_json
from opencx.core.permissions import Principal
from opencx.features.context import AppContext
from opencx.features.live import read_details, read_supervisor_view
from opencx.testing import RecordingPublisher
from tests.conftest import Caller, MakeCaller

API = "/api/v1"


async def post(client: httpx.AsyncClient, caller: Caller, path: str, body: Any) -> Any:
    response = await client.post(f"{API}{path}", json=body, headers=caller.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def floor(client: httpx.AsyncClient, admin: Caller) -> dict[str, int]:
    lyon = await post(client, admin, "/sites", {"name": "Lyon"})
    dakar = await post(client, admin, "/sites", {"name": "Dakar", "kind": "partner"})
    billing = await post(client, admin, "/skills", {"name": "billing"})
    queue = await post(
        client,
        admin,
        "/queues",
        {
            "name": "Billing",
            "channel": "chat",
            "site_id": lyon["id"],
            "target_expression": "skills.billing >= 1",
        },
    )
    other = await post(
        client, admin, "/queues", {"name": "Dakar chat", "channel": "chat", "site_id": dakar["id"]}
    )
    return {
        "lyon": lyon["id"],
        "dakar": dakar["id"],
        "billing": billing["id"],
        "queue": queue["id"],
        "dakar_queue": other["id"],
    }


def principal(caller: Caller, kind: SiteKind | None = None) -> Principal:
    return Principal(
        user_id=caller.user.id, role=caller.user.role, site_id=caller.user.site_id, site_kind=kind
    )


async def test_supervisors_set_a_queue_thresholds_and_agents_may_not(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    ids = await floor(client, admin)
    boss = await make_caller(Role.SUPERVISOR, site_id=ids["lyon"])
    agent = await make_caller(Role.AGENT, site_id=ids["lyon"])
    url = f"{API}/queues/{ids['queue']}/thresholds"

    unset = await client.get(url, headers=agent.headers)
    assert unset.status_code == 200
    assert unset.json()["max_waiting"] is None
    assert unset.json()["updated_at"] is None

    body = {"max_waiting": 3, "max_longest_wait_seconds": 90, "min_service_level": 0.8}
    refused = await client.put(url, json=body, headers=agent.headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "opencx.permission_denied"

    saved = await client.put(url, json=body, headers=boss.headers)
    assert saved.status_code == 200, saved.text
    assert {k: saved.json()[k] for k in body} == body
    again = (await client.get(url, headers=boss.headers)).json()
    assert {k: again[k] for k in body} == body

    cleared = await client.put(url, json={"max_waiting": 5}, headers=admin.headers)
    assert cleared.json()["max_waiting"] == 5
    assert cleared.json()["min_service_level"] is None  # left out: not set any more


async def test_bad_thresholds_are_422_problems_naming_the_field(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    ids = await floor(client, admin)
    url = f"{API}/queues/{ids['queue']}/thresholds"
    for body, field in (
        ({"min_service_level": 1.5}, "body.min_service_level"),
        ({"max_waiting": -1}, "body.max_waiting"),
        ({"max_longest_wait_seconds": 0}, "body.max_longest_wait_seconds"),
        ({"max_waiting": 1, "colour": "red"}, "body.colour"),
    ):
        response = await client.put(url, json=body, headers=admin.headers)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field
    missing = await client.put(f"{API}/queues/999/thresholds", json={}, headers=admin.headers)
    assert missing.status_code == 404


async def test_a_partner_supervisor_steers_only_their_own_site(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    ids = await floor(client, admin)
    partner = await make_caller(Role.SUPERVISOR, site_id=ids["dakar"])
    lyon_agent = await make_caller(Role.AGENT, site_id=ids["lyon"])
    dakar_agent = await make_caller(Role.AGENT, site_id=ids["dakar"])

    theirs = await client.put(
        f"{API}/queues/{ids['dakar_queue']}/thresholds",
        json={"max_waiting": 2},
        headers=partner.headers,
    )
    assert theirs.status_code == 200
    for response in (
        await client.put(
            f"{API}/queues/{ids['queue']}/thresholds",
            json={"max_waiting": 2},
            headers=partner.headers,
        ),
        await client.get(f"{API}/queues/{ids['queue']}/thresholds", headers=partner.headers),
        await client.put(
            f"{API}/users/{lyon_agent.user.id}/presence",
            json={"state": "available"},
            headers=partner.headers,
        ),
    ):
        assert response.status_code == 404  # another site's: not theirs to see
    forced = await client.put(
        f"{API}/users/{dakar_agent.user.id}/presence",
        json={"state": "not_ready", "reason": "coaching"},
        headers=partner.headers,
    )
    assert forced.status_code == 200, forced.text
    assert (forced.json()["state"], forced.json()["reason"]) == ("not_ready", "coaching")
    lyon_queue = await client.get(f"{API}/queues/{ids['queue']}", headers=admin.headers)
    assert lyon_queue.status_code == 200


async def test_the_snapshot_shows_thresholds_and_members_and_follows_their_changes(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    publisher: RecordingPublisher,
) -> None:
    ids = await floor(client, admin)
    boss = await make_caller(Role.SUPERVISOR, site_id=ids["lyon"])
    ana = await make_caller(Role.AGENT, site_id=ids["lyon"])
    viewer = principal(boss)
    view, _ = await read_supervisor_view(ctx, viewer)
    queue = next(q for q in view_json(view)["queues"] if q["id"] == ids["queue"])
    assert queue["members"] == []  # Ana has no billing skill yet
    assert queue["thresholds"]["max_waiting"] is None

    seen = len(publisher.events)
    await client.put(
        f"{API}/users/{ana.user.id}/skills",
        json=[{"skill_id": ids["billing"], "level": 2}],
        headers=admin.headers,
    )
    await client.put(
        f"{API}/queues/{ids['queue']}/thresholds",
        json={"max_waiting": 4},
        headers=boss.headers,
    )
    # Each change asks the stale view for a fresh snapshot, which holds it.
    asked = await resyncs(ctx, view, publisher.events[seen:], viewer)
    assert asked == ["user.updated", "queue.changed"]
    fresh, _ = await read_supervisor_view(ctx, viewer)
    queue = next(q for q in view_json(fresh)["queues"] if q["id"] == ids["queue"])
    assert queue["members"] == [{"user_id": ana.user.id, "slots": 3}]
    assert queue["thresholds"]["max_waiting"] == 4
    assert queue["agents"] == {"available": 0, "busy": 0, "away": 0}  # Ana is offline

    await client.put(
        f"{API}/users/{ana.user.id}/presence", json={"state": "available"}, headers=boss.headers
    )
    live, _ = await read_supervisor_view(ctx, viewer)
    queue = next(q for q in view_json(live)["queues"] if q["id"] == ids["queue"])
    assert queue["agents"] == {"available": 1, "busy": 0, "away": 0}


async def resyncs(
    ctx: AppContext, view: SupervisorView, events: list[DomainEvent], viewer: Principal
) -> list[str]:
    """The events that made the view ask for a fresh snapshot."""
    asked = []
    for event in events:
        if not relevant(view, event, viewer):
            continue
        after = apply(view, event, await read_details(ctx, view, event))
        assert isinstance(after, SupervisorView)
        if after.needs_resync:
            asked.append(event.type.value)
    return asked
