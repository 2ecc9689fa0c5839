"""The supervisor cockpit's page: who may open it, where supervisors land, and what it
gives the browser to start with, in the reader's language."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from opencx.core.enums import Role
from opencx.features.context import AppContext
from opencx.features.users.service import UserCreate, create_user_as_system
from tests.integration.test_desktop_page import signed_in_agent
from tests.integration.test_pages import ENGLISH, PASSWORD, csrf_of, html_lang


async def signed_in(
    client: httpx.AsyncClient, ctx: AppContext, role: Role, *, locale: str = "en"
) -> httpx.Response:
    email = f"{role.value}.{locale}@example.com"
    await create_user_as_system(
        ctx,
        UserCreate(
            email=email, display_name="Nadia Roux", role=role, password=PASSWORD, locale=locale
        ),
    )
    form = await client.get("/login")
    return await client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": csrf_of(form)}
    )


def cockpit_config(page: httpx.Response) -> Any:
    found = re.search(
        r'<script type="application/json" id="cockpit-config">(.*?)</script>', page.text, re.S
    )
    assert found, "the cockpit page carries its configuration"
    return json.loads(found.group(1))


async def test_a_supervisor_lands_on_the_cockpit(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    response = await signed_in(client, ctx, Role.SUPERVISOR)
    assert response.status_code == 303
    assert response.headers["location"] == "/cockpit"

    page = await client.get("/cockpit", headers=ENGLISH)

    assert page.status_code == 200
    config = cockpit_config(page)
    assert config["csrf"] == csrf_of(page)
    assert (config["can_steer"], config["can_report"]) == (True, True)
    assert (config["can_set_thresholds"], config["can_set_presence"]) == (True, True)
    assert config["can_reassign"] is True
    assert config["texts"]["close"] == "Close"
    for table in ("Queues", "Agents", "Sites"):
        assert f">{table}</caption>" in page.text
    assert '<script type="module" src="/static/cockpit/main.js' in page.text
    assert "answered within the queue's target" in page.text  # the service level, named


async def test_the_cockpit_speaks_the_supervisors_language(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await signed_in(client, ctx, Role.ADMIN, locale="fr")

    page = await client.get("/cockpit", headers=ENGLISH)

    assert page.status_code == 200
    assert html_lang(page) == "fr"
    config = cockpit_config(page)
    assert config["texts"]["close"] == "Fermer"
    assert config["texts"]["site_draining"] == "En vidage"
    assert config["texts"]["thresholds"] == "Seuils"
    assert config["texts"]["errors"]["not_found"].startswith("Cet élément")
    assert config["timeline_texts"]["conversation_log"] == "Historique de la conversation"
    assert ">Files d'attente</caption>" in page.text
    assert ">En attente</th>" in page.text


async def test_agents_are_refused_and_visitors_sent_to_sign_in(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    anonymous = await client.get("/cockpit")
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/login")

    await signed_in_agent(client, ctx)
    page = await client.get("/cockpit", headers=ENGLISH)

    assert page.status_code == 403
    assert "cockpit-config" not in page.text
    assert "The cockpit is for supervisors and administrators." in page.text
