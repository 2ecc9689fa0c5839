"""Agents correct threading through the API: two conversations of one customer merge,
messages split off into a new one; both audited, with events, and within what the
caller may see."""

from __future__ import annotations

from typing import Any

import httpx

from opencx.core.enums import Channel, IdentityKind, Role
from opencx.core.events import EventType
from opencx.db.models import Queue
from opencx.features.contacts.intake import Received, receive
from opencx.features.context import AppContext, transaction
from opencx.providers.base import InboundMessage, Sender
from opencx.testing import RecordingPublisher
from tests.conftest import Caller, MakeCaller

API = "/api/v1"


def email(n: int, subject: str, *, sender: str = "ada@example.com") -> InboundMessage:
    return InboundMessage(
        channel=Channel.EMAIL,
        provider="smtp",
        provider_message_id=f"m{n}@example.com",
        sender=Sender(IdentityKind.EMAIL, sender),
        recipient="support@example.com",
        text=f"Message {n}",
        subject=subject,
    )


async def site_queue(ctx: AppContext, client: httpx.AsyncClient, admin: Caller) -> tuple[int, int]:
    site = await client.post(
        f"{API}/sites", json={"name": "Partner", "kind": "partner"}, headers=admin.headers
    )
    assert site.status_code == 201, site.text
    async with transaction(ctx) as session:
        queue = Queue(name="Partner mail", channel=Channel.EMAIL, site_id=site.json()["id"])
        session.add(queue)
        await session.flush()
        return site.json()["id"], queue.id


async def bodies(client: httpx.AsyncClient, caller: Caller, conversation_id: int) -> list[str]:
    response = await client.get(
        f"{API}/conversations/{conversation_id}/messages", headers=caller.headers
    )
    assert response.status_code == 200, response.text
    return [m["body_text"] for m in response.json()["items"]]


async def audit(client: httpx.AsyncClient, admin: Caller, action: str) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/audit", params={"action": action}, headers=admin.headers)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_two_conversations_of_a_customer_merge_and_messages_split_off_again(
    client: httpx.AsyncClient,
    ctx: AppContext,
    admin: Caller,
    make_caller: MakeCaller,
    publisher: RecordingPublisher,
) -> None:
    agent = await make_caller(Role.AGENT)
    parcel = await receive(ctx, email(1, "Parcel 48213"))
    invoice = await receive(ctx, email(2, "Invoice 2231"))
    more = await receive(ctx, email(3, "Re: Invoice 2231"))
    assert parcel.conversation_id != invoice.conversation_id == more.conversation_id

    merged = await client.post(
        f"{API}/conversations/{parcel.conversation_id}/merge",
        json={"source_id": invoice.conversation_id},
        headers=agent.headers,
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["id"] == parcel.conversation_id
    assert await bodies(client, agent, parcel.conversation_id) == [
        "Message 1",
        "Message 2",
        "Message 3",
    ]
    assert await bodies(client, agent, invoice.conversation_id) == []
    source = await client.get(
        f"{API}/conversations/{invoice.conversation_id}", headers=agent.headers
    )
    assert source.json()["status"] == "closed"
    interaction = await client.get(
        f"{API}/interactions/{invoice.interaction_id}", headers=agent.headers
    )
    assert interaction.json()["conversation_id"] == parcel.conversation_id
    (entry,) = await audit(client, admin, "conversation.merge")
    assert entry["actor_user_id"] == agent.user.id
    assert entry["entity_id"] == parcel.conversation_id
    assert entry["changes"] == {
        "source_id": invoice.conversation_id,
        "messages": 2,
        "interactions": 1,
    }
    assert len(await audit(client, admin, "conversation.merged_into")) == 1
    closed = [
        e
        for e in publisher.events
        if e.type is EventType.CONVERSATION_STATUS_CHANGED
        and e.payload.get("merged_into") == parcel.conversation_id
    ]
    assert len(closed) == 1

    # The agent takes the invoice messages apart again.
    split = await client.post(
        f"{API}/conversations/{parcel.conversation_id}/split",
        json={"message_ids": [invoice.message_id, more.message_id]},
        headers=agent.headers,
    )
    assert split.status_code == 201, split.text
    new = split.json()
    assert new["subject"] == "Invoice 2231"
    assert new["customer_id"] == parcel.customer_id
    assert await bodies(client, agent, new["id"]) == ["Message 2", "Message 3"]
    assert await bodies(client, agent, parcel.conversation_id) == ["Message 1"]
    interaction = await client.get(
        f"{API}/interactions/{invoice.interaction_id}", headers=agent.headers
    )
    assert interaction.json()["conversation_id"] == new["id"]
    (entry,) = await audit(client, admin, "conversation.split")
    assert entry["changes"]["new_conversation_id"] == new["id"]
    assert entry["changes"]["message_ids"] == [invoice.message_id, more.message_id]
    assert any(
        e.type is EventType.CONVERSATION_CREATED and e.payload.get("split_from")
        for e in publisher.events
    )


async def test_what_cannot_be_merged_or_split_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, ctx: AppContext, admin: Caller, make_caller: MakeCaller
) -> None:
    site_id, queue_id = await site_queue(ctx, client, admin)
    partner = await make_caller(Role.AGENT, site_id=site_id)
    ada = await receive(ctx, email(1, "Parcel"))
    ada_again = await receive(ctx, email(2, "Invoice"))
    grace = await receive(ctx, email(3, "Parcel", sender="grace@example.com"))
    seen: Received = await receive(
        ctx, email(4, "Hello", sender="linus@example.com"), queue_id=queue_id
    )
    seen_too = await receive(ctx, email(5, "Other", sender="linus@example.com"), queue_id=queue_id)

    async def merge(caller: Caller | None, target: int, source: int) -> httpx.Response:
        return await client.post(
            f"{API}/conversations/{target}/merge",
            json={"source_id": source},
            headers=caller.headers if caller else {},
        )

    async def split(caller: Caller, conversation: int, ids: list[int]) -> httpx.Response:
        return await client.post(
            f"{API}/conversations/{conversation}/split",
            json={"message_ids": ids},
            headers=caller.headers,
        )

    assert (await merge(None, ada.conversation_id, ada_again.conversation_id)).status_code == 401
    # A partner agent does not see conversations outside their site: missing to them.
    hidden = await merge(partner, ada.conversation_id, ada_again.conversation_id)
    assert hidden.status_code == 404
    assert hidden.headers["content-type"] == "application/problem+json"
    assert (await merge(partner, seen.conversation_id, ada.conversation_id)).status_code == 404
    assert (await split(partner, ada.conversation_id, [ada.message_id])).status_code == 404
    # Two customers' conversations: merge the customers first.
    other = await merge(admin, ada.conversation_id, grace.conversation_id)
    assert other.status_code == 409
    assert (await merge(admin, ada.conversation_id, ada.conversation_id)).status_code == 422
    # A split moves messages of the conversation only, and leaves one behind.
    assert (await split(admin, ada.conversation_id, [grace.message_id])).status_code == 422
    assert (await split(admin, ada.conversation_id, [ada.message_id])).status_code == 422
    assert await audit(client, admin, "conversation.merge") == []
    assert await audit(client, admin, "conversation.split") == []
    # Within their own site, the partner agent may.
    mine = await merge(partner, seen.conversation_id, seen_too.conversation_id)
    assert mine.status_code == 200, mine.text
