"""The admin console's page: who may open it, what each role is offered, each section
at a path of its own, and the texts in the reader's language."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from opencx.core.enums import Role
from opencx.features.context import AppContext
from tests.integration.test_cockpit_page import signed_in
from tests.integration.test_desktop_page import signed_in_agent
from tests.integration.test_pages import ENGLISH, csrf_of, html_lang


def admin_config(page: httpx.Response) -> Any:
    found = re.search(
        r'<script type="application/json" id="admin-config">(.*?)</script>', page.text, re.S
    )
    assert found, "the admin page carries its configuration"
    return json.loads(found.group(1))


def nav_links(page: httpx.Response) -> list[str]:
    return re.findall(r'<a href="/admin/(\w+)" data-section=', page.text)


async def test_an_admin_gets_every_section_and_may_change_everything(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await signed_in(client, ctx, Role.ADMIN)

    page = await client.get("/admin", headers=ENGLISH)

    assert page.status_code == 200
    config = admin_config(page)
    assert config["csrf"] == csrf_of(page)
    assert config["section"] == "queues"
    assert config["can"] == {
        "directory": True,
        "users": True,
        "audit": True,
        "canned_any": True,
        "canned_team": True,
        "knowledge": True,
        "connectors": True,
    }
    expected = [
        "queues",
        "hours",
        "routing",
        "users",
        "teams",
        "sites",
        "skills",
        "reasons",
        "canned",
        "knowledge",
        "channels",
        "connectors",
        "audit",
    ]
    assert config["sections"] == expected
    assert nav_links(page) == expected
    assert '<script type="module" src="/static/admin/main.js' in page.text
    assert config["texts"]["routing"]["dry_run"] == "Dry run"


async def test_a_supervisor_reads_the_configuration_but_not_the_audit_trail(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await signed_in(client, ctx, Role.SUPERVISOR)

    page = await client.get("/admin/routing", headers=ENGLISH)

    assert page.status_code == 200
    config = admin_config(page)
    assert config["section"] == "routing"
    assert config["can"] == {
        "directory": False,
        "users": False,
        "audit": False,
        "canned_any": False,
        "canned_team": True,  # their own team's canned responses
        "knowledge": True,  # they write and publish articles
        "connectors": False,
    }
    assert "audit" not in nav_links(page)
    assert "users" in nav_links(page)  # read only
    assert 'href="/admin/routing" data-section="routing" aria-current="page"' in page.text
    closed = await client.get("/admin/audit", headers=ENGLISH)
    assert admin_config(closed)["section"] == "queues"  # a section they may not open


async def test_each_section_has_its_own_path_and_an_unknown_one_is_not_found(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await signed_in(client, ctx, Role.ADMIN)

    hours = await client.get("/admin/hours", headers=ENGLISH)
    unknown = await client.get("/admin/nowhere", headers=ENGLISH)

    assert admin_config(hours)["section"] == "hours"
    assert "<h1>Business hours</h1>" in hours.text
    assert unknown.status_code == 404


async def test_the_console_speaks_the_admins_language(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await signed_in(client, ctx, Role.ADMIN, locale="fr")

    page = await client.get("/admin/routing", headers=ENGLISH)

    assert html_lang(page) == "fr"
    texts = admin_config(page)["texts"]
    assert texts["routing"]["dry_run"] == "Essai à blanc"
    assert texts["sections"]["hours"] == "Horaires d'ouverture"
    assert texts["days"][0] == "Lundi"
    assert texts["fallbacks"]["callback"] == "Proposer un rappel"
    assert ">Files d'attente</a>" in page.text


async def test_agents_are_refused_and_visitors_sent_to_sign_in(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    anonymous = await client.get("/admin/queues")
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/login")

    await signed_in_agent(client, ctx)
    page = await client.get("/admin", headers=ENGLISH)

    assert page.status_code == 403
    assert "admin-config" not in page.text
    assert "The admin console is for supervisors and administrators." in page.text
