"""A partner-site agent over real HTTP: offers go only to agents of sites they see,
system task attributes and channel facts (inbound, customer, system, provider ids) are
not theirs to write, and a duplicate identity reveals no hidden customer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from opencx.core.enums import Role
from opencx.features.context import AppContext
from opencx.web import create_app
from tests.conftest import Caller, MakeCaller
from tests.integration.local_server import serving

pytestmark = pytest.mark.timeout(60)


@dataclass
class World:
    http: httpx.AsyncClient
    admin: Caller
    partner: Caller  # an agent of the partner site
    other_agent: Caller  # an agent of another site
    own_agent: Caller  # another agent of the partner site
    interaction_id: int
    conversation_id: int
    visible_customer_id: int
    second_customer_id: int  # also visible to the partner agent
    hidden_customer_id: int


async def post(http: httpx.AsyncClient, who: Caller, path: str, body: Any) -> httpx.Response:
    return await http.post(f"/api/v1{path}", json=body, headers=who.headers)


async def made(http: httpx.AsyncClient, who: Caller, path: str, body: Any) -> dict[str, Any]:
    response = await post(http, who, path, body)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
async def world(ctx: AppContext, admin: Caller, make_caller: MakeCaller) -> AsyncIterator[World]:
    async with serving(create_app(ctx)) as url, httpx.AsyncClient(base_url=url) as http:
        partner_site = await made(http, admin, "/sites", {"name": "Dakar", "kind": "partner"})
        other_site = await made(http, admin, "/sites", {"name": "Lyon"})
        queue = await made(
            http,
            admin,
            "/queues",
            {"name": "Dakar chat", "channel": "chat", "site_id": partner_site["id"]},
        )
        hidden = await made(
            http,
            admin,
            "/customers",
            {"display_name": "Hidden", "identities": [{"kind": "email", "value": "h@x.example"}]},
        )
        hidden_conversation = await made(
            http, admin, "/conversations", {"customer_id": hidden["id"]}
        )
        assert hidden_conversation["site_id"] is None
        visible = await made(
            http,
            admin,
            "/customers",
            {"display_name": "Ada", "identities": [{"kind": "email", "value": "ada@x.example"}]},
        )
        conversation = await made(
            http, admin, "/conversations", {"customer_id": visible["id"], "queue_id": queue["id"]}
        )
        second = await made(http, admin, "/customers", {"display_name": "Bea"})
        await made(
            http, admin, "/conversations", {"customer_id": second["id"], "queue_id": queue["id"]}
        )
        interaction = await made(
            http,
            admin,
            f"/conversations/{conversation['id']}/interactions",
            {"channel": "chat", "direction": "inbound"},
        )
        yield World(
            http=http,
            admin=admin,
            partner=await make_caller(Role.AGENT, site_id=partner_site["id"]),
            other_agent=await make_caller(Role.AGENT, site_id=other_site["id"]),
            own_agent=await make_caller(Role.AGENT, site_id=partner_site["id"]),
            interaction_id=interaction["id"],
            conversation_id=conversation["id"],
            visible_customer_id=visible["id"],
            second_customer_id=second["id"],
            hidden_customer_id=hidden["id"],
        )


async def test_a_task_is_offered_only_to_agents_of_sites_the_caller_sees(world: World) -> None:
    def task(worker_id: int) -> dict[str, Any]:
        return {"interaction_id": world.interaction_id, "worker_ids": [worker_id]}

    elsewhere = await post(world.http, world.partner, "/tasks", task(world.other_agent.user.id))
    missing = await post(world.http, world.partner, "/tasks", task(999_999))
    assert elsewhere.status_code == missing.status_code == 422
    assert elsewhere.json()["errors"][0]["field"] == "worker_ids"
    # The same words for an agent elsewhere as for no agent at all.
    assert elsewhere.json()["detail"].replace(str(world.other_agent.user.id), "N") == (
        missing.json()["detail"].replace("999999", "N")
    )
    created = await post(world.http, world.partner, "/tasks", task(world.own_agent.user.id))
    assert created.status_code == 201, created.text


async def test_clients_cannot_set_the_systems_task_attributes(world: World) -> None:
    for name, value in [("customer_id", 1), ("channel", "voice"), ("last_agent_ids", [1])]:
        body = {"interaction_id": world.interaction_id, "attributes": {name: value}}
        refused = await post(world.http, world.partner, "/tasks", body)
        assert refused.status_code == 422, (name, refused.text)
        assert name in refused.text
    body = {"interaction_id": world.interaction_id, "attributes": {"lang": "fr"}}
    created = await made(world.http, world.partner, "/tasks", body)
    assert created["attributes"]["customer_id"] == world.visible_customer_id
    assert created["attributes"]["channel"] == "chat"
    assert created["attributes"]["lang"] == "fr"


async def test_an_agent_writes_no_channel_facts_into_a_conversation(world: World) -> None:
    path = f"/conversations/{world.conversation_id}/messages"
    base = {"body_text": "hello", "channel": "chat"}
    for fields in [
        {"direction": "inbound", "author_kind": "customer"},
        {"direction": "inbound", "author_kind": "system"},
        {"direction": "outbound", "author_kind": "system"},
        {"direction": "outbound", "author_kind": "agent", "provider_message_id": "<real@x>"},
    ]:
        refused = await post(world.http, world.partner, path, base | fields)
        assert refused.status_code == 403, (fields, refused.text)
        assert refused.json()["code"] == "opencx.permission_denied"
    answered = await post(
        world.http, world.partner, path, base | {"direction": "outbound", "author_kind": "agent"}
    )
    assert answered.status_code == 201, answered.text
    # A channel integration (an admin's token) still writes what a customer sent.
    received = await post(
        world.http,
        world.admin,
        path,
        base | {"direction": "inbound", "author_kind": "customer", "provider_message_id": "m1"},
    )
    assert received.status_code == 201, received.text


async def test_a_duplicate_identity_does_not_reveal_a_hidden_customer(world: World) -> None:
    path = f"/customers/{world.visible_customer_id}/identities"
    hidden = await post(world.http, world.partner, path, {"kind": "email", "value": "h@x.example"})
    assert hidden.status_code == 409, hidden.text
    body = hidden.json()
    assert "customer_id" not in body
    assert str(world.hidden_customer_id) not in body["detail"]
    # Exactly the answer given for a customer the agent does see.
    visible = await post(
        world.http,
        world.partner,
        f"/customers/{world.second_customer_id}/identities",
        {"kind": "email", "value": "ada@x.example"},
    )
    assert visible.status_code == 409
    assert visible.json().keys() == body.keys()
    assert str(visible.json()).replace("ada@", "h@") == str(body)
    created = await post(
        world.http,
        world.partner,
        "/customers",
        {"display_name": "Eve", "identities": [{"kind": "email", "value": "h@x.example"}]},
    )
    assert created.status_code == 409
    assert "customer_id" not in created.json()
    # An admin, who sees every customer, is told which one holds it.
    told = await post(world.http, world.admin, path, {"kind": "email", "value": "h@x.example"})
    assert told.json()["customer_id"] == world.hidden_customer_id
