"""Answers on SMS, WhatsApp, Messenger and Instagram, sent through Twilio's and Meta's
APIs (documented doubles over real HTTP, ``messaging_providers``): the customer writes
in through the recorded webhooks, an agent answers through the API, the sending job
delivers, and the provider's id, retries, failures and the 24-hour window show on the
message."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from opencx.core.enums import Channel
from opencx.core.events import EventType
from opencx.features.context import AppContext
from opencx.features.conversations.messages import SEND_JOB, SENDABLE
from opencx.features.delivery.outbox import (
    CLAIM,
    SENDERS,
    claim_timeout,
    queued_message_ids,
    send_queued_message,
)
from opencx.features.transports import SharedHttp
from opencx.jobs.channels import send_message, send_queued_messages
from opencx.settings import MetaSettings, ServerSettings, TwilioSettings
from opencx.testing import FakeClock, RecordingJobQueue, RecordingPublisher
from opencx.web import create_app
from tests.conftest import Caller
from tests.integration.messaging_providers import (
    ACCESS_TOKEN,
    ACCOUNT_SID,
    AUTH_TOKEN,
    Providers,
    meta_error_body,
    providers_on,
    serve_providers,
    twilio_error_body,
)

API = "/api/v1"
PAYLOADS = Path(__file__).parents[1] / "unit" / "providers"
META_SECRET = "meta-test-app-secret-0123456789"
STATUS_CALLBACK = "https://support.example.com/webhooks/twilio/sms/status"
#: The message the recorded WhatsApp read receipt is about.
READ_WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0QTk5RkY2QzQ5QzY5NzY1QjgA"
WHATSAPP_NUMBER_ID = "106540352242922"


@pytest.fixture
async def providers(ctx: AppContext) -> AsyncIterator[Providers]:
    async with providers_on(ctx) as doubles:
        yield doubles


@pytest.fixture
async def api(ctx: AppContext, providers: Providers) -> AsyncIterator[httpx.AsyncClient]:
    ctx.settings.server = ServerSettings(public_url="https://support.example.com")
    ctx.settings.meta = MetaSettings(
        app_secret=SecretStr(META_SECRET),
        verify_token=SecretStr("meatyhamhock"),
        access_token=SecretStr(ACCESS_TOKEN),
        graph_base=providers.url,
        timeout_seconds=5,
    )
    ctx.settings.twilio = TwilioSettings(
        account_sid=ACCOUNT_SID,
        auth_token=SecretStr(AUTH_TOKEN),
        api_base=providers.url,
        status_callback_url=STATUS_CALLBACK,
        timeout_seconds=5,
    )
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def webhook(api: httpx.AsyncClient, provider: str, name: str) -> None:
    """Deliver a recorded, signed provider request as the provider would."""
    folder = PAYLOADS / provider / "payloads"
    spec = json.loads((folder / f"{name}.request.json").read_text(encoding="utf-8"))
    headers = {k: v for k, v in spec["headers"].items() if k.lower() != "content-length"}
    body = (folder / spec["body_file"]).read_bytes()
    path = httpx.URL(spec["url"]).raw_path.decode()
    response = await api.post(path, content=body, headers=headers)
    assert response.status_code in (200, 204), response.text


async def customer_writes(
    api: httpx.AsyncClient, admin: Caller, *, channel: str, provider: str, address: str, name: str
) -> int:
    """Configure the account, deliver the customer's recorded message; the conversation."""
    account = {"channel": channel, "provider": provider, "address": address, "name": "Support"}
    created = await api.post(f"{API}/channel-accounts", json=account, headers=admin.headers)
    assert created.status_code == 201, created.text
    await webhook(api, provider, name)
    (conversation,) = (await api.get(f"{API}/conversations", headers=admin.headers)).json()["items"]
    return int(conversation["id"])


async def answer(
    api: httpx.AsyncClient, caller: Caller, conversation_id: int, channel: str, **extra: Any
) -> httpx.Response:
    body = {"channel": channel, "direction": "outbound", "author_kind": "agent", **extra}
    body.setdefault("body_text", "Yes, it comes in blue.")
    return await api.post(
        f"{API}/conversations/{conversation_id}/messages", json=body, headers=caller.headers
    )


async def message(api: httpx.AsyncClient, caller: Caller, message_id: int) -> dict[str, Any]:
    response = await api.get(f"{API}/messages/{message_id}", headers=caller.headers)
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


async def whatsapp_answer(api: httpx.AsyncClient, admin: Caller) -> int:
    cid = await whatsapp_conversation(api, admin)
    sent = await answer(api, admin, cid, "whatsapp")
    assert sent.status_code == 201, sent.text
    return int(sent.json()["id"])


async def sms_answer(api: httpx.AsyncClient, admin: Caller, text: str = "Elle part demain.") -> int:
    cid = await sms_conversation(api, admin)
    sent = await answer(api, admin, cid, "sms", body_text=text)
    assert sent.status_code == 201, sent.text
    return int(sent.json()["id"])


async def whatsapp_conversation(api: httpx.AsyncClient, admin: Caller) -> int:
    return await customer_writes(
        api,
        admin,
        channel="whatsapp",
        provider="meta",
        address=WHATSAPP_NUMBER_ID,
        name="whatsapp_text_message",
    )


async def twilio_whatsapp_conversation(api: httpx.AsyncClient, admin: Caller) -> int:
    """The recorded WhatsApp message through Twilio's sandbox number."""
    return await customer_writes(
        api,
        admin,
        channel="whatsapp",
        provider="twilio",
        address="+14155238886",
        name="whatsapp_inbound",
    )


async def sms_conversation(api: httpx.AsyncClient, admin: Caller) -> int:
    return await customer_writes(
        api,
        admin,
        channel="sms",
        provider="twilio",
        address="+33644600000",
        name="sms_inbound_fr_utf8",
    )


async def messenger_conversation(api: httpx.AsyncClient, admin: Caller) -> int:
    """The recorded Messenger message to page 104612345678901 from user 6789012345678901."""
    return await customer_writes(
        api,
        admin,
        channel="messenger",
        provider="meta",
        address="104612345678901",
        name="messenger_text_message",
    )


def delivery_events(publisher: RecordingPublisher, message_id: int) -> list[dict[str, Any]]:
    return [
        e.payload
        for e in publisher.events
        if e.type is EventType.MESSAGE_DELIVERY_CHANGED and e.entity_id == message_id
    ]


def test_every_sendable_channel_has_a_sender() -> None:
    assert set(SENDERS) == SENDABLE
    # Web chat is delivered to the visitor's browser, not sent by a provider; voice is
    # not written.
    assert Channel.CHAT not in SENDERS
    assert Channel.VOICE not in SENDERS


async def test_a_whatsapp_answer_through_meta_is_delivered_then_read(
    api: httpx.AsyncClient,
    admin: Caller,
    ctx: AppContext,
    providers: Providers,
    publisher: RecordingPublisher,
) -> None:
    providers.next_ids.append(READ_WAMID)
    message_id = await whatsapp_answer(api, admin)
    assert (await message(api, admin, message_id))["delivery_status"] == "queued"
    assert isinstance(ctx.jobs, RecordingJobQueue)
    assert [(j.task, j.args) for j in ctx.jobs.jobs] == [(SEND_JOB, {"message_id": message_id})]

    await send_message(ctx, message_id=message_id)  # what the deferred job runs

    (call,) = providers.calls
    assert call.path == f"/v21.0/{WHATSAPP_NUMBER_ID}/messages"
    assert call.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "text",
        "text": {"preview_url": False, "body": "Yes, it comes in blue."},
    }
    sent = await message(api, admin, message_id)
    assert sent["delivery_status"] == "sent"
    assert sent["provider_message_id"] == READ_WAMID
    assert sent["metadata"]["provider"] == "meta"
    assert CLAIM not in sent["metadata"]

    await webhook(api, "meta", "whatsapp_status_read")
    assert (await message(api, admin, message_id))["delivery_status"] == "read"
    assert [e["status"] for e in delivery_events(publisher, message_id)] == ["sent", "read"]


async def test_an_sms_answer_through_twilio_stores_its_sid(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    message_id = await sms_answer(api, admin, "Elle part demain, désolé du retard 🙏")
    assert await send_queued_message(ctx, message_id)

    (call,) = providers.calls
    assert call.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert call.form == {
        "To": ["+33612345678"],
        "From": ["+33644600000"],
        "Body": ["Elle part demain, désolé du retard 🙏"],
        "StatusCallback": [STATUS_CALLBACK],
    }
    sent = await message(api, admin, message_id)
    assert sent["delivery_status"] == "sent"
    assert sent["provider_message_id"].startswith("SM")
    assert sent["metadata"]["to"] == "+33612345678"
    assert providers.refused == 0


@pytest.mark.parametrize(("provider", "write"), [("twilio", sms_answer), ("meta", whatsapp_answer)])
async def test_an_answer_reaches_the_provider_over_real_http_through_the_shared_pool(
    api: httpx.AsyncClient,
    admin: Caller,
    ctx: AppContext,
    providers: Providers,
    provider: str,
    write: Callable[[httpx.AsyncClient, Caller], Awaitable[int]],
) -> None:
    """The process's own transport, not the test's: the doubles on a local port."""
    async with serve_providers() as network:
        ctx.http = SharedHttp()
        ctx.settings.twilio = ctx.settings.twilio.model_copy(update={"api_base": network.url})
        ctx.settings.meta = ctx.settings.meta.model_copy(update={"graph_base": network.url})
        message_id = await write(api, admin)
        try:
            assert await send_queued_message(ctx, message_id)
        finally:
            await ctx.http.aclose()

    assert [call.provider for call in network.calls] == [provider]
    assert providers.calls == []
    sent = await message(api, admin, message_id)
    assert sent["delivery_status"] == "sent"
    assert sent["provider_message_id"]


async def test_a_whatsapp_answer_through_twilio_uses_whatsapp_addresses(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    cid = await twilio_whatsapp_conversation(api, admin)
    sent = await answer(api, admin, cid, "whatsapp", body_text="C'est modifié.")
    assert await send_queued_message(ctx, sent.json()["id"])
    (call,) = providers.calls
    assert call.form["To"] == ["whatsapp:+33612345678"]
    assert call.form["From"] == ["whatsapp:+14155238886"]


async def test_a_messenger_answer_goes_to_the_page_scoped_user(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    cid = await messenger_conversation(api, admin)
    sent = await answer(api, admin, cid, "messenger", body_text="Elle arrive demain.")
    assert await send_queued_message(ctx, sent.json()["id"])
    (call,) = providers.calls
    assert call.path == "/v21.0/104612345678901/messages"
    assert call.json == {
        "recipient": {"id": "6789012345678901"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Elle arrive demain."},
    }
    stored = await message(api, admin, sent.json()["id"])
    assert stored["provider_message_id"].startswith("m_")
    assert (stored["metadata"]["psid"], stored["metadata"]["page_id"]) == (
        "6789012345678901",
        "104612345678901",
    )


async def test_a_server_error_is_retried_with_backoff(
    api: httpx.AsyncClient,
    admin: Caller,
    ctx: AppContext,
    clock: FakeClock,
    providers: Providers,
    publisher: RecordingPublisher,
) -> None:
    message_id = await whatsapp_answer(api, admin)
    transient = meta_error_body(
        2, "An unexpected error has occurred. Please retry your request later.", is_transient=True
    )
    providers.fail_next.append((500, transient))

    assert not await send_queued_message(ctx, message_id)
    waiting = await message(api, admin, message_id)
    assert waiting["delivery_status"] == "queued"
    assert waiting["metadata"]["attempts"] == "1"
    assert "Meta error 2" in waiting["metadata"]["last_error"]
    assert await queued_message_ids(ctx) == []
    assert not await send_queued_message(ctx, message_id)  # not due: nothing sent
    clock.advance(29)
    assert await queued_message_ids(ctx) == []
    clock.advance(1)
    assert await queued_message_ids(ctx) == [message_id]

    await send_queued_messages(ctx)  # the sweep

    assert len(providers.calls) == 2
    assert (await message(api, admin, message_id))["delivery_status"] == "sent"
    assert [e["status"] for e in delivery_events(publisher, message_id)] == ["sent"]


async def test_rate_limits_are_retried_until_the_attempts_run_out(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, clock: FakeClock, providers: Providers
) -> None:
    ctx.settings.twilio.max_attempts = 3
    message_id = await sms_answer(api, admin)
    for _ in range(3):
        providers.fail_next.append((429, twilio_error_body(429, 20429, "Too Many Requests")))
    for delay in (30, 60):
        assert not await send_queued_message(ctx, message_id)
        clock.advance(delay)
    assert not await send_queued_message(ctx, message_id)

    failed = await message(api, admin, message_id)
    assert failed["delivery_status"] == "failed"
    assert failed["delivery_error"] == "Twilio error 20429: Too Many Requests (HTTP 429)"
    assert failed["metadata"]["attempts"] == "3"
    assert len(providers.calls) == 3
    clock.advance(3600)
    assert await queued_message_ids(ctx) == []


@pytest.mark.parametrize(
    ("provider", "status", "body", "error"),
    [
        (
            "twilio",
            400,
            twilio_error_body(400, 21610, "Attempt to send to unsubscribed recipient"),
            "Twilio error 21610: Attempt to send to unsubscribed recipient (HTTP 400)",
        ),
        (
            "meta",
            400,
            meta_error_body(
                131047,
                "(#131047) Re-engagement message",
                error_data={
                    "messaging_product": "whatsapp",
                    "details": "Message failed to send because more than 24 hours have passed "
                    "since the customer last replied to this number.",
                },
            ),
            "outside the 24-hour customer-care window: only an approved template may be sent. "
            "Meta error 131047: (#131047) Re-engagement message: Message failed to send because "
            "more than 24 hours have passed since the customer last replied to this number. "
            "(HTTP 400)",
        ),
    ],
)
async def test_a_permanent_refusal_fails_at_once_with_the_providers_message(
    api: httpx.AsyncClient,
    admin: Caller,
    ctx: AppContext,
    clock: FakeClock,
    providers: Providers,
    publisher: RecordingPublisher,
    provider: str,
    status: int,
    body: dict[str, Any],
    error: str,
) -> None:
    message_id = await (sms_answer if provider == "twilio" else whatsapp_answer)(api, admin)
    providers.fail_next.append((status, body))

    assert not await send_queued_message(ctx, message_id)

    failed = await message(api, admin, message_id)
    assert failed["delivery_status"] == "failed"
    assert failed["delivery_error"] == error
    assert failed["provider_message_id"] is None
    assert delivery_events(publisher, message_id) == [
        {
            "conversation_id": failed["conversation_id"],
            "status": "failed",
            "previous": "queued",
            "error": error,
        }
    ]
    clock.advance(24 * 3600)
    assert await queued_message_ids(ctx) == []
    assert len(providers.calls) == 1


async def test_two_concurrent_attempts_make_one_call(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    message_id = await whatsapp_answer(api, admin)
    providers.hold = asyncio.Event()
    first = asyncio.create_task(send_queued_message(ctx, message_id))
    await providers.wait_for_calls(1)  # the first attempt's request is at Meta

    assert not await send_queued_message(ctx, message_id)  # claimed: left alone
    assert await queued_message_ids(ctx) == []  # and the sweep leaves it too
    providers.hold.set()
    assert await first
    both = await asyncio.gather(*(send_queued_message(ctx, message_id) for _ in range(2)))

    assert both == [False, False]
    assert len(providers.calls) == 1
    assert (await message(api, admin, message_id))["delivery_status"] == "sent"


async def test_racing_attempts_on_a_fresh_message_make_one_call(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    message_id = await sms_answer(api, admin)
    results = await asyncio.gather(*(send_queued_message(ctx, message_id) for _ in range(3)))
    assert sorted(results) == [False, False, True]
    assert len(providers.calls) == 1


async def test_an_attempt_that_never_finished_is_retried_after_the_claim_times_out(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, clock: FakeClock, providers: Providers
) -> None:
    message_id = await whatsapp_answer(api, admin)
    providers.hold = asyncio.Event()
    worker = asyncio.create_task(send_queued_message(ctx, message_id))
    await providers.wait_for_calls(1)
    worker.cancel()  # the worker dies after its request left
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    providers.hold.set()
    providers.hold = None

    assert await queued_message_ids(ctx) == []
    clock.advance(claim_timeout(ctx.settings).total_seconds() - 1)
    assert await queued_message_ids(ctx) == []
    clock.advance(1)
    assert await queued_message_ids(ctx) == [message_id]
    await send_queued_messages(ctx)

    # At least once: the provider may have taken the first request too.
    assert len(providers.calls) == 2
    sent = await message(api, admin, message_id)
    assert sent["delivery_status"] == "sent"
    assert sent["metadata"]["attempts"] == "1"
    assert sent["metadata"]["last_error"] == "an earlier attempt did not finish; sending again"


async def test_without_credentials_nothing_is_attempted(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    ctx.settings.meta.access_token = None
    ctx.settings.twilio.account_sid = None
    message_id = await whatsapp_answer(api, admin)
    before = await message(api, admin, message_id)

    assert not await send_queued_message(ctx, message_id)
    await send_queued_messages(ctx)

    assert providers.calls == []
    assert await message(api, admin, message_id) == before  # queued, untouched
    ctx.settings.meta.access_token = SecretStr(ACCESS_TOKEN)
    await send_queued_messages(ctx)  # configured later: the sweep sends it
    assert (await message(api, admin, message_id))["delivery_status"] == "sent"


async def test_a_message_for_the_unconfigured_provider_waits_without_an_attempt(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    ctx.settings.meta.access_token = None  # Twilio alone is configured
    message_id = await whatsapp_answer(api, admin)
    assert not await send_queued_message(ctx, message_id)
    waiting = await message(api, admin, message_id)
    assert waiting["delivery_status"] == "queued"
    assert "attempts" not in waiting["metadata"]
    assert CLAIM not in waiting["metadata"]
    assert await queued_message_ids(ctx) == [message_id]
    assert providers.calls == []


async def test_an_answer_with_nobody_to_answer_fails_at_once(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    cid = await customer_writes(
        api,
        admin,
        channel="sms",
        provider="twilio",
        address="+33644600000",
        name="sms_inbound_fr_utf8",
    )
    # An integration stores the customer's next SMS itself: no provider address in it.
    stored = await api.post(
        f"{API}/conversations/{cid}/messages",
        json={
            "channel": "sms",
            "direction": "inbound",
            "author_kind": "customer",
            "body_text": "Merci",
        },
        headers=admin.headers,
    )
    assert stored.status_code == 201
    sent = await answer(api, admin, cid, "sms")

    assert not await send_queued_message(ctx, sent.json()["id"])

    failed = await message(api, admin, sent.json()["id"])
    assert failed["delivery_status"] == "failed"
    assert failed["delivery_error"] == (
        "the customer's last sms message did not come through Twilio or Meta: "
        "there is no address to answer it"
    )
    assert providers.calls == []
    never_wrote = await answer(api, admin, cid, "instagram")
    assert never_wrote.status_code == 409
    assert "has not written on Instagram" in never_wrote.json()["detail"]


async def test_outside_the_window_only_a_template_goes_out(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, clock: FakeClock, providers: Providers
) -> None:
    wrote_at = clock.now()
    cid = await customer_writes(
        api,
        admin,
        channel="whatsapp",
        provider="meta",
        address=WHATSAPP_NUMBER_ID,
        name="whatsapp_text_message",
    )
    clock.advance(24 * 3600)
    messages_url = f"{API}/conversations/{cid}/messages"
    before = len((await api.get(messages_url, headers=admin.headers)).json()["items"])

    refused = await answer(api, admin, cid, "whatsapp")

    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert "24-hour customer-care window on WhatsApp is closed" in problem["detail"]
    assert "only an approved template may be sent" in problem["detail"]
    assert problem["channel"] == "whatsapp"
    assert problem["window_closed_at"] == (wrote_at + timedelta(hours=24)).isoformat()
    assert len((await api.get(messages_url, headers=admin.headers)).json()["items"]) == before

    template = {"name": "order_update", "language": "fr", "parameters": ["48213", "lundi"]}
    sent = await answer(api, admin, cid, "whatsapp", body_text="", template=template)
    assert sent.status_code == 201, sent.text
    assert sent.json()["metadata"] == {
        "template": "order_update",
        "template_language": "fr",
        "template_params": '["48213", "lundi"]',
    }
    assert await send_queued_message(ctx, sent.json()["id"])
    (call,) = providers.calls
    assert call.json["type"] == "template"
    assert call.json["template"] == {
        "name": "order_update",
        "language": {"code": "fr"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "48213"},
                    {"type": "text", "text": "lundi"},
                ],
            }
        ],
    }


async def test_an_agent_answers_on_messenger_for_seven_days_with_the_human_agent_tag(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, clock: FakeClock, providers: Providers
) -> None:
    wrote_at = clock.now()
    cid = await messenger_conversation(api, admin)
    clock.advance(3 * 24 * 3600)
    # Without Meta's Human Agent permission, nobody answers after 24 hours.
    refused = await answer(api, admin, cid, "messenger")
    assert refused.status_code == 409
    assert "OPENCX_META__HUMAN_AGENT_TAG" in refused.json()["detail"]

    ctx.settings.meta.human_agent_tag = True
    windows = (
        await api.get(f"{API}/conversations/{cid}/reply-windows", headers=admin.headers)
    ).json()
    messenger = next(w for w in windows if w["channel"] == "messenger")
    assert (messenger["open"], messenger["human_agent_open"]) == (False, True)
    assert messenger["human_agent_closes_at"] == (
        (wrote_at + timedelta(days=7)).isoformat().replace("+00:00", "Z")
    )
    whatsapp = next(w for w in windows if w["channel"] == "whatsapp")
    assert (whatsapp["human_agent_open"], whatsapp["human_agent_closes_at"]) == (False, None)

    by_bot = await answer(api, admin, cid, "messenger", author_kind="bot")
    assert by_bot.status_code == 409  # the tag is for people only
    sent = await answer(api, admin, cid, "messenger", body_text="Toujours là ?")
    assert sent.status_code == 201, sent.text
    assert await send_queued_message(ctx, sent.json()["id"])
    (call,) = providers.calls
    assert call.json == {
        "recipient": {"id": "6789012345678901"},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "Toujours là ?"},
    }

    clock.advance(4 * 24 * 3600)  # 7 days since the customer wrote
    closed = await answer(api, admin, cid, "messenger")
    assert closed.status_code == 409
    assert "7-day human-agent window on Messenger is closed" in closed.json()["detail"]
    assert closed.json()["window_closed_at"] == (wrote_at + timedelta(days=7)).isoformat()


async def test_inside_the_window_a_messenger_answer_is_a_plain_response(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    ctx.settings.meta.human_agent_tag = True
    cid = await messenger_conversation(api, admin)
    sent = await answer(api, admin, cid, "messenger")
    assert await send_queued_message(ctx, sent.json()["id"])
    (call,) = providers.calls
    assert call.json["messaging_type"] == "RESPONSE"
    assert "tag" not in call.json


async def test_a_template_through_twilio_is_its_content_sid(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, clock: FakeClock, providers: Providers
) -> None:
    cid = await twilio_whatsapp_conversation(api, admin)
    clock.advance(30 * 3600)
    template = {
        "name": "HXb5b62575e6e4ff6129ad7c8efe1f983e",
        "language": "fr",
        "parameters": ["48213"],
    }
    sent = await answer(api, admin, cid, "whatsapp", template=template)
    assert await send_queued_message(ctx, sent.json()["id"])
    (call,) = providers.calls
    assert call.form["ContentSid"] == ["HXb5b62575e6e4ff6129ad7c8efe1f983e"]
    assert json.loads(call.form["ContentVariables"][0]) == {"1": "48213"}
    assert "Body" not in call.form

    # Twilio would refuse a template named otherwise: it is refused when written.
    named = await answer(api, admin, cid, "whatsapp", template={"name": "hi", "language": "fr"})
    assert named.status_code == 422
    assert named.headers["content-type"] == "application/problem+json"
    assert "Content SID" in named.json()["detail"]
    listed = await api.get(f"{API}/conversations/{cid}/messages", headers=admin.headers)
    assert [m["metadata"].get("template") for m in listed.json()["items"]].count("hi") == 0
    assert len(providers.calls) == 1


async def test_templates_are_for_outbound_whatsapp_only(
    api: httpx.AsyncClient, admin: Caller
) -> None:
    cid = await customer_writes(
        api,
        admin,
        channel="sms",
        provider="twilio",
        address="+33644600000",
        name="sms_inbound_fr_utf8",
    )
    template = {"name": "order_update", "language": "fr"}
    refused = await answer(api, admin, cid, "sms", template=template)
    assert refused.status_code == 422
    bad_language = await answer(
        api, admin, cid, "whatsapp", template={"name": "order_update", "language": "French"}
    )
    assert bad_language.status_code == 422
    assert bad_language.json()["errors"][0]["field"] == "body.template.language"


async def test_reply_windows_tell_when_a_free_answer_is_allowed(
    api: httpx.AsyncClient, admin: Caller, clock: FakeClock
) -> None:
    wrote_at = clock.now()
    cid = await customer_writes(
        api,
        admin,
        channel="whatsapp",
        provider="meta",
        address=WHATSAPP_NUMBER_ID,
        name="whatsapp_text_message",
    )
    url = f"{API}/conversations/{cid}/reply-windows"
    closes_at = (wrote_at + timedelta(hours=24)).isoformat().replace("+00:00", "Z")

    def expected(open_: bool) -> list[dict[str, Any]]:
        never = {
            "open": False,
            "closes_at": None,
            "last_customer_message_at": None,
            "human_agent_open": False,
            "human_agent_closes_at": None,
        }
        return [
            {
                "channel": "whatsapp",
                "open": open_,
                "closes_at": closes_at,
                "last_customer_message_at": wrote_at.isoformat().replace("+00:00", "Z"),
                "human_agent_open": False,
                "human_agent_closes_at": None,
            },
            {"channel": "messenger", **never},
            {"channel": "instagram", **never},
        ]

    clock.advance(24 * 3600 - 1)
    opened = await api.get(url, headers=admin.headers)
    assert opened.status_code == 200
    assert opened.json() == expected(True)
    clock.advance(1)
    assert (await api.get(url, headers=admin.headers)).json() == expected(False)
    missing = await api.get(
        f"{API}/conversations/{cid + 1000}/reply-windows", headers=admin.headers
    )
    assert missing.status_code == 404
