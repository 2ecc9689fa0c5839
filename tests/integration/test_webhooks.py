"""Providers' webhooks over HTTP: every documented example is accepted with its
signature, refused with a wrong one (nothing stored), and stored once when delivered
twice; a WhatsApp message becomes a routed conversation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from opencx.core.enums import Channel, DeliveryStatus
from opencx.db.models import Message, RoutingTask
from opencx.features.context import AppContext, transaction
from opencx.settings import MetaSettings, ServerSettings, TwilioSettings
from opencx.web import create_app

PAYLOADS = Path(__file__).parents[1] / "unit" / "providers"
META = sorted(
    p
    for p in (PAYLOADS / "meta" / "payloads").glob("*.request.json")
    if p.name != "verification_request.json"
)
TWILIO_MESSAGES = sorted(
    p
    for p in (PAYLOADS / "twilio" / "payloads").glob("*.request.json")
    if "/webhooks/twilio/sms" in json.loads(p.read_text())["url"]
    or "/webhooks/twilio/whatsapp" in json.loads(p.read_text())["url"]
)
META_SECRET = "meta-test-app-secret-0123456789"


def request_of(path: Path) -> tuple[dict[str, Any], bytes]:
    spec = json.loads(path.read_text())
    return spec, (path.parent / spec["body_file"]).read_bytes()


@pytest.fixture
async def hooks(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    ctx.settings.meta = MetaSettings(
        app_secret=SecretStr(META_SECRET), verify_token=SecretStr("meatyhamhock")
    )
    ctx.settings.twilio = TwilioSettings(auth_token=SecretStr("12345"))
    ctx.settings.server = ServerSettings(public_url="https://support.example.com")
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def messages(ctx: AppContext) -> int:
    async with transaction(ctx) as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


def target(spec: dict[str, Any]) -> str:
    """The request's path and query, sent to the test server."""
    url = httpx.URL(spec["url"])
    return url.raw_path.decode()


@pytest.mark.parametrize("path", META, ids=lambda p: p.name.removesuffix(".request.json"))
async def test_every_meta_example_is_accepted_signed_and_refused_otherwise(
    hooks: httpx.AsyncClient, ctx: AppContext, path: Path
) -> None:
    spec, body = request_of(path)
    headers = {k: v for k, v in spec["headers"].items() if k.lower() != "content-length"}
    forged = dict(headers, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
    refused = await hooks.post(target(spec), content=body, headers=forged)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert await messages(ctx) == 0

    first = await hooks.post(target(spec), content=body, headers=headers)
    assert first.status_code == 200, first.text
    stored = await messages(ctx)
    again = await hooks.post(target(spec), content=body, headers=headers)
    assert again.status_code == 200, again.text
    assert await messages(ctx) == stored


@pytest.mark.parametrize(
    "path", TWILIO_MESSAGES, ids=lambda p: p.name.removesuffix(".request.json")
)
async def test_every_twilio_message_example_is_accepted_signed_and_refused_otherwise(
    hooks: httpx.AsyncClient, ctx: AppContext, path: Path
) -> None:
    spec, body = request_of(path)
    headers = {k: v for k, v in spec["headers"].items() if k.lower() != "content-length"}
    forged = dict(headers, **{"X-Twilio-Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="})
    refused = await hooks.post(target(spec), content=body, headers=forged)
    assert refused.status_code == 403, refused.text
    assert await messages(ctx) == 0

    first = await hooks.post(target(spec), content=body, headers=headers)
    assert first.status_code in (200, 204), first.text
    stored = await messages(ctx)
    again = await hooks.post(target(spec), content=body, headers=headers)
    assert again.status_code in (200, 204), again.text
    assert await messages(ctx) == stored


async def test_a_whatsapp_message_becomes_a_routed_conversation(
    hooks: httpx.AsyncClient, ctx: AppContext
) -> None:
    spec, body = request_of(PAYLOADS / "meta" / "payloads" / "whatsapp_text_message.request.json")
    response = await hooks.post(target(spec), content=body, headers=spec["headers"])
    assert response.status_code == 200
    async with transaction(ctx) as session:
        message = await session.scalar(select(Message))
        assert message is not None
        assert message.channel is Channel.WHATSAPP
        assert message.delivery_status is DeliveryStatus.RECEIVED
        assert message.body_text
        task = await session.scalar(select(RoutingTask))
        assert task is not None
        assert task.channel is Channel.WHATSAPP


async def test_meta_subscription_check(hooks: httpx.AsyncClient) -> None:
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "x"}
    assert (await hooks.get("/webhooks/meta", params=params)).status_code == 403
    params["hub.verify_token"] = "meatyhamhock"
    answered = await hooks.get("/webhooks/meta", params=params)
    assert answered.status_code == 200
    assert answered.text == "1158201444"


async def test_an_unconfigured_provider_is_unavailable(ctx: AppContext) -> None:
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post("/webhooks/meta", content=b"{}")
    assert response.status_code == 503
    assert "OPENCX_META__APP_SECRET" in response.json()["detail"]
