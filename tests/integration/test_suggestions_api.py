"""Suggested answers through the API: ranked from canned responses, published articles
and past resolved conversations, in the customer's language, and never from anything
the agent may not see."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opencx.testing import FakeClock
from tests.conftest import Caller, MakeCaller
from tests.integration.toolbox_world import World, build_world, call, made

REFUND_FR = "Bonjour, j'ai été prélevé deux fois ce mois-ci. Pouvez-vous me rembourser ?"
DELIVERY_EN = "Hello, my parcel has still not been delivered. Where is my delivery?"


@pytest.fixture
async def world(client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller) -> World:
    built = await build_world(client, admin, make_caller)
    care = built.teams["Care"]
    for body in [
        {
            "title": "Double prélèvement : remboursement",
            "body": "Bonjour {{ customer.first_name }}, nous vous remboursons le prélèvement "
            "en double sous 5 jours (dossier {{ case.number }}).",
            "locale": "fr",
            "scope": "company",
        },
        {
            "title": "Retard de livraison",
            "body": "Bonjour {{ customer.first_name }}, votre colis est en route.",
            "locale": "fr",
            "scope": "company",
        },
        {
            "title": "Late delivery",
            "body": "Hello {{ customer.first_name }}, your delivery is on its way: "
            "track the parcel in your account.",
            "locale": "en",
            "scope": "company",
        },
        {
            "title": "Remboursement (équipe Tech)",
            "body": "Remboursement du prélèvement en double, équipe technique.",
            "locale": "fr",
            "scope": "team",
            "team_id": built.teams["Tech"],
        },
        {
            "title": "Remboursement (équipe Care)",
            "body": "Remboursement rapide du prélèvement en double.",
            "locale": "fr",
            "scope": "team",
            "team_id": care,
        },
    ]:
        await made(built.http, built.admin, "/canned-responses", body)
    for body in [
        {
            "title": "Procédure de remboursement",
            "body": "Un client prélevé deux fois est remboursé sous 5 jours ouvrés.",
            "locale": "fr",
            "published": True,
        },
        {
            "title": "Remboursements exceptionnels (brouillon)",
            "body": "Remboursement d'un prélèvement en double : brouillon.",
            "locale": "fr",
        },
        {
            "title": "Tracking a delivery",
            "body": "Parcels are delivered within 3 days; the tracking link is in the e-mail.",
            "locale": "en",
            "published": True,
        },
    ]:
        await made(built.http, built.admin, "/knowledge/articles", body)
    return built


async def suggest(world: World, who: Caller, conversation_id: int, **params: Any) -> list[Any]:
    response = await call(
        world.http, who, "GET", f"/conversations/{conversation_id}/suggestions", **params
    )
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()
    return found


def titled(found: list[Any]) -> list[tuple[str, str]]:
    return [(s["kind"], s["title"]) for s in found]


async def test_a_french_customer_gets_french_answers_rendered_for_them(world: World) -> None:
    asked = await world.conversation(site="hq", customer="Marie Dubois", said=[REFUND_FR])
    found = await suggest(world, world.care_agent, asked, limit=10)
    assert {s["locale"] for s in found} == {"fr"}
    assert set(titled(found[:2])) == {
        ("article", "Procédure de remboursement"),
        ("canned", "Double prélèvement : remboursement"),
    }
    [refund] = [s for s in found if s["title"] == "Double prélèvement : remboursement"]
    assert refund["text"] == (
        "Bonjour Marie, nous vous remboursons le prélèvement en double sous 5 jours "
        f"(dossier {asked})."
    )
    kinds = titled(found)
    assert ("article", "Procédure de remboursement") in kinds
    assert ("canned", "Remboursement (équipe Care)") in kinds
    # "Bonjour" in common is no reason to suggest a late delivery.
    assert ("canned", "Retard de livraison") not in kinds
    # Another team's response, a draft article, the English content: never.
    assert ("canned", "Remboursement (équipe Tech)") not in kinds
    assert not any("brouillon" in title for _kind, title in kinds)
    assert [s["score"] for s in found] == sorted((s["score"] for s in found), reverse=True)
    assert len(await suggest(world, world.care_agent, asked, limit=2)) == 2


async def test_an_english_customer_gets_english_answers(world: World) -> None:
    asked = await world.conversation(site="hq", customer="John Smith", said=[DELIVERY_EN])
    found = await suggest(world, world.care_agent, asked)
    assert set(titled(found)) == {("canned", "Late delivery"), ("article", "Tracking a delivery")}
    [late] = [s for s in found if s["kind"] == "canned"]
    assert late["text"].startswith("Hello John, your delivery is on its way")
    assert {s["locale"] for s in found} == {"en"}


async def test_answers_from_resolved_conversations_only(world: World, clock: FakeClock) -> None:
    answer = "Je vous ai remboursé le prélèvement en double, vous le verrez sous 3 jours."
    pending = await world.conversation(
        site="hq", customer="Paul", said=[REFUND_FR], answer=answer, subject="Prélevé deux fois"
    )
    asked = await world.conversation(site="hq", customer="Anne", said=[REFUND_FR])
    past = [s for s in await suggest(world, world.care_agent, asked) if s["kind"] == "past_answer"]
    assert past == []

    resolved = await call(
        world.http, world.admin, "POST", f"/conversations/{pending}/status", {"status": "resolved"}
    )
    assert resolved.status_code == 200
    # Newly resolved conversations join the index once it is refresh_seconds old.
    still = await suggest(world, world.care_agent, asked, limit=10)
    assert [s for s in still if s["kind"] == "past_answer"] == []
    clock.advance(30)
    found = await suggest(world, world.care_agent, asked, limit=10)
    past = [s for s in found if s["kind"] == "past_answer"]
    assert past == [
        {
            "kind": "past_answer",
            "id": pending,
            "title": "Prélevé deux fois",
            "text": answer,
            "score": past[0]["score"],
            "locale": "fr",
        }
    ]
    # Asked about the resolved conversation itself, its own answer is not suggested.
    own = await suggest(world, world.care_agent, pending, limit=20)
    assert pending not in [s["id"] for s in own if s["kind"] == "past_answer"]


async def test_no_answer_comes_from_another_sites_conversations(
    world: World, clock: FakeClock
) -> None:
    answer = "Remboursement du prélèvement en double effectué depuis Varsovie."
    warsaw = await world.conversation(
        site="p2", customer="Ola", said=[REFUND_FR], answer=answer, status="resolved"
    )
    lisbon_asked = await world.conversation(site="p1", customer="Rita", said=[REFUND_FR])
    hq_asked = await world.conversation(site="hq", customer="Léa", said=[REFUND_FR])
    clock.advance(60)

    def past(found: list[Any]) -> list[int]:
        return [s["id"] for s in found if s["kind"] == "past_answer"]

    assert past(await suggest(world, world.partner_agent, lisbon_asked, limit=20)) == []
    assert past(await suggest(world, world.care_agent, hq_asked, limit=20)) == [warsaw]
    warsaw_asked = await world.conversation(site="p2", customer="Jan", said=[REFUND_FR])
    assert past(await suggest(world, world.other_partner_agent, warsaw_asked)) == [warsaw]
    hidden = await call(
        world.http, world.partner_agent, "GET", f"/conversations/{warsaw_asked}/suggestions"
    )
    assert hidden.status_code == 404


async def test_a_new_canned_response_is_suggested_at_once(world: World) -> None:
    asked = await world.conversation(
        site="hq", customer="Hugo", said=["Mon boîtier clignote en rouge depuis hier."]
    )
    assert await suggest(world, world.care_agent, asked) == []
    await made(
        world.http,
        world.care_agent,
        "/canned-responses",
        {"title": "Boîtier qui clignote", "body": "Débranchez le boîtier.", "locale": "fr"},
    )
    found = await suggest(world, world.care_agent, asked)
    assert titled(found) == [("canned", "Boîtier qui clignote")]
    assert await suggest(world, world.tech_agent, asked) == []  # someone's personal one


@pytest.mark.parametrize("limit", ["0", "21", "x"])
async def test_a_bad_limit_is_a_422(world: World, limit: str) -> None:
    asked = await world.conversation(site="hq", customer="Zoé", said=[REFUND_FR])
    response = await call(
        world.http, world.care_agent, "GET", f"/conversations/{asked}/suggestions", limit=limit
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
