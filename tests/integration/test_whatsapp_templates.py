"""The catalog of approved WhatsApp templates: admins keep it per WhatsApp account,
agents read the templates of the account a conversation's answer goes through, and an
answer past the 24-hour window fills one in (documented provider doubles over real
HTTP, as in ``test_outbound_messaging``)."""

from __future__ import annotations

import json

import httpx

from opencx.core.enums import Role
from opencx.features.context import AppContext
from opencx.features.delivery.outbox import send_queued_message
from opencx.testing import FakeClock
from tests.conftest import Caller, MakeCaller
from tests.integration import test_outbound_messaging as outbound
from tests.integration.messaging_providers import Providers
from tests.integration.test_outbound_messaging import (
    API,
    answer,
    twilio_whatsapp_conversation,
    whatsapp_conversation,
)

# The provider doubles and the API client over them.
providers, api = outbound.providers, outbound.api

ORDER_UPDATE = {
    "name": "order_update",
    "language": "fr",
    "body": "Bonjour {{1}}, votre commande {{2}} part {{3}}. Merci {{1}} !",
    "category": "utility",
}
TWILIO_SID = "HXb5b62575e6e4ff6129ad7c8efe1f983e"


async def account_id(api: httpx.AsyncClient, admin: Caller, channel: str) -> int:
    listed = await api.get(f"{API}/channel-accounts?channel={channel}", headers=admin.headers)
    (account,) = listed.json()["items"]
    return int(account["id"])


async def test_admins_keep_the_catalog_and_agents_read_the_conversations_templates(
    api: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    cid = await whatsapp_conversation(api, admin)
    account = await account_id(api, admin, "whatsapp")
    url = f"{API}/channel-accounts/{account}/whatsapp-templates"
    agent = await make_caller(Role.AGENT)

    refused = await api.post(url, json=ORDER_UPDATE, headers=agent.headers)
    assert refused.status_code == 403
    created = await api.post(url, json=ORDER_UPDATE, headers=admin.headers)
    assert created.status_code == 201, created.text
    template = created.json()
    assert (template["parameters"], template["account_id"]) == (3, account)
    again = await api.post(url, json=ORDER_UPDATE, headers=admin.headers)
    assert again.status_code == 409
    gap = {**ORDER_UPDATE, "name": "gap", "body": "Hello {{1}} and {{3}}"}
    bad = await api.post(url, json=gap, headers=admin.headers)
    assert bad.status_code == 422
    assert "{{2}} is missing" in bad.json()["errors"][0]["message"]
    other = {**ORDER_UPDATE, "name": "order_update_en", "language": "en_US", "body": "Hi"}
    assert (await api.post(url, json=other, headers=admin.headers)).status_code == 201

    listed = await api.get(url, headers=agent.headers)
    assert [t["name"] for t in listed.json()["items"]] == ["order_update", "order_update_en"]
    offered = await api.get(f"{API}/conversations/{cid}/whatsapp-templates", headers=agent.headers)
    assert offered.status_code == 200
    body = offered.json()
    assert (body["account_id"], body["provider"]) == (account, "meta")
    assert [(t["send_name"], t["language"]) for t in body["templates"]] == [
        ("order_update", "fr"),
        ("order_update_en", "en_US"),
    ]

    one = f"{API}/whatsapp-templates/{template['id']}"
    by_agent = await api.patch(one, json={"is_active": False}, headers=agent.headers)
    assert by_agent.status_code == 403
    patched = await api.patch(one, json={"is_active": False}, headers=admin.headers)
    assert patched.json()["is_active"] is False
    offered = await api.get(f"{API}/conversations/{cid}/whatsapp-templates", headers=agent.headers)
    assert [t["name"] for t in offered.json()["templates"]] == ["order_update_en"]
    assert (await api.delete(one, headers=admin.headers)).status_code == 204
    assert (await api.get(one, headers=admin.headers)).status_code == 404


async def test_only_whatsapp_accounts_have_templates_and_twilio_ones_need_a_content_sid(
    api: httpx.AsyncClient, admin: Caller
) -> None:
    mailbox = {"channel": "email", "provider": "smtp", "address": "s@example.com", "name": "S"}
    mail = (await api.post(f"{API}/channel-accounts", json=mailbox, headers=admin.headers)).json()
    on_mail = await api.post(
        f"{API}/channel-accounts/{mail['id']}/whatsapp-templates",
        json=ORDER_UPDATE,
        headers=admin.headers,
    )
    assert on_mail.status_code == 422
    assert "only WhatsApp accounts have templates" in on_mail.json()["detail"]

    cid = await twilio_whatsapp_conversation(api, admin)
    url = f"{API}/channel-accounts/{await account_id(api, admin, 'whatsapp')}/whatsapp-templates"
    without = await api.post(url, json=ORDER_UPDATE, headers=admin.headers)
    assert without.status_code == 422
    assert without.json()["errors"][0]["field"] == "content_sid"
    with_sid = {**ORDER_UPDATE, "content_sid": TWILIO_SID}
    assert (await api.post(url, json=with_sid, headers=admin.headers)).status_code == 201
    offered = await api.get(f"{API}/conversations/{cid}/whatsapp-templates", headers=admin.headers)
    assert [t["send_name"] for t in offered.json()["templates"]] == [TWILIO_SID]

    # An account's templates go with it.
    (template,) = offered.json()["templates"]
    account = offered.json()["account_id"]
    deleted = await api.delete(f"{API}/channel-accounts/{account}", headers=admin.headers)
    assert deleted.status_code == 204
    one = f"{API}/whatsapp-templates/{template['id']}"
    assert (await api.get(one, headers=admin.headers)).status_code == 404


async def test_past_the_window_an_answer_fills_a_catalog_template(
    api: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    ctx: AppContext,
    clock: FakeClock,
    providers: Providers,
) -> None:
    cid = await whatsapp_conversation(api, admin)
    url = f"{API}/channel-accounts/{await account_id(api, admin, 'whatsapp')}/whatsapp-templates"
    assert (await api.post(url, json=ORDER_UPDATE, headers=admin.headers)).status_code == 201
    clock.advance(25 * 3600)
    agent = await make_caller(Role.AGENT)

    short = {"name": "order_update", "language": "fr", "parameters": ["Ada", "48213"]}
    refused = await answer(api, agent, cid, "whatsapp", body_text="", template=short)
    assert refused.status_code == 422
    assert "takes 3 parameters, not 2" in refused.json()["detail"]

    full = {**short, "parameters": ["Ada", "48213", "lundi"]}
    sent = await answer(api, agent, cid, "whatsapp", body_text="", template=full)
    assert sent.status_code == 201, sent.text
    assert sent.json()["body_text"] == "Bonjour Ada, votre commande 48213 part lundi. Merci Ada !"
    assert await send_queued_message(ctx, sent.json()["id"])
    (call,) = providers.calls
    assert call.json["template"]["name"] == "order_update"
    parameters = call.json["template"]["components"][0]["parameters"]
    assert [p["text"] for p in parameters] == ["Ada", "48213", "lundi"]

    # A template the catalog does not hold still goes as given (integrations).
    unknown = {"name": "elsewhere", "language": "fr", "parameters": ["x"]}
    as_given = await answer(api, agent, cid, "whatsapp", body_text="", template=unknown)
    assert as_given.status_code == 201


async def test_through_twilio_the_catalog_template_is_named_by_its_content_sid(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, clock: FakeClock, providers: Providers
) -> None:
    cid = await twilio_whatsapp_conversation(api, admin)
    url = f"{API}/channel-accounts/{await account_id(api, admin, 'whatsapp')}/whatsapp-templates"
    template = {**ORDER_UPDATE, "body": "Commande {{1}}", "content_sid": TWILIO_SID}
    assert (await api.post(url, json=template, headers=admin.headers)).status_code == 201
    clock.advance(30 * 3600)
    named = {"name": TWILIO_SID, "language": "fr", "parameters": ["48213"]}
    sent = await answer(api, admin, cid, "whatsapp", body_text="", template=named)
    assert sent.status_code == 201, sent.text
    assert sent.json()["body_text"] == "Commande 48213"
    assert await send_queued_message(ctx, sent.json()["id"])
    (call,) = providers.calls
    assert json.loads(call.form["ContentVariables"][0]) == {"1": "48213"}
