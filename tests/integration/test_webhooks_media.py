"""Files customers send through providers, over real HTTP webhooks, with the provider
doubles (``messaging_providers``) holding the files as Twilio and Meta do: the message
first shows each file pending, then the fetch job stores it (the right bytes and
type) or fails it with its reason, and the agent is told."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from opencx.core.enums import Role
from opencx.core.events import EventType
from opencx.features.contacts.media import FETCH_MEDIA_JOB
from opencx.features.context import AppContext, transaction
from opencx.features.routing.commands import CommandKind, await_outcome, enqueue
from opencx.features.routing.engine import routing_service
from opencx.features.transports import SharedHttp
from opencx.jobs.channels import fetch_inbound_media, fetch_pending_media
from opencx.realtime.bus import InProcessBus
from opencx.settings import IntakeSettings, MetaSettings, ServerSettings, TwilioSettings
from opencx.testing import FakeClock, RecordingJobQueue, RecordingPublisher
from opencx.web import create_app
from tests.conftest import Caller, MakeCaller
from tests.integration.messaging_providers import (
    ACCESS_TOKEN,
    ACCOUNT_SID,
    AUTH_TOKEN,
    Providers,
    providers_on,
    serve_providers,
)
from tests.integration.test_websockets import AsgiWebSocket
from tests.integration.twilio_webhooks import PUBLIC_URL, post_sms

pytestmark = pytest.mark.timeout(60)

API = "/api/v1"
META_SECRET = "meta-test-app-secret-0123456789"
OUR_NUMBER = "+33644600000"
WHATSAPP_NUMBER_ID = "106540352242922"
PAGE_ID = "104612345678901"
# Real signatures, as a phone sends them: a PNG, a JPEG and a PDF.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06" + bytes(40)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(60)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
async def providers(ctx: AppContext) -> AsyncIterator[Providers]:
    async with providers_on(ctx) as doubles:
        yield doubles


@pytest.fixture
async def api(ctx: AppContext, providers: Providers) -> AsyncIterator[httpx.AsyncClient]:
    ctx.settings.server = ServerSettings(public_url=PUBLIC_URL)
    ctx.settings.twilio = TwilioSettings(
        account_sid=ACCOUNT_SID, auth_token=SecretStr(AUTH_TOKEN), api_base=providers.url
    )
    ctx.settings.meta = MetaSettings(
        app_secret=SecretStr(META_SECRET),
        access_token=SecretStr(ACCESS_TOKEN),
        graph_base=providers.url,
    )
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def account(
    api: httpx.AsyncClient, admin: Caller, channel: str, provider: str, at: str, **more: Any
) -> None:
    body = {"channel": channel, "provider": provider, "address": at, "name": channel, **more}
    created = await api.post(f"{API}/channel-accounts", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text


async def only_message(api: httpx.AsyncClient, admin: Caller) -> dict[str, Any]:
    (conversation,) = (await api.get(f"{API}/conversations", headers=admin.headers)).json()["items"]
    page = await api.get(
        f"{API}/conversations/{conversation['id']}/messages", headers=admin.headers
    )
    (message,) = page.json()["items"]
    one = await api.get(f"{API}/messages/{message['id']}", headers=admin.headers)
    assert one.status_code == 200, one.text
    data: dict[str, Any] = one.json()
    return data


async def run_fetch_jobs(ctx: AppContext) -> list[int]:
    """Run the fetch jobs deferred so far, as the job runner would; their files."""
    assert isinstance(ctx.jobs, RecordingJobQueue)
    ids = [job.args["attachment_id"] for job in ctx.jobs.jobs if job.task == FETCH_MEDIA_JOB]
    for attachment_id in ids:
        await fetch_inbound_media(ctx, attachment_id=attachment_id)
    return ids


async def content(api: httpx.AsyncClient, admin: Caller, attachment_id: int) -> httpx.Response:
    return await api.get(f"{API}/attachments/{attachment_id}/content", headers=admin.headers)


def attachment_events(publisher: RecordingPublisher) -> list[dict[str, Any]]:
    return [e.payload for e in publisher.events if e.type is EventType.MESSAGE_ATTACHMENT_CHANGED]


async def test_an_mms_with_an_image_and_a_pdf_ends_with_both_files_stored(
    api: httpx.AsyncClient,
    admin: Caller,
    ctx: AppContext,
    providers: Providers,
    publisher: RecordingPublisher,
) -> None:
    await account(api, admin, "sms", "twilio", OUR_NUMBER)
    image, pdf = providers.twilio_media_url("ME1"), providers.twilio_media_url("ME2")
    providers.media[httpx.URL(image).path] = ("image/png", PNG)
    providers.media[httpx.URL(pdf).path] = ("application/pdf", PDF)
    response = await post_sms(
        api,
        AUTH_TOKEN,
        sender="+33612345678",
        to=OUR_NUMBER,
        body="Voici la photo et la facture",
        media=[(image, "image/png"), (pdf, "application/pdf")],
    )
    assert response.status_code == 200, response.text

    # Before the fetch: the message says two files are coming.
    before = await only_message(api, admin)
    assert [(a["status"], a["content_type"], a["size"]) for a in before["attachments"]] == [
        ("pending", "image/png", 0),
        ("pending", "application/pdf", 0),
    ]
    assert (await content(api, admin, before["attachments"][0]["id"])).status_code == 404

    fetched = await run_fetch_jobs(ctx)
    assert sorted(fetched) == sorted(a["id"] for a in before["attachments"])
    after = await only_message(api, admin)
    assert [(a["status"], a["content_type"]) for a in after["attachments"]] == [
        ("stored", "image/png"),
        ("stored", "application/pdf"),
    ]
    assert after["attachments"][0]["filename"] == "ME1.png"
    assert after["attachments"][1]["filename"] == "ME2.pdf"
    for attachment, data in zip(after["attachments"], (PNG, PDF), strict=True):
        assert attachment["size"] == len(data)
        assert attachment["sha256"] == hashlib.sha256(data).hexdigest()
        got = await content(api, admin, attachment["id"])
        assert got.status_code == 200
        assert got.content == data
    # Twilio's media needs the account's credentials.
    assert {auth for _, auth in providers.media_requests} == {
        "Basic " + _b64(f"{ACCOUNT_SID}:{AUTH_TOKEN}")
    }
    assert [e["status"] for e in attachment_events(publisher)] == ["stored", "stored"]

    # A repeated job (at least once) fetches nothing again.
    await run_fetch_jobs(ctx)
    assert len(providers.media_requests) == 2


async def test_a_file_is_fetched_over_real_http_through_the_shared_pool(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    """The process's own transport, not the test's: Twilio's media on a local port."""
    await account(api, admin, "sms", "twilio", OUR_NUMBER)
    async with serve_providers() as network:
        ctx.http = SharedHttp()
        image = network.twilio_media_url("ME1")
        network.media[httpx.URL(image).path] = ("image/png", PNG)
        response = await post_sms(
            api, AUTH_TOKEN, sender="+33612345678", to=OUR_NUMBER, media=[(image, "image/png")]
        )
        assert response.status_code == 200, response.text
        try:
            await run_fetch_jobs(ctx)
        finally:
            await ctx.http.aclose()

    (stored,) = (await only_message(api, admin))["attachments"]
    assert stored["status"] == "stored"
    assert (await content(api, admin, stored["id"])).content == PNG
    assert [path for path, _ in network.media_requests] == [httpx.URL(image).path]
    assert providers.media_requests == []


async def test_a_missing_or_oversized_file_fails_with_its_reason(
    api: httpx.AsyncClient,
    admin: Caller,
    ctx: AppContext,
    providers: Providers,
    publisher: RecordingPublisher,
) -> None:
    ctx.settings.intake = IntakeSettings(media_max_bytes=1000)
    await account(api, admin, "sms", "twilio", OUR_NUMBER)
    gone, large, fake = (providers.twilio_media_url(f"ME{n}") for n in (404, 5, 6))
    providers.media[httpx.URL(large).path] = ("image/jpeg", JPEG + bytes(2000))
    providers.media[httpx.URL(fake).path] = ("image/jpeg", b"<html><script>x</script></html>")
    media = [(gone, "image/jpeg"), (large, "image/jpeg"), (fake, "image/jpeg")]
    response = await post_sms(api, AUTH_TOKEN, sender="+33612345678", to=OUR_NUMBER, media=media)
    assert response.status_code == 200, response.text

    await run_fetch_jobs(ctx)
    message = await only_message(api, admin)
    assert [(a["status"], a["failure_reason"]) for a in message["attachments"]] == [
        ("failed", "the provider answered HTTP 404"),
        ("failed", "the file is larger than 1000 bytes"),
        ("failed", "the file is not the image/jpeg it is declared as"),
    ]
    assert [e["status"] for e in attachment_events(publisher)] == ["failed"] * 3
    metrics = (await api.get("/metrics")).text
    assert 'opencx_inbound_media_total{outcome="failed",provider="twilio"} 3.0' in metrics


async def test_a_provider_error_is_retried_by_the_sweep_then_stored(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers, clock: FakeClock
) -> None:
    await account(api, admin, "sms", "twilio", OUR_NUMBER)
    later = providers.twilio_media_url("ME7")
    response = await post_sms(
        api, AUTH_TOKEN, sender="+33612345678", to=OUR_NUMBER, media=[(later, "image/png")]
    )
    assert response.status_code == 200, response.text
    ctx.settings.twilio = TwilioSettings(account_sid=ACCOUNT_SID, auth_token=SecretStr("wrong"))
    await run_fetch_jobs(ctx)  # 401: Twilio refused the credentials, worth a retry
    (pending,) = (await only_message(api, admin))["attachments"]
    assert pending["status"] == "pending"
    assert pending["failure_reason"] == "the provider answered HTTP 401"

    ctx.settings.twilio = TwilioSettings(account_sid=ACCOUNT_SID, auth_token=SecretStr(AUTH_TOKEN))
    providers.media[httpx.URL(later).path] = ("image/png", PNG)
    await fetch_pending_media(ctx)  # not due yet
    assert (await only_message(api, admin))["attachments"][0]["status"] == "pending"
    clock.advance(60)
    await fetch_pending_media(ctx)
    (stored,) = (await only_message(api, admin))["attachments"]
    assert (stored["status"], stored["size"], stored["failure_reason"]) == (
        "stored",
        len(PNG),
        None,
    )


async def test_a_whatsapp_image_is_fetched_by_media_id_with_the_access_token(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    await account(api, admin, "whatsapp", "meta", WHATSAPP_NUMBER_ID)
    providers.media["/whatsapp-media/1234567890"] = ("image/jpeg", JPEG)
    image = {"id": "1234567890", "mime_type": "image/jpeg", "sha256": "x", "caption": "Cassé"}
    message = {"from": "16505551234", "id": "wamid.IMG1", "timestamp": "1749416383"}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": WHATSAPP_NUMBER_ID},
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
        "messages": [{**message, "type": "image", "image": image}],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    await post_meta(api, body)
    (pending,) = (await only_message(api, admin))["attachments"]
    assert pending["status"] == "pending"

    await run_fetch_jobs(ctx)
    got = await only_message(api, admin)
    assert got["body_text"] == "Cassé"
    (stored,) = got["attachments"]
    assert (stored["status"], stored["content_type"], stored["size"]) == (
        "stored",
        "image/jpeg",
        len(JPEG),
    )
    assert (await content(api, admin, stored["id"])).content == JPEG
    bearer = f"Bearer {ACCESS_TOKEN}"
    assert providers.media_requests == [
        ("/v21.0/1234567890", bearer),
        ("/whatsapp-media/1234567890", bearer),
    ]


async def test_a_messenger_image_is_fetched_from_its_url(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    await account(api, admin, "messenger", "meta", PAGE_ID)
    providers.media["/cdn/v/t1.15752-9/photo.png"] = ("image/png", PNG)
    attachment = {
        "type": "image",
        "payload": {"url": f"{providers.url}/cdn/v/t1.15752-9/photo.png"},
    }
    event = {
        "sender": {"id": "6789012345678901"},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1762264799870,
        "message": {"mid": "m_IMG1", "attachments": [attachment]},
    }
    body = {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": 1762264800123, "messaging": [event]}],
    }
    await post_meta(api, body)
    (pending,) = (await only_message(api, admin))["attachments"]
    assert (pending["status"], pending["filename"]) == ("pending", "photo.png")

    await run_fetch_jobs(ctx)
    (stored,) = (await only_message(api, admin))["attachments"]
    assert (stored["status"], stored["content_type"]) == ("stored", "image/png")
    assert (await content(api, admin, stored["id"])).content == PNG
    assert providers.media_requests == [("/cdn/v/t1.15752-9/photo.png", None)]


async def post_meta(api: httpx.AsyncClient, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(META_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    response = await api.post(
        "/webhooks/meta",
        content=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )
    assert response.status_code == 200, response.text


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_a_known_customers_next_mms_is_fetched_too(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    await account(api, admin, "sms", "twilio", OUR_NUMBER)
    first = await post_sms(api, AUTH_TOKEN, sender="+33612345678", to=OUR_NUMBER, body="Hello")
    assert first.status_code == 200, first.text
    pdf = providers.twilio_media_url("ME8")
    providers.media[httpx.URL(pdf).path] = ("application/pdf", PDF)
    second = await post_sms(
        api, AUTH_TOKEN, sender="+33612345678", to=OUR_NUMBER, media=[(pdf, "application/pdf")]
    )
    assert second.status_code == 200, second.text
    (conversation,) = (await api.get(f"{API}/conversations", headers=admin.headers)).json()["items"]
    page = await api.get(
        f"{API}/conversations/{conversation['id']}/messages", headers=admin.headers
    )
    hello, with_file = page.json()["items"]
    assert hello["attachments"] == []
    assert [a["status"] for a in with_file["attachments"]] == ["pending"]

    await run_fetch_jobs(ctx)
    one = await api.get(f"{API}/messages/{with_file['id']}", headers=admin.headers)
    (stored,) = one.json()["attachments"]
    assert (stored["status"], stored["content_type"], stored["size"]) == (
        "stored",
        "application/pdf",
        len(PDF),
    )


async def test_the_agent_offered_the_conversation_hears_the_file_arrive_over_the_websocket(
    ctx: AppContext, providers: Providers, make_caller: MakeCaller, admin: Caller
) -> None:
    ctx.publisher = InProcessBus()
    app = create_app(ctx)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as api,
        running_router(ctx),
    ):
        ctx.settings.server = ServerSettings(public_url=PUBLIC_URL)
        ctx.settings.twilio = TwilioSettings(
            account_sid=ACCOUNT_SID, auth_token=SecretStr(AUTH_TOKEN), api_base=providers.url
        )
        site = await api.post(f"{API}/sites", json={"name": "Lyon"}, headers=admin.headers)
        queue = await api.post(
            f"{API}/queues",
            json={"name": "SMS", "channel": "sms", "site_id": site.json()["id"]},
            headers=admin.headers,
        )
        assert queue.status_code == 201, queue.text
        await account(api, admin, "sms", "twilio", OUR_NUMBER, queue_id=queue.json()["id"])
        agent = await make_caller(Role.AGENT, site_id=site.json()["id"])
        me = f"{API}/users/{agent.user.id}/presence"
        assert (await api.put(me, json={"state": "available"}, headers=agent.headers)).is_success

        async with AsgiWebSocket(app, f"/ws/agent?token={agent.token}") as ws:
            assert (await ws.receive_json())["type"] == "snapshot"
            image = providers.twilio_media_url("ME9")
            providers.media[httpx.URL(image).path] = ("image/png", PNG)
            response = await post_sms(
                api, AUTH_TOKEN, sender="+33612345678", to=OUR_NUMBER, media=[(image, "image/png")]
            )
            assert response.status_code == 200, response.text
            offered = (await ws.receive_json())["event"]
            assert offered["type"] == "reservation.created"

            await run_fetch_jobs(ctx)
            arrived = (await ws.receive_json())["event"]
            assert arrived["type"] == "message.attachment_changed"
            assert arrived["payload"]["conversation_id"] == offered["payload"]["conversation_id"]
            assert arrived["payload"]["status"] == "stored"
            assert arrived["payload"]["content_type"] == "image/png"


@contextlib.asynccontextmanager
async def running_router(ctx: AppContext) -> AsyncIterator[None]:
    """The server's routing service, on the test's event loop and database."""
    service = asyncio.create_task(routing_service(ctx))
    async with transaction(ctx) as session:
        ready = await enqueue(session, ctx, CommandKind.RELOAD)
    await await_outcome(ctx, ready.id)
    try:
        yield
    finally:
        service.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await service
