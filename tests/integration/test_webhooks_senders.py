"""Who wrote, and to which of our addresses, over real HTTP webhooks: senders whose
numbers do not parse are each their own customer (and answers go to each), and a
message to an address we have no account for is routed to the configured default
queue and counted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from opencx.features.channels.outbound import send_queued_message
from opencx.features.context import AppContext
from opencx.settings import ServerSettings, TwilioSettings
from opencx.web import create_app
from tests.conftest import Caller
from tests.integration.messaging_providers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Providers,
    serve_providers,
)
from tests.integration.twilio_webhooks import PUBLIC_URL, post_sms

API = "/api/v1"
OUR_NUMBER = "+33644600000"


@pytest.fixture
async def providers() -> AsyncIterator[Providers]:
    async with serve_providers() as doubles:
        yield doubles


@pytest.fixture
async def api(ctx: AppContext, providers: Providers) -> AsyncIterator[httpx.AsyncClient]:
    ctx.settings.server = ServerSettings(public_url=PUBLIC_URL)
    ctx.settings.twilio = TwilioSettings(
        account_sid=ACCOUNT_SID,
        auth_token=SecretStr(AUTH_TOKEN),
        api_base=providers.url,
        timeout_seconds=5,
    )
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def sms_account(api: httpx.AsyncClient, admin: Caller, **more: object) -> None:
    account = {"channel": "sms", "provider": "twilio", "address": OUR_NUMBER, "name": "SMS"}
    created = await api.post(
        f"{API}/channel-accounts", json={**account, **more}, headers=admin.headers
    )
    assert created.status_code == 201, created.text


async def test_senders_whose_numbers_do_not_parse_are_each_their_own_customer(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    await sms_account(api, admin)
    for sender, text in (("12345", "I am the first"), ("+999123456789", "I am the second")):
        response = await post_sms(api, AUTH_TOKEN, sender=sender, to=OUR_NUMBER, body=text)
        assert response.status_code == 200, response.text

    page = (await api.get(f"{API}/conversations", headers=admin.headers)).json()["items"]
    assert len(page) == 2
    customers = {c["customer_id"] for c in page}
    assert len(customers) == 2
    identities = set()
    for customer_id in customers:
        found = (await api.get(f"{API}/customers/{customer_id}", headers=admin.headers)).json()
        identities |= {(i["kind"], i["value"]) for i in found["identities"]}
    assert identities == {("phone", "12345"), ("phone", "+999123456789")}

    # An answer in the first stranger's conversation goes to the first stranger only.
    texts = {c["id"]: _last_text(await _messages(api, admin, c["id"])) for c in page}
    first = next(c for c in page if "first" in texts[c["id"]])
    sent = await api.post(
        f"{API}/conversations/{first['id']}/messages",
        json={
            "channel": "sms",
            "direction": "outbound",
            "author_kind": "agent",
            "body_text": "For you",
        },
        headers=admin.headers,
    )
    assert sent.status_code == 201, sent.text
    assert await send_queued_message(ctx, int(sent.json()["id"]))
    (call,) = providers.calls
    assert call.form["To"] == ["12345"]
    assert call.form["From"] == [OUR_NUMBER]


async def _messages(
    api: httpx.AsyncClient, admin: Caller, conversation_id: int
) -> list[dict[str, Any]]:
    response = await api.get(
        f"{API}/conversations/{conversation_id}/messages", headers=admin.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _last_text(messages: list[dict[str, Any]]) -> str:
    return str(messages[-1]["body_text"])
