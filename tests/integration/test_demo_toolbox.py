"""The demo company's toolbox as its printed agent finds it: canned responses and
articles in French and English that answer what the demo's customers ask."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opencx.cli.demo import DEMO_LOGINS, seed_demo
from opencx.core.enums import Role
from opencx.features.auth import create_api_token
from opencx.features.context import AppContext

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def tokens(ctx: AppContext) -> dict[Role, dict[str, str]]:
    await seed_demo(ctx, customers=6)
    return {
        role: {"Authorization": f"Bearer {await create_api_token(ctx, email=email)}"}
        for role, email in DEMO_LOGINS
    }


async def ask(
    client: httpx.AsyncClient, headers: dict[Role, dict[str, str]], language: str, said: str
) -> list[Any]:
    """What the printed agent is suggested for a new customer who said ``said``."""
    admin = headers[Role.ADMIN]
    customer = await client.post(
        "/api/v1/customers",
        json={"display_name": "Claire Martin", "language": language},
        headers=admin,
    )
    conversation = await client.post(
        "/api/v1/conversations", json={"customer_id": customer.json()["id"]}, headers=admin
    )
    conversation_id = conversation.json()["id"]
    message = {"body_text": said, "channel": "chat", "direction": "inbound"}
    posted = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={**message, "author_kind": "customer"},
        headers=admin,
    )
    assert posted.status_code == 201, posted.text
    found = await client.get(
        f"/api/v1/conversations/{conversation_id}/suggestions",
        params={"limit": 5},
        headers=headers[Role.AGENT],
    )
    assert found.status_code == 200, found.text
    suggestions: list[Any] = found.json()
    return suggestions


async def test_a_french_refund_question_gets_the_refund_answers(
    client: httpx.AsyncClient, tokens: dict[Role, dict[str, str]]
) -> None:
    found = await ask(
        client, tokens, "fr", "Bonjour, j'ai été prélevé deux fois, je voudrais être remboursée"
    )
    titles = [(s["kind"], s["title"]) for s in found]
    assert ("canned", "Double prélèvement : remboursement") in titles[:3]
    assert ("article", "Rembourser un double prélèvement") in titles[:3]
    [canned] = [s for s in found if s["title"] == "Double prélèvement : remboursement"]
    assert canned["text"].startswith("Bonjour Claire,")
    assert canned["text"].endswith("Ada Agent\nService client Vigilo")


async def test_an_english_password_question_gets_the_password_answers(
    client: httpx.AsyncClient, tokens: dict[Role, dict[str, str]]
) -> None:
    found = await ask(client, tokens, "en", "I forgot my password and cannot sign in to the app")
    titles = [(s["kind"], s["title"]) for s in found]
    assert ("canned", "Forgotten password") in titles[:3]
    assert ("article", "Resetting a password") in titles[:3]
    assert {s["locale"] for s in found} == {"en"}


async def test_the_printed_agent_has_personal_responses_and_reads_published_articles(
    client: httpx.AsyncClient, tokens: dict[Role, dict[str, str]]
) -> None:
    agent = tokens[Role.AGENT]
    mine = await client.get("/api/v1/canned-responses", params={"scope": "personal"}, headers=agent)
    assert [r["shortcut"] for r in mine.json()["items"]] == ["rappel", "callback"]
    articles = await client.get("/api/v1/knowledge/articles", params={"limit": 200}, headers=agent)
    items = articles.json()["items"]
    assert {a["locale"] for a in items} == {"fr", "en"}
    assert all(a["published"] for a in items)
    supervisor = tokens[Role.SUPERVISOR]
    team = await client.get(
        "/api/v1/canned-responses", params={"scope": "team"}, headers=supervisor
    )
    assert [r["shortcut"] for r in team.json()["items"]] == ["geste", "gesture"]
    changed = await client.patch(
        f"/api/v1/canned-responses/{team.json()['items'][0]['id']}",
        json={"title": "Geste commercial"},
        headers=supervisor,
    )
    assert changed.status_code == 200  # the printed supervisor manages their team's
    drafts = await client.get(
        "/api/v1/knowledge/articles", params={"published": "false"}, headers=supervisor
    )
    assert len(drafts.json()["items"]) == 1
