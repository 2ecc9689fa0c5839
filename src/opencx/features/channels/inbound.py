"""Receiving what customers write, on any channel: one customer, one conversation, one
timeline, and routing.

Rules:
- what a channel adapter read (``InboundMessage``) is committed before the channel
  acknowledges it to the provider: the caller answers only after ``receive`` returns;
- a provider's id is stored once per channel: a retried or duplicated delivery returns
  the message already stored (``duplicate``) and changes nothing;
- the sender's identity finds the customer (created the first time); the message joins
  the conversation it answers (an e-mail's references, or the ticket token in its
  subject, ``subject_token``), else the customer's most recent open conversation seen within
  ``CONTINUE_WITHIN`` on any channel (a Messenger chat continued by e-mail is one
  conversation), else a new one. A resolved or closed conversation it answers reopens;
- a message joins the conversation's live interaction on its channel; when there is
  none, a new inbound interaction is created and handed to routing;
- automatic messages (auto-replies, bounces) are stored but never start routing work;
- a message with no usable sender (a damaged e-mail) is kept under one "Unknown sender"
  customer, flagged ``unknown_sender``, never refused;
- the raw bytes (an e-mail) are kept as an attachment ``original.eml``, so a message that
  could not be parsed is still there, flagged ``unparsed``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.channels.base import InboundAttachment, InboundMessage
from opencx.core.enums import (
    AuthorKind,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    IdentityKind,
    InteractionState,
)
from opencx.core.errors import InvalidInput
from opencx.core.events import EventType
from opencx.db.models import Attachment, Conversation, Interaction, Message, Queue
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import record_conversation_event
from opencx.features.conversations.attachments import safe_content_type, safe_filename
from opencx.features.customers.identities import normalise_identity
from opencx.features.customers.resolution import FoundCustomer, find_or_create_customer
from opencx.features.directory.channel_accounts import find_account
from opencx.features.eventlog import batched
from opencx.features.routing.commands import wake_router
from opencx.features.routing.tasks import insert_task

__all__ = ["CONTINUE_WITHIN", "Received", "receive"]

#: How recent a customer's open conversation must be for a new contact to continue it.
CONTINUE_WITHIN = timedelta(days=7)
#: Tries of a message's transaction when concurrent deliveries collide.
ATTEMPTS = 3
#: The customer that messages with no usable sender are kept under.
UNKNOWN_SENDER = "Unknown sender"
#: Flags that mark a message no one should be asked to answer.
AUTOMATIC = frozenset({"auto_submitted", "bounce"})
_ENDED = (InteractionState.ENDED, InteractionState.ABANDONED)
_CLOSED = (ConversationStatus.RESOLVED, ConversationStatus.CLOSED)


@dataclass(frozen=True, slots=True)
class Received:
    message_id: int
    conversation_id: int
    customer_id: int
    interaction_id: int | None
    task_id: int | None = None
    duplicate: bool = False


async def receive(
    ctx: AppContext,
    item: InboundMessage,
    *,
    raw: bytes | None = None,
    queue_id: int | None = None,
    account_provider: str | None = None,
) -> Received:
    """Store ``item`` (once) in its conversation and route it; ``queue_id`` is the queue
    of the channel account that received it, for a new conversation. A caller that has
    not looked the account up names its provider instead (``account_provider``): the
    account at ``item.recipient`` is then read in the message's transaction, and only
    when a new conversation needs its queue.

    One transaction does it all (finding or creating the customer included): on SQLite
    and PostgreSQL alike the commit is what costs, so one per message keeps intake fast.
    The unique index on the provider's id is what dedupes: a first try assumes the
    message is new (a repeated delivery is rare), a try after a collision looks it up.
    """
    kind, value, item = _identity(item)
    files = await _put_files(ctx, item.attachments, raw)
    for attempt in range(ATTEMPTS):
        try:
            async with transaction(ctx) as session:
                stored = await _stored_in(session, item) if attempt else None
                if stored is not None:
                    return stored
                async with batched(session, ctx):
                    found = await find_or_create_customer(
                        session,
                        ctx,
                        kind=kind,
                        value=value,
                        display_name=item.sender.display_name or _display(kind),
                    )
                    route = _Route(queue_id, account_provider)
                    received = await _store(session, ctx, item, found, route, files)
            break
        except IntegrityError:
            # A concurrent delivery stored the same message, or created the same
            # customer, first (or this one was stored before): everything rolled back;
            # look again.
            if attempt == ATTEMPTS - 1:
                raise
    if received.task_id is not None:
        wake_router()
    return received


def _identity(item: InboundMessage) -> tuple[IdentityKind, str, InboundMessage]:
    """The sender's identity, normalised; a message with no usable sender (a damaged
    one) is kept under one "unknown sender" customer and flagged, not refused."""
    try:
        return item.sender.kind, normalise_identity(item.sender.kind, item.sender.value), item
    except InvalidInput:
        flagged = replace(item, flags=item.flags | {"unknown_sender"})
        return IdentityKind.EXTERNAL, f"unknown-sender:{item.provider}", flagged


def _display(kind: IdentityKind) -> str | None:
    return UNKNOWN_SENDER if kind is IdentityKind.EXTERNAL else None


@dataclass(frozen=True, slots=True)
class _File:
    filename: str
    content_type: str
    size: int
    sha256: str
    key: str
    inline: bool


async def _put_files(
    ctx: AppContext, attachments: tuple[InboundAttachment, ...], raw: bytes | None
) -> list[_File]:
    """Blobs first: a blob without its row is harmless, a row without its blob is not."""
    items = [(a.filename, a.content_type, a.data, a.inline) for a in attachments if a.data]
    if raw is not None:
        items.append(("original.eml", "message/rfc822", raw, False))
    files = []
    for filename, content_type, data, inline in items:
        assert data is not None
        media_type = safe_content_type(content_type)
        key = await ctx.blobs.put(data, content_type=media_type)
        files.append(
            _File(
                safe_filename(filename),
                media_type,
                len(data),
                hashlib.sha256(data).hexdigest(),
                key,
                inline,
            )
        )
    return files


@dataclass(frozen=True, slots=True)
class _Route:
    """Where a new conversation goes: a queue, or the provider whose account at the
    message's recipient gives it."""

    queue_id: int | None
    account_provider: str | None


async def _queue_of(session: AsyncSession, item: InboundMessage, route: _Route) -> int | None:
    if route.account_provider is None or not item.recipient:
        return route.queue_id
    account = await find_account(session, provider=route.account_provider, address=item.recipient)
    return account.queue_id if account is not None else None


async def _stored_in(session: AsyncSession, item: InboundMessage) -> Received | None:
    message = await session.scalar(
        select(Message).where(
            Message.channel == item.channel,
            Message.provider_message_id == item.provider_message_id,
        )
    )
    if message is None:
        return None
    conversation = await session.get(Conversation, message.conversation_id)
    assert conversation is not None
    return Received(
        message_id=message.id,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        interaction_id=message.interaction_id,
        duplicate=True,
    )


async def _store(
    session: AsyncSession,
    ctx: AppContext,
    item: InboundMessage,
    customer: FoundCustomer,
    route: _Route,
    files: list[_File],
) -> Received:
    now = ctx.clock.now()
    conversation = await _thread(session, item, customer, now)
    new_conversation = conversation is None
    if conversation is None:
        queue_id = await _queue_of(session, item, route)
        conversation = await _new_conversation(
            session, ctx, item, customer.customer_id, queue_id, now
        )
    elif conversation.status in _CLOSED:
        previous = conversation.status
        conversation.status = ConversationStatus.OPEN
        conversation.closed_at = None
        await record_conversation_event(
            session,
            ctx,
            EventType.CONVERSATION_STATUS_CHANGED,
            conversation,
            actor_user_id=None,
            payload={"status": "open", "previous": previous.value, "reason": "customer_wrote"},
        )
    conversation.updated_at = now
    automatic = bool(item.flags & AUTOMATIC)
    # A conversation created just now has no interaction yet.
    interaction = None if new_conversation else await _live_interaction(session, conversation, item)
    task_id = None
    if interaction is None and not automatic:
        interaction = await _new_interaction(session, ctx, conversation, item, now)
        task = await insert_task(
            session,
            ctx,
            interaction,
            conversation,
            attributes={"provider": item.provider, "kind": item.kind.value},
            new_interaction=True,
            last_agent_ids=[] if customer.created else None,
        )
        task_id = task.id
    message = Message(
        conversation_id=conversation.id,
        interaction_id=interaction.id if interaction else None,
        channel=item.channel,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CUSTOMER,
        body_text=item.text,
        body_html=item.html,
        provider_message_id=item.provider_message_id,
        delivery_status=DeliveryStatus.RECEIVED,
        metadata_=_metadata(item),
        created_at=now,
    )
    session.add(message)
    await session.flush()
    session.add_all(
        Attachment(
            message_id=message.id,
            filename=file.filename,
            content_type=file.content_type,
            size=file.size,
            sha256=file.sha256,
            storage_key=file.key,
            inline=file.inline,
            created_at=now,
        )
        for file in files
    )
    await record_conversation_event(
        session,
        ctx,
        EventType.MESSAGE_CREATED,
        conversation,
        actor_user_id=None,
        payload={
            "channel": message.channel.value,
            "direction": message.direction.value,
            "author_kind": message.author_kind.value,
            "interaction_id": message.interaction_id,
        },
        entity_kind="message",
        entity_id=message.id,
    )
    return Received(
        message_id=message.id,
        conversation_id=conversation.id,
        customer_id=customer.customer_id,
        interaction_id=message.interaction_id,
        task_id=task_id,
    )


async def _thread(
    session: AsyncSession, item: InboundMessage, customer: FoundCustomer, now: datetime
) -> Conversation | None:
    """The conversation this message answers, or the customer's recent open one (a
    customer created just now has none)."""
    if item.thread_refs:
        answered = (
            select(Message.conversation_id)
            .where(
                Message.channel == item.channel,
                Message.provider_message_id.in_(item.thread_refs),
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        found = await session.scalar(answered)
        if found is not None:
            return await session.get(Conversation, found)
    if customer.created:
        return None
    customer_id = customer.customer_id
    token = item.metadata.get("subject_token")
    if isinstance(token, int):
        conversation = await session.get(Conversation, token)
        # A token only counts from the customer it was sent to: it is guessable.
        if conversation is not None and conversation.customer_id == customer_id:
            return conversation
    latest = (
        select(Conversation)
        .where(
            Conversation.customer_id == customer_id,
            Conversation.status.in_((ConversationStatus.OPEN, ConversationStatus.PENDING)),
        )
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(1)
    )
    recent = await session.scalar(latest)
    if recent is None:
        return None
    # Our clock, not the message's date: a sender's clock can say anything.
    if recent.updated_at < now - CONTINUE_WITHIN:
        return None
    return recent


async def _new_conversation(
    session: AsyncSession,
    ctx: AppContext,
    item: InboundMessage,
    customer_id: int,
    queue_id: int | None,
    now: datetime,
) -> Conversation:
    # The INSERT reads the queue's site itself: one round trip, not two.
    site_id = (
        select(Queue.site_id).where(Queue.id == queue_id).scalar_subquery()
        if queue_id is not None
        else None
    )
    new = insert(Conversation).values(
        customer_id=customer_id,
        subject=(item.subject or "")[:300],
        status=ConversationStatus.OPEN,
        queue_id=queue_id,
        site_id=site_id,
        priority=0,
        created_at=now,
        updated_at=now,
    )
    conversation: Conversation | None = await session.scalar(new.returning(Conversation))
    assert conversation is not None
    await record_conversation_event(
        session,
        ctx,
        EventType.CONVERSATION_CREATED,
        conversation,
        actor_user_id=None,
        payload={"customer_id": customer_id, "channel": item.channel.value},
    )
    return conversation


async def _live_interaction(
    session: AsyncSession, conversation: Conversation, item: InboundMessage
) -> Interaction | None:
    stmt = (
        select(Interaction)
        .where(
            Interaction.conversation_id == conversation.id,
            Interaction.channel == item.channel,
            Interaction.state.not_in(_ENDED),
        )
        .order_by(Interaction.id.desc())
        .limit(1)
    )
    interaction: Interaction | None = await session.scalar(stmt)
    return interaction


async def _new_interaction(
    session: AsyncSession,
    ctx: AppContext,
    conversation: Conversation,
    item: InboundMessage,
    now: datetime,
) -> Interaction:
    interaction = Interaction(
        conversation_id=conversation.id,
        channel=item.channel,
        direction=Direction.INBOUND,
        state=InteractionState.CREATED,
        queue_id=conversation.queue_id,
        site_id=conversation.site_id,
        arrived_at=now,
        hold_seconds=0.0,
    )
    session.add(interaction)
    await session.flush()
    await record_conversation_event(
        session,
        ctx,
        EventType.INTERACTION_CREATED,
        conversation,
        actor_user_id=None,
        payload={
            "state": interaction.state.value,
            "channel": interaction.channel.value,
            "queue_id": interaction.queue_id,
            "agent_id": None,
            "direction": interaction.direction.value,
        },
        entity_kind="interaction",
        entity_id=interaction.id,
    )
    return interaction


#: The adapters' details a message keeps: threading and replies (e-mail), quick-reply
#: payloads and media (messaging), what a review or a post says of itself (ratings, app
#: version, device, X thread), and where a web chat started.
_KEPT = (
    "references",
    "in_reply_to",
    "reply_to",
    "cc",
    "payload",
    "media_url",
    "rating",
    "review_id",
    "language",
    "app_version",
    "app_version_code",
    "android_version",
    "device",
    "device_model",
    "device_manufacturer",
    "original_text",
    "developer_reply",
    "developer_reply_at",
    "territory",
    "username",
    "conversation_id",
    "in_reply_to_user_id",
    "lang",
    "url",
    "widget",
    "chat_session",
    "page_url",
    "locale",
    "via",
)


def _metadata(item: InboundMessage) -> dict[str, str]:
    """What the timeline and replies need of the provider's details, as strings."""
    meta = {"provider": item.provider, "sender": item.sender.value}
    if item.recipient:
        meta["recipient"] = item.recipient
    if item.subject:
        meta["subject"] = item.subject[:300]
    if item.flags:
        meta["flags"] = ",".join(sorted(item.flags))
    if item.kind.value != "message":
        meta["kind"] = item.kind.value
    if item.sent_at is not None:
        meta["sent_at"] = item.sent_at.isoformat()
    for key in _KEPT:
        value = item.metadata.get(key)
        if isinstance(value, (tuple, list)):
            value = " ".join(str(v) for v in value)
        if isinstance(value, str) and value:
            meta[key] = value[:2000]
    return meta
