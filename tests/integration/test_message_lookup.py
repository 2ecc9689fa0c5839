"""Finding a message by the provider's id for it, and what the message resource says of
where it came from, where it went and under which subject, through the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from opencx.core.enums import Channel, IdentityKind, Role
from opencx.features.contacts.intake import receive
from opencx.features.context import AppContext
from opencx.features.delivery.outbox import send_queued_message
from opencx.providers.base import InboundMessage, Sender
from opencx.settings import SmtpOutSettings
from tests.conftest import Caller, MakeCaller
from tests.integration.test_conversations_api import make_queue, make_site

API = "/api/v1"
MESSAGE_ID = "CAF=x9+parcel.48213@mail.example.com"


async def lookup(
    client: httpx.AsyncClient, caller: Caller, provider_message_id: str, **params: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"{API}/messages",
        params={"provider_message_id": provider_message_id, **params},
        headers=caller.headers,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def mail_received(ctx: AppContext, client: httpx.AsyncClient, admin: Caller) -> int:
    """An e-mail received on a mailbox whose queue belongs to a partner site."""
    site = await make_site(client, admin, "Partner A", "partner")
    queue = await make_queue(ctx, "Mail A", site_id=site, channel=Channel.EMAIL)
    account = await client.post(
        f"{API}/channel-accounts",
        json={
            "channel": "email",
            "provider": "smtp",
            "address": "support@example.com",
            "name": "Support",
            "queue_id": queue,
        },
        headers=admin.headers,
    )
    assert account.status_code == 201, account.text
    received = await receive(
        ctx,
        InboundMessage(
            channel=Channel.EMAIL,
            provider="smtp",
            provider_message_id=MESSAGE_ID,
            sender=Sender(IdentityKind.EMAIL, "ada@example.com"),
            recipient="support@example.com",
            text="Where is my parcel?",
            subject="Parcel 48213",
        ),
    )
    return received.conversation_id


async def test_an_email_is_found_by_its_message_id_with_its_sender_and_subject(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller
) -> None:
    conversation_id = await mail_received(ctx, client, admin)
    for written in (MESSAGE_ID, f"<{MESSAGE_ID}>"):
        (found,) = await lookup(client, admin, written)
        assert found["conversation_id"] == conversation_id
        assert found["provider_message_id"] == MESSAGE_ID
        assert (found["sender"], found["recipient"]) == ("ada@example.com", "support@example.com")
        assert found["subject"] == "Parcel 48213"
    assert await lookup(client, admin, MESSAGE_ID, channel="email")
    assert await lookup(client, admin, MESSAGE_ID, channel="sms") == []
    assert await lookup(client, admin, "nobody@example.com") == []
    single = await client.get(f"{API}/messages/{found['id']}", headers=admin.headers)
    assert single.json()["sender"] == "ada@example.com"


async def test_an_answer_sent_by_email_says_where_it_went_and_its_own_subject(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, tmp_path: Path
) -> None:
    ctx.settings.smtp_out = SmtpOutSettings(outbox=tmp_path / "outbox")
    conversation_id = await mail_received(ctx, client, admin)
    posted = await client.post(
        f"{API}/conversations/{conversation_id}/messages",
        json={
            "body_text": "It left this morning.",
            "channel": "email",
            "direction": "outbound",
            "author_kind": "agent",
        },
        headers=admin.headers,
    )
    assert posted.status_code == 201, posted.text
    assert await send_queued_message(ctx, posted.json()["id"])
    (sent,) = await lookup(client, admin, f"opencx.{posted.json()['id']}@example.com")
    assert (sent["sender"], sent["recipient"]) == ("support@example.com", "ada@example.com")
    assert sent["subject"] == f"Re: Parcel 48213 [#{conversation_id}]"


async def test_the_lookup_shows_only_the_conversations_the_caller_sees(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    conversation_id = await mail_received(ctx, client, admin)
    conversation = await client.get(f"{API}/conversations/{conversation_id}", headers=admin.headers)
    insider = await make_caller(Role.AGENT, site_id=conversation.json()["site_id"])
    assert [m["conversation_id"] for m in await lookup(client, insider, MESSAGE_ID)] == [
        conversation_id
    ]
    other_site = await make_site(client, admin, "Partner B", "partner")
    outsider = await make_caller(Role.AGENT, site_id=other_site)
    assert await lookup(client, outsider, MESSAGE_ID) == []
    anonymous = await client.get(f"{API}/messages", params={"provider_message_id": MESSAGE_ID})
    assert anonymous.status_code == 401
    missing = await client.get(f"{API}/messages", headers=admin.headers)
    assert missing.status_code == 422
