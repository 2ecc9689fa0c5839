"""The admin console's knowledge base, channel accounts and connectors: an admin gets the
three sections and may change them; a supervisor writes articles, reads channel accounts
without changing them and is not offered connectors, exactly as the API decides with
the same session."""

from __future__ import annotations

import httpx

from opencx.core.enums import Role
from opencx.features.context import AppContext
from tests.integration.test_admin_page import admin_config, nav_links
from tests.integration.test_cockpit_page import signed_in
from tests.integration.test_pages import ENGLISH

NEW = ("knowledge", "channels", "connectors")
ARTICLE = {"title": "Refunds", "body": "Refunds take five days.", "locale": "en"}
WIDGET = {"channel": "chat", "provider": "widget", "address": "acme-web", "name": "Acme website"}
CONNECTOR = {"name": "CRM", "url_template": "https://crm.example.com/c/{customer.id}"}


def writing(page: httpx.Response) -> dict[str, str]:
    """The headers the console's scripts send with a write."""
    return {**ENGLISH, "X-CSRF-Token": admin_config(page)["csrf"]}


async def test_an_admin_gets_the_three_sections_and_the_api_lets_them_write(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await signed_in(client, ctx, Role.ADMIN)

    pages = {name: await client.get(f"/admin/{name}", headers=ENGLISH) for name in NEW}

    for name, page in pages.items():
        assert page.status_code == 200
        assert admin_config(page)["section"] == name
        assert f'href="/admin/{name}" data-section="{name}" aria-current="page"' in page.text
    config = admin_config(pages["knowledge"])
    assert [s for s in nav_links(pages["knowledge"]) if s in NEW] == list(NEW)
    assert {k: config["can"][k] for k in ("knowledge", "connectors", "directory")} == {
        "knowledge": True,
        "connectors": True,
        "directory": True,
    }
    assert "<h1>Knowledge base</h1>" in pages["knowledge"].text
    assert "<h1>Channel accounts</h1>" in pages["channels"].text
    assert "<h1>Connectors</h1>" in pages["connectors"].text
    texts = config["texts"]
    assert texts["knowledge"]["publish"] == "Publish"
    assert texts["connector"]["statuses"]["timeout"] == "It did not answer in time."
    assert texts["channel"]["providers"]["widget"] == "Chat widget"
    headers = writing(pages["knowledge"])
    for path, body in (
        ("/api/v1/knowledge/articles", ARTICLE),
        ("/api/v1/channel-accounts", WIDGET),
        ("/api/v1/connectors", CONNECTOR),
    ):
        assert (await client.post(path, json=body, headers=headers)).status_code == 201, path
    for module in NEW:
        script = await client.get(f"/static/admin/{module}.js")
        assert script.status_code == 200
        assert f"export async function mount{module.capitalize()}" in script.text


async def test_a_supervisor_writes_articles_reads_channels_and_is_not_offered_connectors(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await signed_in(client, ctx, Role.SUPERVISOR)

    knowledge = await client.get("/admin/knowledge", headers=ENGLISH)
    channels = await client.get("/admin/channels", headers=ENGLISH)
    connectors = await client.get("/admin/connectors", headers=ENGLISH)

    assert admin_config(knowledge)["can"]["knowledge"] is True
    assert admin_config(channels)["section"] == "channels"
    assert admin_config(channels)["can"]["directory"] is False  # read only
    assert admin_config(connectors)["section"] == "queues"  # a section they may not open
    assert admin_config(connectors)["can"]["connectors"] is False
    assert "connectors" not in nav_links(knowledge)
    assert {"knowledge", "channels"} <= set(nav_links(knowledge))
    headers = writing(knowledge)
    article = await client.post("/api/v1/knowledge/articles", json=ARTICLE, headers=headers)
    account = await client.post("/api/v1/channel-accounts", json=WIDGET, headers=headers)
    listed = await client.get("/api/v1/channel-accounts", headers=ENGLISH)
    connector_list = await client.get("/api/v1/connectors", headers=ENGLISH)
    assert article.status_code == 201
    assert account.status_code == 403
    assert listed.status_code == 200
    assert connector_list.status_code == 403


async def test_the_new_sections_speak_french(client: httpx.AsyncClient, ctx: AppContext) -> None:
    await signed_in(client, ctx, Role.ADMIN, locale="fr")

    page = await client.get("/admin/knowledge", headers=ENGLISH)

    texts = admin_config(page)["texts"]
    assert "<h1>Base de connaissances</h1>" in page.text
    assert ">Comptes de canaux</a>" in page.text
    assert ">Connecteurs</a>" in page.text
    assert texts["knowledge"]["draft"] == "Brouillon"
    assert texts["channel"]["secret_stored"].startswith("Un identifiant secret est enregistré")
    assert texts["connector"]["try"] == "Essayer"
