"""What customers write, on any channel, becomes one customer, one conversation, one
timeline, and routed work; deliveries repeated by providers are stored once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from opencx.core.enums import Channel, ConversationStatus, IdentityKind, Role
from opencx.core.permissions import Principal
from opencx.db.models import Attachment, Conversation, Message, RoutingTask
from opencx.features.contacts.intake import CONTINUE_WITHIN, receive
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.conversations import (
    StatusChange,
    change_conversation_status,
)
from opencx.features.customers.identities import add_identity
from opencx.features.customers.schemas import IdentityIn
from opencx.features.directory.channel_accounts import ChannelAccountCreate, create_account
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.providers.base import InboundAttachment, InboundMessage, Sender
from opencx.testing.fakes import FakeClock

pytestmark = pytest.mark.timeout(60)


def email(message_id: str, *, refs: tuple[str, ...] = (), **fields: object) -> InboundMessage:
    values: dict[str, object] = {
        "channel": Channel.EMAIL,
        "provider": "smtp",
        "provider_message_id": message_id,
        "sender": Sender(IdentityKind.EMAIL, "ada@example.com", "Ada Lovelace"),
        "recipient": "support@example.com",
        "text": "My parcel has not arrived.",
        "subject": "Parcel",
        "thread_refs": refs,
    }
    values.update(fields)
    return InboundMessage(**values)  # type: ignore[arg-type]


async def count(ctx: AppContext, model: type[object]) -> int:
    async with transaction(ctx) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def admin(ctx: AppContext) -> Principal:
    user = await create_user_as_system(ctx, UserCreate(email="root@example.com", role=Role.ADMIN))
    return Principal(user_id=user.id, role=Role.ADMIN)


async def test_a_first_email_makes_a_customer_a_conversation_and_routed_work(
    ctx: AppContext,
) -> None:
    raw = b"From: Ada <ada@example.com>\r\nSubject: Parcel\r\n\r\nMy parcel has not arrived."
    first = await receive(
        ctx,
        email(
            "m1@example.com",
            attachments=(InboundAttachment("label.pdf", "application/pdf", b"%PDF-1.4"),),
        ),
        raw=raw,
    )
    assert not first.duplicate
    assert first.task_id is not None
    async with transaction(ctx) as session:
        message = await session.get(Message, first.message_id)
        assert message is not None
        assert message.body_text == "My parcel has not arrived."
        assert message.metadata_["subject"] == "Parcel"
        files = list(
            await session.scalars(select(Attachment).where(Attachment.message_id == message.id))
        )
        assert sorted(f.filename for f in files) == ["label.pdf", "original.eml"]
        task = await session.get(RoutingTask, first.task_id)
        assert task is not None
        assert task.interaction_id == first.interaction_id
        assert task.attributes["customer_id"] == first.customer_id
    assert await ctx.blobs.get(files[0].storage_key)

    # The provider delivers it again: stored once.
    again = await receive(ctx, email("m1@example.com"), raw=raw)
    assert again.duplicate
    assert again.message_id == first.message_id
    assert await count(ctx, Message) == 1


async def test_a_reply_joins_its_conversation_and_interaction(ctx: AppContext) -> None:
    first = await receive(ctx, email("m1@example.com"))
    reply = await receive(ctx, email("m2@example.com", refs=("m1@example.com",)))
    assert reply.conversation_id == first.conversation_id
    assert reply.interaction_id == first.interaction_id
    assert reply.task_id is None  # already being routed
    # Someone else writes: their own customer and conversation.
    other = await receive(
        ctx, email("m3@example.com", sender=Sender(IdentityKind.EMAIL, "bob@example.com"))
    )
    assert other.customer_id != first.customer_id
    assert other.conversation_id != first.conversation_id


async def test_a_reply_to_a_resolved_conversation_reopens_it(ctx: AppContext) -> None:
    boss = await admin(ctx)
    first = await receive(ctx, email("m1@example.com"))
    await change_conversation_status(
        ctx, boss, first.conversation_id, StatusChange(status=ConversationStatus.RESOLVED)
    )
    reply = await receive(ctx, email("m2@example.com", refs=("m1@example.com",)))
    assert reply.conversation_id == first.conversation_id
    async with transaction(ctx) as session:
        conversation = await session.get(Conversation, first.conversation_id)
        assert conversation is not None
        assert conversation.status is ConversationStatus.OPEN


async def test_auto_replies_are_kept_but_start_no_work(ctx: AppContext) -> None:
    out_of_office = await receive(
        ctx, email("ooo@example.com", flags=frozenset({"auto_submitted"}))
    )
    assert out_of_office.task_id is None
    assert out_of_office.interaction_id is None
    assert await count(ctx, RoutingTask) == 0


async def test_messenger_then_email_is_one_customer_and_one_conversation(
    ctx: AppContext, clock: FakeClock
) -> None:
    boss = await admin(ctx)
    # A mailbox whose rule continues a customer's recent conversation whatever its
    # subject (the default, ``subject``, starts one per new subject).
    await create_account(
        ctx,
        boss,
        ChannelAccountCreate(
            channel=Channel.EMAIL,
            provider="smtp",
            address="support@example.com",
            name="Support",
            settings={"threading": "recent"},
        ),
    )
    psid = "6254381294627191"
    chat = await receive(
        ctx,
        InboundMessage(
            channel=Channel.MESSENGER,
            provider="meta",
            provider_message_id="m_abc",
            sender=Sender(IdentityKind.MESSENGER, psid, "Ada"),
            text="Hello, my parcel?",
            sent_at=clock.now(),
        ),
    )
    # The agent learns her e-mail address in the chat and adds it to her profile.
    await add_identity(
        ctx, boss, chat.customer_id, IdentityIn(kind=IdentityKind.EMAIL, value="ada@example.com")
    )
    clock.advance(3600)
    mail = await receive(ctx, email("m9@example.com", sent_at=clock.now()))
    assert mail.customer_id == chat.customer_id
    assert mail.conversation_id == chat.conversation_id
    assert mail.interaction_id != chat.interaction_id  # another channel, another contact

    # After a long silence, a new message starts a new conversation.
    clock.advance((CONTINUE_WITHIN + timedelta(days=1)).total_seconds())
    later = await receive(ctx, email("m10@example.com", sent_at=clock.now()))
    assert later.conversation_id != chat.conversation_id


async def test_the_same_message_delivered_twice_at_once_is_stored_once(ctx: AppContext) -> None:
    await receive(ctx, email("m0@example.com"))  # the customer exists: only the message races
    results = await asyncio.gather(*(receive(ctx, email("m1@example.com")) for _ in range(4)))
    assert len({r.message_id for r in results}) == 1
    assert await count(ctx, Message) == 2


async def test_a_message_with_no_usable_sender_is_kept_not_refused(ctx: AppContext) -> None:
    damaged = email(
        "damaged@example.com",
        sender=Sender(IdentityKind.EMAIL, ""),
        flags=frozenset({"unparsed"}),
    )
    kept = await receive(ctx, damaged, raw=b"Subject: ?\r\n\r\n\xff\xfe")
    async with transaction(ctx) as session:
        message = await session.get(Message, kept.message_id)
        assert message is not None
        assert message.metadata_["flags"] == "unknown_sender,unparsed"
    nobody = await receive(
        ctx, email("damaged3@example.com", sender=Sender(IdentityKind.EMAIL, " "))
    )
    assert nobody.customer_id == kept.customer_id  # one "Unknown sender" for no address
    # An address that does not read as its kind is still an address of its own.
    another = await receive(
        ctx, email("damaged2@example.com", sender=Sender(IdentityKind.EMAIL, "not an address"))
    )
    again = await receive(
        ctx, email("damaged4@example.com", sender=Sender(IdentityKind.EMAIL, "not an address"))
    )
    stranger = await receive(
        ctx, email("damaged5@example.com", sender=Sender(IdentityKind.EMAIL, "neither@"))
    )
    assert another.customer_id not in (kept.customer_id, stranger.customer_id)
    assert again.customer_id == another.customer_id
