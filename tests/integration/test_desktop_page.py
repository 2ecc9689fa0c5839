"""The agent desktop's page: who may open it, what it gives the browser to start with,
in the reader's language, and that a link to a conversation opens only conversations
the agent may read."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from opencx.core.enums import Role
from opencx.features.context import AppContext
from opencx.features.users.service import UserCreate, create_user_as_system
from tests.conftest import Caller
from tests.integration.test_conversations_api import make_queue, make_site, new_conversation
from tests.integration.test_pages import ENGLISH, FRENCH, PASSWORD, csrf_of, html_lang


async def signed_in_agent(
    client: httpx.AsyncClient, ctx: AppContext, *, site_id: int | None = None, locale: str = "en"
) -> httpx.Response:
    email = f"ana.{locale}@example.com"
    await create_user_as_system(
        ctx,
        UserCreate(
            email=email,
            display_name="Ana Petit",
            role=Role.AGENT,
            password=PASSWORD,
            locale=locale,
            site_id=site_id,
        ),
    )
    form = await client.get("/login")
    return await client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": csrf_of(form)}
    )


def desk_config(page: httpx.Response) -> Any:
    found = re.search(
        r'<script type="application/json" id="desk-config">(.*?)</script>', page.text, re.S
    )
    assert found, "the desktop page carries its configuration"
    return json.loads(found.group(1))


async def test_an_agent_lands_on_the_desktop_after_signing_in(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    signed_in = await signed_in_agent(client, ctx)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/desktop"

    page = await client.get("/desktop", headers=ENGLISH)

    assert page.status_code == 200
    config = desk_config(page)
    assert config["user"]["name"] == "Ana Petit"
    assert config["csrf"] == csrf_of(page)
    assert config["texts"]["accept"] == "Accept"
    assert 'aria-label="Presence"' in page.text
    assert '<script type="module" src="/static/desktop/main.js' in page.text


async def test_the_desktop_speaks_the_agents_language(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await signed_in_agent(client, ctx, locale="fr")

    page = await client.get("/desktop", headers=ENGLISH)

    assert html_lang(page) == "fr"
    config = desk_config(page)
    assert config["texts"]["accept"] == "Accepter"
    assert config["texts"]["channels"]["chat"] == "Chat web"
    assert config["texts"]["offer_from"] == "%(channel)s de %(customer)s"
    assert (
        config["texts"]["errors"]["permission_denied"] == "Vous n’êtes pas autorisé à faire cela."
    )
    assert "Présence" in page.text
    assert "Déjeuner" in page.text


async def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/desktop", "/desktop/conversations/1"):
        page = await client.get(path, headers=FRENCH)
        assert page.status_code == 303
        assert page.headers["location"] == "/login"


async def test_a_link_opens_only_a_conversation_the_agent_may_read(
    client: httpx.AsyncClient, ctx: AppContext, admin: Caller
) -> None:
    own_site = await make_site(client, admin, "Partner A", "partner")
    other_site = await make_site(client, admin, "Partner B", "partner")
    mine = await new_conversation(
        client, admin, queue_id=await make_queue(ctx, "A", site_id=own_site)
    )
    theirs = await new_conversation(
        client, admin, queue_id=await make_queue(ctx, "B", site_id=other_site)
    )
    await signed_in_agent(client, ctx, site_id=own_site)

    opened = await client.get(f"/desktop/conversations/{mine['id']}", headers=ENGLISH)
    refused = await client.get(f"/desktop/conversations/{theirs['id']}", headers=ENGLISH)
    missing = await client.get("/desktop/conversations/999999", headers=ENGLISH)

    assert opened.status_code == 200
    assert desk_config(opened)["open_conversation"] == mine["id"]
    assert refused.status_code == 404
    assert "not yours to see" in refused.text
    assert missing.status_code == 404
    api = await client.get(
        f"/api/v1/conversations/{theirs['id']}/timeline",
        headers={"X-CSRF-Token": csrf_of(opened)},
    )
    assert api.status_code == 404
