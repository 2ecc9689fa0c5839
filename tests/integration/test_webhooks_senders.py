"""Who wrote, and to which of our addresses, over real HTTP webhooks: senders whose
numbers do not parse are each their own customer (and answers go to each), and a
message to an address we have no account for is routed to the configured default
queue and counted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from opencx.core.enums import Role
from opencx.features.context import AppContext, transaction
from opencx.features.delivery.outbox import send_queued_message
from opencx.features.routing.commands import CommandKind, await_outcome, enqueue
from opencx.features.routing.engine import routing_service
from opencx.settings import IntakeSettings, ServerSettings, TwilioSettings
from opencx.web import create_app
from tests.conftest import Caller, MakeCaller
from tests.integration.messaging_providers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Providers,
    providers_on,
)
from tests.integration.test_routing_api import call, eventually
from tests.integration.twilio_webhooks import PUBLIC_URL, post_sms

pytestmark = pytest.mark.timeout(60)

API = "/api/v1"
OUR_NUMBER = "+33644600000"


@pytest.fixture
async def providers(ctx: AppContext) -> AsyncIterator[Providers]:
    async with providers_on(ctx) as doubles:
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


@pytest.fixture
async def router(ctx: AppContext) -> AsyncIterator[None]:
    """The server's routing service, on the test's event loop and database."""
    service = asyncio.create_task(routing_service(ctx))
    async with transaction(ctx) as session:
        ready = await enqueue(session, ctx, CommandKind.RELOAD)
    await await_outcome(ctx, ready.id)
    yield
    service.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await service


async def test_a_message_to_an_unknown_number_is_offered_from_the_default_queue_and_counted(
    api: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    ctx: AppContext,
    router: None,
) -> None:
    site = await call(api, admin, "POST", "/sites", {"name": "Lyon"}, expect=201)
    queue = await call(
        api,
        admin,
        "POST",
        "/queues",
        {"name": "Strays", "channel": "sms", "site_id": site["id"]},
        expect=201,
    )
    agent = await make_caller(Role.AGENT, site_id=site["id"])
    me = agent.user.id
    await call(api, agent, "PUT", f"/users/{me}/presence", {"state": "available"})
    ctx.settings.intake = IntakeSettings(unknown_account_queue_id=queue["id"])
    await sms_account(api, admin)  # an account, but not at the number written to

    response = await post_sms(api, AUTH_TOKEN, sender="+33612345678", to="+33699999999")
    assert response.status_code == 200, response.text

    (conversation,) = (await call(api, admin, "GET", "/conversations"))["items"]
    assert conversation["queue_id"] == queue["id"]

    async def offered() -> list[dict[str, Any]] | None:
        page = await call(api, agent, "GET", "/reservations", params={"state": "pending"})
        return page["items"] or None

    (offer,) = await eventually(offered, "an offer of the stray SMS")
    assert offer["worker_id"] == me
    metrics = (await api.get("/metrics")).text
    assert (
        'opencx_inbound_unknown_account_total{channel="sms",outcome="default_queue",'
        'provider="twilio"} 1.0'
    ) in metrics


async def test_without_a_default_queue_a_stray_message_is_kept_and_counted(
    api: httpx.AsyncClient, admin: Caller
) -> None:
    response = await post_sms(api, AUTH_TOKEN, sender="+33612345678", to="+33699999999")
    assert response.status_code == 200, response.text
    (conversation,) = (await call(api, admin, "GET", "/conversations"))["items"]
    assert conversation["queue_id"] is None
    metrics = (await api.get("/metrics")).text
    assert (
        'opencx_inbound_unknown_account_total{channel="sms",outcome="unrouted",'
        'provider="twilio"} 1.0'
    ) in metrics
