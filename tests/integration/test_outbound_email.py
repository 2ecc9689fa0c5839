"""Sending e-mail answers: retried with backoff while the relay fails, then failed with
the reason for the agent to see; never sent without a customer e-mail to answer."""

from __future__ import annotations

import socket
from email import message_from_bytes
from pathlib import Path

import httpx
from sqlalchemy import update

from opencx.core.enums import AuthorKind, Channel, DeliveryStatus, Direction, IdentityKind, Role
from opencx.core.permissions import Principal
from opencx.db.models import Message
from opencx.features.contacts.intake import receive
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.messages import MessageCreate, get_message, post_message
from opencx.features.delivery.email import reply_route
from opencx.features.delivery.outbox import queued_message_ids, send_queued_message
from opencx.features.directory.channel_accounts import (
    ChannelAccountCreate,
    create_account,
    find_mailbox,
)
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.providers.base import InboundMessage, Sender
from opencx.settings import SmtpOutSettings
from opencx.testing import FakeMail
from opencx.testing.fakes import FakeClock
from tests.conftest import Caller


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


async def admin_with_mailbox(ctx: AppContext) -> Principal:
    """An admin, and the support@example.com mailbox answers leave from."""
    user = await create_user_as_system(ctx, UserCreate(email="root@example.com", role=Role.ADMIN))
    admin = Principal(user_id=user.id, role=Role.ADMIN)
    await create_account(
        ctx,
        admin,
        ChannelAccountCreate(
            channel=Channel.EMAIL, provider="smtp", address="support@example.com", name="Support"
        ),
    )
    return admin


async def answer_queued(ctx: AppContext) -> tuple[Principal, int]:
    admin = await admin_with_mailbox(ctx)
    received = await receive(
        ctx,
        InboundMessage(
            channel=Channel.EMAIL,
            provider="smtp",
            provider_message_id="first@example.com",
            sender=Sender(IdentityKind.EMAIL, "ada@example.com"),
            recipient="support@example.com",
            text="Where is my parcel?",
            subject="Parcel",
        ),
    )
    message, _ = await post_message(
        ctx,
        admin,
        received.conversation_id,
        MessageCreate(
            body_text="On its way.",
            channel=Channel.EMAIL,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.AGENT,
        ),
    )
    return admin, message.id


async def test_a_failing_relay_is_retried_with_backoff_then_the_message_fails(
    ctx: AppContext, clock: FakeClock
) -> None:
    ctx.settings.smtp_out = SmtpOutSettings(
        host="127.0.0.1", port=closed_port(), starttls=False, max_attempts=3, timeout_seconds=2
    )
    admin, message_id = await answer_queued(ctx)
    assert not await send_queued_message(ctx, message_id)
    first = await get_message(ctx, admin, message_id)
    assert first.delivery_status is DeliveryStatus.QUEUED
    assert first.metadata["attempts"] == "1"
    assert await queued_message_ids(ctx) == []  # not due before its backoff
    clock.advance(30)
    assert await queued_message_ids(ctx) == [message_id]
    assert not await send_queued_message(ctx, message_id)
    clock.advance(60)
    assert not await send_queued_message(ctx, message_id)
    failed = await get_message(ctx, admin, message_id)
    assert failed.delivery_status is DeliveryStatus.FAILED
    assert failed.delivery_error


async def test_a_relay_refusal_is_retried_and_the_next_attempt_is_sent(
    ctx: AppContext, clock: FakeClock
) -> None:
    ctx.settings.smtp_out = SmtpOutSettings(host="smtp.example.test", max_attempts=3)
    ctx.mail = relay = FakeMail()
    relay.refuse_next(451, "4.3.0 Try again later")
    admin, message_id = await answer_queued(ctx)

    assert not await send_queued_message(ctx, message_id)
    refused = await get_message(ctx, admin, message_id)
    assert refused.delivery_status is DeliveryStatus.QUEUED
    assert refused.metadata["attempts"] == "1"
    assert refused.metadata["last_error"] == "(451, '4.3.0 Try again later')"
    clock.advance(30)
    assert await send_queued_message(ctx, message_id)

    sent = await get_message(ctx, admin, message_id)
    assert sent.delivery_status is DeliveryStatus.SENT
    (mail,) = relay.sent
    assert mail.message["To"] == "ada@example.com"
    assert mail.message["Message-ID"].strip("<>") == sent.provider_message_id


async def test_without_a_relay_messages_wait_queued(ctx: AppContext) -> None:
    admin, message_id = await answer_queued(ctx)
    assert not await send_queued_message(ctx, message_id)
    assert (await get_message(ctx, admin, message_id)).delivery_status is DeliveryStatus.QUEUED


async def test_with_a_local_outbox_an_answer_is_written_there_whole_and_marked_sent(
    ctx: AppContext, tmp_path: Path
) -> None:
    ctx.settings.smtp_out = SmtpOutSettings(outbox=tmp_path / "outbox")
    admin, message_id = await answer_queued(ctx)
    assert await send_queued_message(ctx, message_id)
    sent = await get_message(ctx, admin, message_id)
    assert sent.delivery_status is DeliveryStatus.SENT
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [f"{message_id}.eml"]
    email = message_from_bytes((tmp_path / "outbox" / f"{message_id}.eml").read_bytes())
    assert email["To"] == "ada@example.com"
    assert email["In-Reply-To"] == "<first@example.com>"
    assert email["Message-ID"].strip("<>") == sent.provider_message_id
    assert "On its way." in str(email.get_payload(decode=False))


async def reply_to_thread(ctx: AppContext) -> tuple[Principal, int, int]:
    """A customer's e-mail deep in a thread, naming a Reply-To; an agent's answer."""
    admin = await admin_with_mailbox(ctx)
    received = await receive(
        ctx,
        InboundMessage(
            channel=Channel.EMAIL,
            provider="smtp",
            provider_message_id="third@example.com",
            sender=Sender(IdentityKind.EMAIL, "Ada@Example.com"),
            recipient="Support@example.com",
            text="Still no parcel.",
            subject="Re: Parcel",
            thread_refs=("first@example.com", "second@example.com"),
            metadata={
                "references": ("first@example.com", "second@example.com"),
                "reply_to": ("Ada.Home@Example.net",),
            },
        ),
        account="smtp",
    )
    message, _ = await post_message(
        ctx,
        admin,
        received.conversation_id,
        MessageCreate(
            body_text="On its way.",
            channel=Channel.EMAIL,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.AGENT,
        ),
    )
    return admin, received.message_id, message.id


async def test_a_received_email_keeps_its_reply_route_and_the_answer_follows_it(
    ctx: AppContext, tmp_path: Path
) -> None:
    ctx.settings.smtp_out = SmtpOutSettings(outbox=tmp_path / "outbox")
    _, received_id, answer_id = await reply_to_thread(ctx)
    async with transaction(ctx) as session:
        received = await session.get(Message, received_id)
        assert received is not None
        route = reply_route(received)
        mailbox = await find_mailbox(session, "support@example.com")
    assert mailbox is not None
    assert route.account_id == mailbox.id
    assert route.mailbox == "support@example.com"
    assert route.references == ("first@example.com", "second@example.com", "third@example.com")
    assert route.reply_to == ("ada.home@example.net",)  # unconfirmed: never answered to
    assert await send_queued_message(ctx, answer_id)
    email = message_from_bytes((tmp_path / "outbox" / f"{answer_id}.eml").read_bytes())
    assert email["To"] == "ada@example.com"
    assert email["From"] == "Support <support@example.com>"
    assert email["In-Reply-To"] == "<third@example.com>"
    assert email["References"] == "<first@example.com> <second@example.com> <third@example.com>"


async def test_a_message_received_before_reply_routes_were_kept_is_answered_as_before(
    ctx: AppContext, tmp_path: Path
) -> None:
    ctx.settings.smtp_out = SmtpOutSettings(outbox=tmp_path / "outbox")
    _, received_id, answer_id = await reply_to_thread(ctx)
    async with transaction(ctx) as session:  # as the migration leaves an older row
        await session.execute(
            update(Message).where(Message.id == received_id).values(reply_route=None)
        )
    assert await send_queued_message(ctx, answer_id)
    email = message_from_bytes((tmp_path / "outbox" / f"{answer_id}.eml").read_bytes())
    assert email["To"] == "ada@example.com"
    assert email["In-Reply-To"] == "<third@example.com>"
    assert email["References"] == "<first@example.com> <second@example.com> <third@example.com>"


async def chat_customer_writes_nothing_by_mail(
    client: httpx.AsyncClient, admin: Caller, *, known_address: bool = True
) -> int:
    """A customer known by an e-mail address (or not), in a conversation that came by
    chat."""
    customer = (
        await client.post("/api/v1/customers", json={"display_name": "Ada"}, headers=admin.headers)
    ).json()
    if known_address:  # added by an agent: confirmed
        identity = await client.post(
            f"/api/v1/customers/{customer['id']}/identities",
            json={"kind": "email", "value": "ada@example.com"},
            headers=admin.headers,
        )
        assert identity.status_code == 201, identity.text
    body = {"customer_id": customer["id"], "subject": "Parcel 48213"}
    conversation = await client.post("/api/v1/conversations", json=body, headers=admin.headers)
    chat = {
        "channel": "chat",
        "direction": "inbound",
        "author_kind": "customer",
        "body_text": "Where is my parcel?",
    }
    url = f"/api/v1/conversations/{conversation.json()['id']}/messages"
    assert (await client.post(url, json=chat, headers=admin.headers)).status_code == 201
    return int(conversation.json()["id"])


async def agent_emails(client: httpx.AsyncClient, admin: Caller, conversation_id: int) -> int:
    body = {
        "channel": "email",
        "direction": "outbound",
        "author_kind": "agent",
        "body_text": "It arrives tomorrow.",
    }
    url = f"/api/v1/conversations/{conversation_id}/messages"
    sent = await client.post(url, json=body, headers=admin.headers)
    assert sent.status_code == 201, sent.text
    return int(sent.json()["id"])


async def mailbox(client: httpx.AsyncClient, admin: Caller, address: str) -> None:
    body = {"channel": "email", "provider": "smtp", "address": address, "name": "Support"}
    created = await client.post("/api/v1/channel-accounts", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text


async def test_a_chat_continued_by_email_writes_to_the_confirmed_address(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, tmp_path: Path
) -> None:
    ctx.settings.smtp_out = SmtpOutSettings(outbox=tmp_path)
    await mailbox(client, admin, "support@example.com")
    conversation_id = await chat_customer_writes_nothing_by_mail(client, admin)
    message_id = await agent_emails(client, admin, conversation_id)

    assert await send_queued_message(ctx, message_id)

    email = message_from_bytes((tmp_path / f"{message_id}.eml").read_bytes())
    assert email["To"] == "ada@example.com"
    assert email["From"] == "Support <support@example.com>"
    assert email["Subject"] == f"Parcel 48213 [#{conversation_id}]"
    assert email["In-Reply-To"] is None
    assert "It arrives tomorrow." in email.get_payload(decode=False)


async def test_a_first_email_goes_only_to_a_confirmed_address_from_a_mailbox_that_is_clear(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, tmp_path: Path
) -> None:
    ctx.settings.smtp_out = SmtpOutSettings(outbox=tmp_path)
    await mailbox(client, admin, "support@example.com")
    unknown = await chat_customer_writes_nothing_by_mail(client, admin, known_address=False)
    named_only = await agent_emails(client, admin, unknown)
    assert not await send_queued_message(ctx, named_only)
    failed = await client.get(f"/api/v1/messages/{named_only}", headers=admin.headers)
    assert failed.json()["delivery_status"] == "failed"
    assert failed.json()["delivery_error"] == (
        "the customer has no confirmed e-mail address to write to"
    )

    await mailbox(client, admin, "sales@example.com")  # two now: which one?
    confirmed = await chat_customer_writes_nothing_by_mail(client, admin)
    ambiguous = await agent_emails(client, admin, confirmed)
    assert not await send_queued_message(ctx, ambiguous)
    failed = await client.get(f"/api/v1/messages/{ambiguous}", headers=admin.headers)
    assert failed.json()["delivery_error"].startswith("no mailbox to write from")
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240 - a test's own folder
