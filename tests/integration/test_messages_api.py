"""Messages and attachments through the API: authorship, channel idempotency, uploads."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx

from opencx.core.enums import Channel, Role
from opencx.core.events import EventType
from opencx.db.models import Queue
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.attachments import safe_content_type, safe_filename
from opencx.testing import RecordingPublisher
from tests.conftest import Caller, MakeCaller

API = "/api/v1"


async def new_conversation(client: httpx.AsyncClient, caller: Caller, **body: Any) -> Any:
    customer = await client.post(f"{API}/customers", json={}, headers=caller.headers)
    response = await client.post(
        f"{API}/conversations",
        json={"customer_id": customer.json()["id"], **body},
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def inbound(text: str = "Hello", **extra: Any) -> dict[str, Any]:
    return {
        "body_text": text,
        "channel": "email",
        "direction": "inbound",
        "author_kind": "customer",
        **extra,
    }


async def test_agent_and_customer_messages(
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    publisher: RecordingPublisher,
) -> None:
    agent = await make_caller(Role.AGENT)
    conversation = await new_conversation(client, admin)
    url = f"{API}/conversations/{conversation['id']}/messages"
    received = await client.post(url, json=inbound("My card was refused"), headers=admin.headers)
    assert received.status_code == 201, received.text
    assert received.json()["author_user_id"] is None
    assert received.json()["delivery_status"] == "received"
    sent = await client.post(
        url,
        json={
            "body_text": "We fixed it",
            "body_html": "<p>We fixed it</p>",
            "channel": "email",
            "direction": "outbound",
            "author_kind": "agent",
        },
        headers=agent.headers,
    )
    assert sent.status_code == 201
    assert sent.json()["author_user_id"] == agent.user.id
    assert sent.json()["delivery_status"] == "queued"
    created = [e for e in publisher.events if e.type is EventType.MESSAGE_CREATED]
    assert [e.entity_id for e in created] == [received.json()["id"], sent.json()["id"]]
    assert created[1].payload == {
        "conversation_id": conversation["id"],
        "channel": "email",
        "direction": "outbound",
        "author_kind": "agent",
        "interaction_id": None,
    }
    assert all("fixed" not in str(e.payload) and "refused" not in str(e.payload) for e in created)
    fetched = await client.get(f"{API}/messages/{sent.json()['id']}", headers=agent.headers)
    assert fetched.json() == sent.json()


async def test_message_input_is_checked(client: httpx.AsyncClient, admin: Caller) -> None:
    conversation = await new_conversation(client, admin)
    other = await new_conversation(client, admin)
    foreign = await client.post(
        f"{API}/conversations/{other['id']}/interactions",
        json={"channel": "email", "direction": "inbound"},
        headers=admin.headers,
    )
    url = f"{API}/conversations/{conversation['id']}/messages"
    chat = await client.post(
        f"{API}/conversations/{conversation['id']}/interactions",
        json={"channel": "chat", "direction": "inbound"},
        headers=admin.headers,
    )
    cases: list[tuple[dict[str, Any], str]] = [
        ({**inbound(), "direction": "outbound"}, "body"),
        ({**inbound(), "author_kind": "agent"}, "body"),
        (inbound(interaction_id=foreign.json()["id"]), "interaction_id"),
        (inbound(interaction_id=chat.json()["id"]), "channel"),
        (inbound("x" * 100_001), "body.body_text"),
        (inbound("nul\x00"), "body.body_text"),
        (inbound(provider_message_id="p" * 256), "body.provider_message_id"),
    ]
    for body, field in cases:
        response = await client.post(url, json=body, headers=admin.headers)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field
    missing = await client.post(
        f"{API}/conversations/999/messages", json=inbound(), headers=admin.headers
    )
    assert missing.status_code == 404


async def test_a_provider_message_is_stored_once(
    client: httpx.AsyncClient, admin: Caller, publisher: RecordingPublisher
) -> None:
    conversation = await new_conversation(client, admin)
    url = f"{API}/conversations/{conversation['id']}/messages"
    body = inbound(provider_message_id="<abc@mail.example.com>")
    first = await client.post(url, json=body, headers=admin.headers)
    assert first.status_code == 201
    again = await client.post(url, json=body, headers=admin.headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    burst = await asyncio.gather(
        *(client.post(url, json=body, headers=admin.headers) for _ in range(2))
    )
    assert [r.status_code for r in burst] == [200, 200]
    other_channel = await client.post(url, json={**body, "channel": "sms"}, headers=admin.headers)
    assert other_channel.status_code == 201
    listed = await client.get(url, headers=admin.headers)
    assert [m["id"] for m in listed.json()["items"]] == [
        first.json()["id"],
        other_channel.json()["id"],
    ]
    assert len([e for e in publisher.events if e.type is EventType.MESSAGE_CREATED]) == 2
    elsewhere = await new_conversation(client, admin)
    clash = await client.post(
        f"{API}/conversations/{elsewhere['id']}/messages", json=body, headers=admin.headers
    )
    assert clash.status_code == 409


async def test_concurrent_deliveries_of_a_new_provider_message_store_one_row(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    conversation = await new_conversation(client, admin)
    url = f"{API}/conversations/{conversation['id']}/messages"
    body = inbound(provider_message_id="SM123")
    responses = await asyncio.gather(
        *(client.post(url, json=body, headers=admin.headers) for _ in range(3))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1


async def test_messages_page_by_page(client: httpx.AsyncClient, admin: Caller) -> None:
    conversation = await new_conversation(client, admin)
    url = f"{API}/conversations/{conversation['id']}/messages"
    for n in range(5):
        await client.post(url, json=inbound(f"m{n}"), headers=admin.headers)
    texts: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=admin.headers)).json()
        texts += [m["body_text"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert texts == [f"m{n}" for n in range(5)]
    forged = await client.get(url, params={"cursor": "nope"}, headers=admin.headers)
    assert forged.status_code == 422


async def test_attachment_upload_download_and_limits(
    client: httpx.AsyncClient, ctx: AppContext, admin: Caller, make_caller: MakeCaller
) -> None:
    conversation = await new_conversation(client, admin)
    message = await client.post(
        f"{API}/conversations/{conversation['id']}/messages", json=inbound(), headers=admin.headers
    )
    upload_url = f"{API}/messages/{message.json()['id']}/attachments"
    data = b"%PDF-1.7 invoice"
    uploaded = await client.post(
        upload_url,
        files={"file": ("../../Facture été.pdf", data, "application/pdf")},
        headers=admin.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert attachment["filename"] == "Facture été.pdf"
    assert attachment["size"] == len(data)
    assert attachment["sha256"] == hashlib.sha256(data).hexdigest()
    assert "storage_key" not in attachment

    content = await client.get(
        f"{API}/attachments/{attachment['id']}/content", headers=admin.headers
    )
    assert content.status_code == 200
    assert content.content == data
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["content-disposition"] == (
        "attachment; filename=\"Facture _t_.pdf\"; filename*=UTF-8''Facture%20%C3%A9t%C3%A9.pdf"
    )
    assert content.headers["x-content-type-options"] == "nosniff"
    listed = await client.get(f"{API}/messages/{message.json()['id']}", headers=admin.headers)
    assert listed.json()["attachments"] == [attachment]

    odd = await client.post(
        upload_url,
        files={"file": ("..", b"x", "bogus")},
        headers=admin.headers,
    )
    assert odd.json()["filename"] == "attachment"
    assert odd.json()["content_type"] == "application/octet-stream"

    ctx.settings.storage.max_upload_bytes = 10
    exact = await client.post(
        upload_url, files={"file": ("a.txt", b"x" * 10)}, headers=admin.headers
    )
    assert exact.status_code == 201
    too_big = await client.post(
        upload_url, files={"file": ("b.txt", b"x" * 11)}, headers=admin.headers
    )
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    assert too_big.json()["code"] == "opencx.too_large"

    keyed = {**admin.headers, "Idempotency-Key": "upload-1"}
    once = await client.post(upload_url, files={"file": ("c.txt", b"c")}, headers=keyed)
    twice = await client.post(upload_url, files={"file": ("c.txt", b"c")}, headers=keyed)
    assert once.status_code == twice.status_code == 201
    assert twice.json() == once.json()
    assert twice.headers["idempotent-replayed"] == "true"
    count = len(
        (await client.get(f"{API}/messages/{message.json()['id']}", headers=admin.headers)).json()[
            "attachments"
        ]
    )
    assert count == 4

    missing = await client.post(
        f"{API}/messages/999/attachments", files={"file": ("a", b"a")}, headers=admin.headers
    )
    assert missing.status_code == 404
    assert (
        await client.get(f"{API}/attachments/999/content", headers=admin.headers)
    ).status_code == 404


async def test_attachments_follow_the_conversation_site(
    client: httpx.AsyncClient, ctx: AppContext, admin: Caller, make_caller: MakeCaller
) -> None:
    sites = [
        (
            await client.post(
                f"{API}/sites", json={"name": name, "kind": "partner"}, headers=admin.headers
            )
        ).json()["id"]
        for name in ("A", "B")
    ]
    async with transaction(ctx) as session:
        queue = Queue(name="B", channel=Channel.EMAIL, site_id=sites[1])
        session.add(queue)
        await session.flush()
        queue_id = queue.id
    conversation = await new_conversation(client, admin, queue_id=queue_id)
    message = await client.post(
        f"{API}/conversations/{conversation['id']}/messages", json=inbound(), headers=admin.headers
    )
    uploaded = await client.post(
        f"{API}/messages/{message.json()['id']}/attachments",
        files={"file": ("a.txt", b"secret")},
        headers=admin.headers,
    )
    outsider = await make_caller(Role.AGENT, site_id=sites[0])
    insider = await make_caller(Role.AGENT, site_id=sites[1])
    url = f"{API}/attachments/{uploaded.json()['id']}/content"
    assert (await client.get(url, headers=outsider.headers)).status_code == 404
    assert (await client.get(url, headers=insider.headers)).content == b"secret"
    refused = await client.post(
        f"{API}/messages/{message.json()['id']}/attachments",
        files={"file": ("b.txt", b"b")},
        headers=outsider.headers,
    )
    assert refused.status_code == 404


def test_filenames_and_content_types_are_made_safe() -> None:
    assert safe_filename("../../etc/pa\x00sswd") == "passwd"
    assert safe_filename("C:\\Users\\me\\report.pdf") == "report.pdf"
    assert safe_filename("  .hidden ") == "hidden"
    assert safe_filename(None) == "attachment"
    long = safe_filename("x" * 300 + ".pdf")
    assert len(long) == 255
    assert long.endswith(".pdf")
    assert safe_content_type("Text/Plain; charset=utf-8") == "text/plain"
    assert safe_content_type("text/html<script>") == "application/octet-stream"
    assert safe_content_type(None) == "application/octet-stream"
