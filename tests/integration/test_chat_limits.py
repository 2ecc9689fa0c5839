"""The public chat's rate limits over real HTTP and WebSocket: chats started, messages
written and e-mails sent, per visitor, per chat and per address."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from opencx.db.models import QueueStats
from opencx.features.context import AppContext, transaction
from opencx.settings import Settings
from opencx.web import create_app
from tests.conftest import Caller
from tests.integration.local_server import serving
from tests.integration.test_chat import verified_token
from tests.integration.test_directory_api import API

SHOP = "https://shop.example.com"
EMAILS_PER_DAY = 2


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.limits.chat_emails_per_address_per_day = EMAILS_PER_DAY
    return settings


@pytest.fixture
async def server(ctx: AppContext, admin: Caller) -> AsyncIterator[str]:
    async with serving(create_app(ctx), ws=True) as url:
        async with httpx.AsyncClient(base_url=url, headers=admin.headers) as http:
            mailbox = {"channel": "email", "provider": "smtp", "address": "help@shop.example.com"}
            await http.post(f"{API}/channel-accounts", json={**mailbox, "name": "Help"})
            queue = await http.post(f"{API}/queues", json={"name": "C", "channel": "chat"})
            widget = {
                "channel": "chat",
                "provider": "widget",
                "address": "shop",
                "name": "Shop",
                "queue_id": queue.json()["id"],
                "settings": {"offline_mailbox": "help@shop.example.com"},
            }
            assert (await http.post(f"{API}/channel-accounts", json=widget)).status_code == 201
        async with transaction(ctx) as session:  # as the router writes it: agents are in
            session.add(
                QueueStats(queue_id=queue.json()["id"], slots=2, updated_at=ctx.clock.now())
            )
        yield url


async def start(
    http: httpx.AsyncClient, *, visitor: str, email: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"name": "Ada", "intent": "Parcel 48213?"}
    if email:
        body["email"] = email
    return await http.post(
        "/chat/widgets/shop/chats",
        json=body,
        headers={"Origin": SHOP, "X-Forwarded-For": visitor},
    )


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "opencx.rate_limited"
    assert int(response.headers["retry-after"]) >= 1


async def test_one_visitor_starts_only_so_many_chats(server: str, ctx: AppContext) -> None:
    limit = ctx.settings.limits.chat_starts_per_visitor
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        answers = await asyncio.gather(*(start(http, visitor="203.0.113.9") for _ in range(40)))
        assert [a.status_code for a in answers].count(201) == limit
        assert_limited(next(a for a in answers if a.status_code != 201))
        other = await start(http, visitor="203.0.113.10")
        assert other.status_code == 201


async def test_one_address_gets_only_so_many_chats_from_any_visitor(
    server: str, ctx: AppContext
) -> None:
    limit = ctx.settings.limits.chat_starts_per_address
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        for n in range(limit):
            started = await start(http, visitor=f"198.51.100.{n}", email="ada@example.com")
            assert started.status_code == 201
        assert_limited(await start(http, visitor="198.51.100.99", email="ADA@example.com"))


async def test_one_visitor_writes_only_so_many_messages(server: str, ctx: AppContext) -> None:
    limit = ctx.settings.limits.chat_messages_per_minute
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        token = (await start(http, visitor="203.0.113.20")).json()["token"]
        headers = {"X-Chat-Token": token, "X-Forwarded-For": "203.0.113.20"}

        async def write(n: int) -> httpx.Response:
            body = {"text": f"message {n}", "client_id": f"m{n}"}
            return await http.post("/chat/messages", json=body, headers=headers)

        answers = await asyncio.gather(*(write(n) for n in range(100)))
    assert [a.status_code for a in answers].count(201) == limit
    assert_limited(next(a for a in answers if a.status_code != 201))


async def test_messages_over_the_websocket_share_the_limit(server: str, ctx: AppContext) -> None:
    limit = ctx.settings.limits.chat_messages_per_minute
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        token = (await start(http, visitor="203.0.113.30")).json()["token"]
    url = server.replace("http", "ws") + f"/chat/ws?token={token}"
    async with websockets.connect(url, origin=SHOP) as socket:  # type: ignore[arg-type]
        for n in range(limit + 1):
            await socket.send(json.dumps({"type": "message", "text": "hi", "client_id": f"w{n}"}))
        refused = None
        while refused is None:
            event = json.loads(await asyncio.wait_for(socket.recv(), 10))
            if event["type"] == "error":
                refused = event
    assert refused["code"] == "opencx.rate_limited"
    assert refused["client_id"] == f"w{limit}"
    assert refused["retry_after"] >= 1


async def test_e_mails_to_one_address_are_limited_per_day(server: str, ctx: AppContext) -> None:
    """Codes and transcripts together: the code sent at the start is the first."""
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        chat = (await start(http, visitor="192.0.2.1", email="bob@example.com")).json()
        async with httpx.AsyncClient(base_url=server, timeout=60) as verifying:
            token = await verified_token(verifying, ctx, chat)
        headers = {"X-Chat-Token": token}
        first = await http.post("/chat/transcript", json={}, headers=headers)
        assert first.status_code == 202, first.text
        assert_limited(await http.post("/chat/transcript", json={}, headers=headers))
        again = await http.post("/chat/verification", json={}, headers=headers)
        assert_limited(again)
        other = (await start(http, visitor="192.0.2.2", email="bob@example.com")).json()
        resent = await http.post(
            "/chat/verification", json={}, headers={"X-Chat-Token": other["token"]}
        )
        assert_limited(resent)


async def test_one_visitor_sends_only_so_many_files(server: str, ctx: AppContext) -> None:
    limit = ctx.settings.limits.chat_files_per_visitor
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        token = (await start(http, visitor="203.0.113.40")).json()["token"]
        headers = {"X-Chat-Token": token, "X-Forwarded-For": "203.0.113.40"}
        answers = []
        for n in range(limit + 1):
            answers.append(
                await http.post(
                    "/chat/files",
                    files={"file": (f"f{n}.txt", b"hello", "text/plain")},
                    data={"client_id": f"f{n}"},
                    headers=headers,
                )
            )
    assert [a.status_code for a in answers[:limit]] == [201] * limit
    assert_limited(answers[limit])
