"""Sites through the API: create, list with cursors, update, idempotency, errors."""

from __future__ import annotations

import httpx

from opencx.core.enums import Role
from tests.conftest import Caller, MakeCaller


async def test_admin_creates_and_lists_sites_page_by_page(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    for n in range(5):
        response = await client.post(
            "/api/v1/sites", json={"name": f"Site {n}", "kind": "partner"}, headers=admin.headers
        )
        assert response.status_code == 201, response.text
    names: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/sites", params=params, headers=admin.headers)).json()
        names += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert names == [f"Site {n}" for n in range(5)]


async def test_duplicate_name_is_a_409_problem(client: httpx.AsyncClient, admin: Caller) -> None:
    await client.post("/api/v1/sites", json={"name": "Lyon"}, headers=admin.headers)
    response = await client.post("/api/v1/sites", json={"name": "Lyon"}, headers=admin.headers)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "opencx.conflict"


async def test_idempotency_key_replays_the_first_response(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    headers = {**admin.headers, "Idempotency-Key": "abc-1"}
    first = await client.post("/api/v1/sites", json={"name": "Lille"}, headers=headers)
    again = await client.post("/api/v1/sites", json={"name": "Lille"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await client.post("/api/v1/sites", json={"name": "Nantes"}, headers=headers)
    assert other.status_code == 409


async def test_bad_input_is_a_422_problem_naming_the_field(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    response = await client.post(
        "/api/v1/sites", json={"name": "X", "timezone": "Mars/Olympus"}, headers=admin.headers
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "opencx.invalid_input"
    assert body["errors"][0]["field"] == "body.timezone"


async def test_agent_cannot_create_site_and_unknown_token_is_401(
    client: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    agent = await make_caller(Role.AGENT)
    response = await client.post("/api/v1/sites", json={"name": "X"}, headers=agent.headers)
    assert response.status_code == 403
    response = await client.get("/api/v1/sites", headers={"Authorization": "Bearer ocx_nope"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_partner_agent_sees_only_own_site(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    own = (
        await client.post(
            "/api/v1/sites", json={"name": "Partner A", "kind": "partner"}, headers=admin.headers
        )
    ).json()
    other = (
        await client.post(
            "/api/v1/sites", json={"name": "Partner B", "kind": "partner"}, headers=admin.headers
        )
    ).json()
    agent = await make_caller(Role.AGENT, site_id=own["id"])
    listed = (await client.get("/api/v1/sites", headers=agent.headers)).json()["items"]
    assert [s["id"] for s in listed] == [own["id"]]
    hidden = await client.get(f"/api/v1/sites/{other['id']}", headers=agent.headers)
    assert hidden.status_code == 404
