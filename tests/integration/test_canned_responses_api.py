"""Canned responses through the API: who reads and manages which scope, partner sites,
shortcuts, search, and rendering for a conversation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opencx.core.events import EventType
from opencx.testing import RecordingPublisher
from tests.conftest import Caller, MakeCaller
from tests.integration.toolbox_world import World, build_world, call, items, made


@pytest.fixture
async def world(client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller) -> World:
    return await build_world(client, admin, make_caller)


def canned(title: str, scope: str = "personal", **fields: Any) -> dict[str, Any]:
    return {"title": title, "body": f"{title}.", "locale": "fr", "scope": scope, **fields}


async def titles(world: World, who: Caller, **params: Any) -> list[str]:
    return [item["title"] for item in await items(world.http, who, "/canned-responses", **params)]


async def test_agents_read_the_company_their_team_and_their_own(world: World) -> None:
    care = world.teams["Care"]
    await made(world.http, world.admin, "/canned-responses", canned("Company", "company"))
    await made(
        world.http,
        world.care_supervisor,
        "/canned-responses",
        canned("Care team", "team", team_id=care),
    )
    tech = await made(
        world.http,
        world.admin,
        "/canned-responses",
        canned("Tech team", "team", team_id=world.teams["Tech"]),
    )
    await made(world.http, world.care_agent, "/canned-responses", canned("Mine"))
    theirs = await made(world.http, world.tech_agent, "/canned-responses", canned("Theirs"))

    assert await titles(world, world.care_agent) == ["Company", "Care team", "Mine"]
    assert await titles(world, world.tech_agent) == ["Company", "Tech team", "Theirs"]
    assert await titles(world, world.care_supervisor) == ["Company", "Care team"]
    assert len(await titles(world, world.admin)) == 5
    for hidden in (tech, theirs):
        response = await call(
            world.http, world.care_agent, "GET", f"/canned-responses/{hidden['id']}"
        )
        assert response.status_code == 404


async def test_agents_manage_their_own_supervisors_their_teams_admins_all(world: World) -> None:
    care, tech = world.teams["Care"], world.teams["Tech"]
    path = "/canned-responses"
    for body in (canned("Team", "team", team_id=care), canned("Company", "company")):
        response = await call(world.http, world.care_agent, "POST", path, body)
        assert response.status_code == 403, response.text
    other_team = await call(
        world.http, world.care_supervisor, "POST", path, canned("Tech", "team", team_id=tech)
    )
    assert other_team.status_code == 403
    company = await made(world.http, world.admin, path, canned("Company", "company"))
    team = await made(world.http, world.admin, path, canned("Care", "team", team_id=care))
    own = await made(world.http, world.care_agent, path, canned("Own"))
    assert own["scope"] == "personal"
    assert own["owner_id"] == world.care_agent.user.id

    async def patch(who: Caller, item: dict[str, Any]) -> int:
        response = await call(world.http, who, "PATCH", f"{path}/{item['id']}", {"title": "New"})
        return response.status_code

    assert await patch(world.care_agent, company) == 403
    assert await patch(world.care_agent, team) == 403
    assert await patch(world.care_agent, own) == 200
    assert await patch(world.care_supervisor, team) == 200
    assert await patch(world.care_supervisor, company) == 403
    assert await patch(world.care_supervisor, own) == 404  # someone's personal: unseen
    assert await patch(world.admin, own) == 200
    gone = await call(world.http, world.care_agent, "DELETE", f"{path}/{own['id']}")
    assert gone.status_code == 204
    again = await call(world.http, world.care_agent, "GET", f"{path}/{own['id']}")
    assert again.status_code == 404


async def test_partner_sites_see_the_company_and_their_own_never_another_partners(
    world: World,
) -> None:
    care = world.teams["Care"]
    path = "/canned-responses"
    await made(world.http, world.admin, path, canned("Shared", "company"))
    await made(
        world.http, world.admin, path, canned("HQ only", "company", site_id=world.sites["hq"])
    )
    lisbon = await made(
        world.http, world.partner_supervisor, path, canned("Lisbon care", "team", team_id=care)
    )
    assert lisbon["site_id"] == world.sites["p1"]
    # The head office writes for the whole team, wherever its members work.
    await made(
        world.http, world.care_supervisor, path, canned("Care, all sites", "team", team_id=care)
    )

    assert await titles(world, world.partner_agent) == ["Shared", "Lisbon care", "Care, all sites"]
    assert await titles(world, world.other_partner_agent) == ["Shared", "Care, all sites"]
    assert await titles(world, world.care_agent) == [
        "Shared",
        "HQ only",
        "Lisbon care",
        "Care, all sites",
    ]
    hidden = await call(world.http, world.other_partner_agent, "GET", f"{path}/{lisbon['id']}")
    assert hidden.status_code == 404
    # A partner may not write for another site, nor for the company.
    elsewhere = await call(
        world.http,
        world.partner_supervisor,
        "POST",
        path,
        canned("X", "team", team_id=care, site_id=world.sites["p2"]),
    )
    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"][0]["field"] == "site_id"
    [shared] = [
        r for r in await items(world.http, world.partner_agent, path) if r["title"] == "Shared"
    ]
    response = await call(
        world.http,
        world.partner_supervisor,
        "PATCH",
        f"{path}/{shared['id']}",
        {"title": "Mine now"},
    )
    assert response.status_code == 403


async def test_a_shortcut_is_unique_within_its_scope(world: World) -> None:
    path = "/canned-responses"
    await made(world.http, world.care_agent, path, canned("Refund", shortcut="refund"))
    twice = await call(
        world.http, world.care_agent, "POST", path, canned("Again", shortcut="refund")
    )
    assert twice.status_code == 409
    assert twice.json()["errors"][0]["field"] == "shortcut"
    await made(world.http, world.tech_agent, path, canned("Refund", shortcut="refund"))
    await made(world.http, world.admin, path, canned("Refund", "company", shortcut="refund"))
    bad = await call(world.http, world.care_agent, "POST", path, canned("Bad", shortcut="Re fund"))
    assert bad.status_code == 422


async def test_list_searches_and_filters(world: World) -> None:
    path = "/canned-responses"
    await made(world.http, world.admin, path, canned("Remboursement", "company", shortcut="rb"))
    await made(
        world.http,
        world.admin,
        path,
        {
            "title": "Refund",
            "body": "Your refund is on its way.",
            "locale": "en",
            "scope": "company",
        },
    )
    await made(world.http, world.care_agent, path, canned("Livraison"))
    assert await titles(world, world.care_agent, q="REFUND") == ["Refund"]
    assert await titles(world, world.care_agent, q="rb") == ["Remboursement"]
    assert await titles(world, world.care_agent, locale="fr") == ["Remboursement", "Livraison"]
    assert await titles(world, world.care_agent, scope="personal") == ["Livraison"]
    assert await titles(world, world.care_agent, q="%") == []
    wrong = await call(world.http, world.care_agent, "GET", path, locale="de")
    assert wrong.status_code == 422


async def test_render_fills_the_variables_for_a_conversation_the_agent_reads(
    world: World,
) -> None:
    body = (
        "Bonjour {{ customer.first_name }}, dossier n° {{ case.number }}. "
        "{{ agent.name }}{{ customer.nickname }}"
        "{% if customer.email %} ({{ customer.email }}){% endif %}"
    )
    response = await made(
        world.http,
        world.admin,
        "/canned-responses",
        {"title": "Accueil", "body": body, "locale": "fr", "scope": "company"},
    )
    conversation_id = await world.conversation(site="hq", customer="Marie Dubois", said=["Allô"])
    rendered = await call(
        world.http,
        world.care_agent,
        "POST",
        f"/canned-responses/{response['id']}/render",
        {"conversation_id": conversation_id},
    )
    assert rendered.status_code == 200, rendered.text
    name = world.care_agent.user.display_name
    assert rendered.json() == {"text": f"Bonjour Marie, dossier n° {conversation_id}. {name}"}

    elsewhere = await world.conversation(site="p2", customer="Ola", said=["Hej"])
    for who, conversation in ((world.partner_agent, elsewhere), (world.care_agent, 999_999)):
        refused = await call(
            world.http,
            who,
            "POST",
            f"/canned-responses/{response['id']}/render",
            {"conversation_id": conversation},
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "conversation_id"


@pytest.mark.parametrize(
    "body",
    [
        "{% for i in range(9999) %}{% for j in range(9999) %}x{% endfor %}{% endfor %}",
        "{{ 'x' * 1000000000 }}",
        "{{ customer.name|center(1000000) }}",
        "{{ cycler.__init__.__globals__ }}()",
        "{{ customer.name",
    ],
)
async def test_templates_that_could_run_away_are_refused(world: World, body: str) -> None:
    response = await call(
        world.http,
        world.care_agent,
        "POST",
        "/canned-responses",
        {"title": "Bad", "body": body, "locale": "en"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body.body"


async def test_changes_are_published_without_their_text(
    world: World, publisher: RecordingPublisher
) -> None:
    who = world.partner_agent
    created = await made(world.http, who, "/canned-responses", canned("Secret plan"))
    await call(world.http, who, "DELETE", f"/canned-responses/{created['id']}")
    changes = [e for e in publisher.events if e.type is EventType.KNOWLEDGE_CHANGED]
    assert [(e.entity_kind, e.entity_id, e.payload) for e in changes] == [
        (
            "canned_response",
            created["id"],
            {"kind": "canned_response", "action": action, "scope": "personal", "locale": "fr"},
        )
        for action in ("create", "delete")
    ]
    # Filed under the partner's site, as their response is.
    assert all(e.site_id == world.sites["p1"] for e in changes)
