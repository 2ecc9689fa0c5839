"""Agents name their colleagues (to transfer to, to mention) without reading users:
a name, a role and a presence, of the sites they see."""

from __future__ import annotations

import httpx

from opencx.core.enums import Role
from tests.conftest import Caller, MakeCaller
from tests.integration.test_conversations_api import make_site

API = "/api/v1"


async def names(client: httpx.AsyncClient, caller: Caller, **params: str) -> list[str]:
    response = await client.get(f"{API}/colleagues", params=params, headers=caller.headers)
    assert response.status_code == 200, response.text
    return [person["display_name"] for person in response.json()]


async def rename(client: httpx.AsyncClient, admin: Caller, caller: Caller, name: str) -> None:
    body = {"display_name": name}
    changed = await client.patch(f"{API}/users/{caller.user.id}", json=body, headers=admin.headers)
    assert changed.status_code == 200, changed.text


async def test_an_agent_finds_colleagues_by_name_without_their_details(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    me = await make_caller(Role.AGENT)
    lea = await make_caller(Role.AGENT)
    tom = await make_caller(Role.SUPERVISOR)
    await rename(client, admin, lea, "Léa Marchand")
    await rename(client, admin, tom, "Tom Durand")
    users = await client.get(f"{API}/users", headers=me.headers)
    assert users.status_code == 403  # listing users stays for supervisors

    assert await names(client, me) == ["Léa Marchand", "Tom Durand"]  # not me, no admin
    assert await names(client, me, q="mar") == ["Léa Marchand"]  # any word's start
    assert await names(client, me, q="TOM") == ["Tom Durand"]
    assert await names(client, me, role="supervisor") == ["Tom Durand"]
    body = (await client.get(f"{API}/colleagues", headers=me.headers)).json()[0]
    assert set(body) == {
        "id",
        "display_name",
        "role",
        "site_id",
        "presence",
        "presence_since",
        "simulated",  # the demo's simulated agents (docs/demo.md)
    }
    assert body["simulated"] is False


async def test_available_narrows_to_who_can_take_work_now(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    me = await make_caller(Role.AGENT)
    ready = await make_caller(Role.AGENT)
    await rename(client, admin, ready, "Ready Agent")
    await make_caller(Role.AGENT)
    presence = {"state": "available"}
    put = await client.put(
        f"{API}/users/{ready.user.id}/presence", json=presence, headers=ready.headers
    )
    assert put.status_code == 200, put.text

    assert await names(client, me, available="true") == ["Ready Agent"]


async def test_partner_agents_see_only_colleagues_of_their_site(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    own = await make_site(client, admin, "Partner A", "partner")
    other = await make_site(client, admin, "Partner B", "partner")
    me = await make_caller(Role.AGENT, site_id=own)
    mate = await make_caller(Role.AGENT, site_id=own)
    stranger = await make_caller(Role.AGENT, site_id=other)
    await rename(client, admin, mate, "Mate")
    await rename(client, admin, stranger, "Stranger")

    assert await names(client, me) == ["Mate"]
