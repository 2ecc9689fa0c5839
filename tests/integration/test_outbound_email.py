"""Sending e-mail answers: retried with backoff while the relay fails, then failed with
the reason for the agent to see; never sent without a customer e-mail to answer."""

from __future__ import annotations

import socket
from email import message_from_bytes
from pathlib import Path

from opencx.channels.base import InboundMessage, Sender
from opencx.core.enums import AuthorKind, Channel, DeliveryStatus, Direction, IdentityKind, Role
from opencx.core.permissions import Principal
from opencx.features.channels.inbound import receive
from opencx.features.channels.outbound import queued_message_ids, send_queued_message
from opencx.features.context import AppContext
from opencx.features.conversations.messages import MessageCreate, get_message, post_message
from opencx.features.directory.channel_accounts import ChannelAccountCreate, create_account
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.settings import SmtpOutSettings
from opencx.testing.fakes import FakeClock


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


async def answer_queued(ctx: AppContext) -> tuple[Principal, int]:
    user = await create_user_as_system(ctx, UserCreate(email="root@example.com", role=Role.ADMIN))
    admin = Principal(user_id=user.id, role=Role.ADMIN)
    await create_account(
        ctx,
        admin,
        ChannelAccountCreate(
            channel=Channel.EMAIL, provider="smtp", address="support@example.com", name="Support"
        ),
    )
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
