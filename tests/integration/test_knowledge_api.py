"""The knowledge base through the API: who writes, who reads what, partner sites, and
search ranked by relevance in French and English."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Caller, MakeCaller
from tests.integration.toolbox_world import World, build_world, call, items, made

PATH = "/knowledge/articles"


@pytest.fixture
async def world(client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller) -> World:
    return await build_world(client, admin, make_caller)


def article(title: str, body: str = "", locale: str = "fr", **fields: Any) -> dict[str, Any]:
    return {"title": title, "body": body or title, "locale": locale, "published": True, **fields}


async def titles(world: World, who: Caller, **params: Any) -> list[str]:
    return [item["title"] for item in await items(world.http, who, PATH, **params)]


async def test_supervisors_and_admins_write_agents_read_what_is_published(world: World) -> None:
    refused = await call(world.http, world.care_agent, "POST", PATH, article("Mine"))
    assert refused.status_code == 403
    published = await made(world.http, world.care_supervisor, PATH, article("Published"))
    draft = await made(
        world.http, world.admin, PATH, {**article("Draft"), "published": False, "tags": [" FAQ "]}
    )
    assert draft["tags"] == ["faq"]
    assert draft["author_id"] == world.admin.user.id

    assert await titles(world, world.care_agent) == ["Published"]
    assert await titles(world, world.care_supervisor) == ["Published", "Draft"]
    assert await titles(world, world.care_supervisor, published="false") == ["Draft"]
    hidden = await call(world.http, world.care_agent, "GET", f"{PATH}/{draft['id']}")
    assert hidden.status_code == 404
    changed = await call(
        world.http, world.care_agent, "PATCH", f"{PATH}/{published['id']}", {"title": "X"}
    )
    assert changed.status_code == 403

    shown = await call(
        world.http, world.care_supervisor, "PATCH", f"{PATH}/{draft['id']}", {"published": True}
    )
    assert shown.status_code == 200
    assert await titles(world, world.care_agent) == ["Published", "Draft"]
    nulled = await call(
        world.http, world.care_supervisor, "PATCH", f"{PATH}/{draft['id']}", {"title": None}
    )
    assert nulled.status_code == 422
    gone = await call(world.http, world.care_supervisor, "DELETE", f"{PATH}/{draft['id']}")
    assert gone.status_code == 204
    assert await titles(world, world.care_agent) == ["Published"]


async def test_a_partner_sites_articles_stay_on_that_site(world: World) -> None:
    await made(world.http, world.admin, PATH, article("Company"))
    lisbon = await made(world.http, world.partner_supervisor, PATH, article("Lisbon process"))
    assert lisbon["site_id"] == world.sites["p1"]
    assert await titles(world, world.partner_agent) == ["Company", "Lisbon process"]
    assert await titles(world, world.other_partner_agent) == ["Company"]
    assert await titles(world, world.care_agent) == ["Company", "Lisbon process"]
    for query in ("process", "Lisbon"):
        assert await titles(world, world.other_partner_agent, q=query) == []
    hidden = await call(world.http, world.other_partner_agent, "GET", f"{PATH}/{lisbon['id']}")
    assert hidden.status_code == 404


async def test_search_ranks_by_relevance_across_word_forms(world: World) -> None:
    for title, body in [
        (
            "Suivre une livraison",
            "Où en est mon colis ? Le suivi de livraison est dans l'espace client.",
        ),
        (
            "Rembourser un double prélèvement",
            "Si un client a été prélevé deux fois, le remboursement part sous 5 jours.",
        ),
        ("Changer de mot de passe", "Réinitialiser le mot de passe depuis l'application."),
        ("Facture annuelle", "Le remboursement partiel figure sur la facture."),
    ]:
        await made(world.http, world.admin, PATH, article(title, body))
    await made(
        world.http,
        world.admin,
        PATH,
        article("Refunds", "A refund takes five days to reach the card.", locale="en"),
    )
    found = await items(world.http, world.care_agent, PATH, q="remboursé prelevement")
    assert [a["title"] for a in found][:2] == [
        "Rembourser un double prélèvement",
        "Facture annuelle",
    ]
    assert all(a["score"] > 0 for a in found)
    assert [a["score"] for a in found] == sorted((a["score"] for a in found), reverse=True)
    english = await items(world.http, world.care_agent, PATH, q="refunded", locale="en")
    assert [a["title"] for a in english] == ["Refunds"]
    assert await titles(world, world.care_agent, q="refunded", locale="fr") == []
    assert await titles(world, world.care_agent, q="livraisons colis", limit=1) == [
        "Suivre une livraison"
    ]
    assert await titles(world, world.care_agent, q="the and of") == []
