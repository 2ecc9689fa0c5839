"""Storing one received message in its conversation, inside the caller's transaction:
the rules of ``opencx.features.channels.inbound`` for a message whose customer is
known (found, or created in that transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.channels.base import InboundMessage
from opencx.core.enums import (
    AuthorKind,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    InteractionState,
)
from opencx.core.events import EventType
from opencx.core.mail_trust import ThreadRule, may_join_existing, same_subject
from opencx.db.models import Attachment, Conversation, Interaction, Message, Queue
from opencx.features.channels.intake_metrics import intake_metrics
from opencx.features.channels.mail_trust import note_reply_to, thread_rule, verdict_of
from opencx.features.context import AppContext
from opencx.features.conversations.access import record_conversation_event
from opencx.features.conversations.attachments import NewFile
from opencx.features.customers.resolution import FoundCustomer
from opencx.features.directory.channel_accounts import account_queue
from opencx.features.eventlog import insert_rows
from opencx.features.routing.tasks import insert_task

__all__ = [
    "AUTOMATIC",
    "CONTINUE_WITHIN",
    "Received",
    "Route",
    "message_metadata",
    "queue_of",
    "store_message",
    "stored_in",
    "unknown_account_queue",
]

log = structlog.get_logger(__name__)

#: How recent a customer's open conversation must be for a new contact to continue it.
CONTINUE_WITHIN = timedelta(days=7)
#: Flags that mark a message no one should be asked to answer.
AUTOMATIC = frozenset({"auto_submitted", "bounce"})
#: How many of a customer's recent conversations a new subject is compared with.
_SUBJECT_CANDIDATES = 20
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


@dataclass(frozen=True, slots=True)
class Route:
    """Where a new conversation goes: a queue, or the provider whose account at the
    message's recipient gives it. ``unknown_account`` names the provider of a caller
    that found no account for the message (its ``queue_id`` is then ``None``)."""

    queue_id: int | None
    account_provider: str | None
    unknown_account: str | None = None


async def queue_of(
    session: AsyncSession, ctx: AppContext, item: InboundMessage, route: Route
) -> int | None:
    if route.unknown_account is not None:
        return unknown_account_queue(ctx, item, route.unknown_account)
    if route.account_provider is None:
        return route.queue_id
    found = None
    if item.recipient:
        found = await account_queue(
            session, provider=route.account_provider, address=item.recipient
        )
    if found is None:
        return unknown_account_queue(ctx, item, route.account_provider)
    return found[0]


def unknown_account_queue(ctx: AppContext, item: InboundMessage, provider: str) -> int | None:
    """The queue of a new conversation whose message came to an address no active
    account has: the configured default (``intake.unknown_account_queue_id``), else
    none (kept, not routed to a queue). Logged and counted either way."""
    queue_id = ctx.settings.intake.unknown_account_queue_id
    outcome = "unrouted" if queue_id is None else "default_queue"
    log.warning(
        "inbound_for_unknown_account",
        provider=provider,
        channel=item.channel.value,
        recipient=item.recipient,
        provider_message_id=item.provider_message_id,
        queue_id=queue_id,
    )
    intake_metrics(ctx).unknown_account.labels(provider, item.channel.value, outcome).inc()
    return queue_id


async def stored_in(session: AsyncSession, item: InboundMessage) -> Received | None:
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


async def store_message(
    session: AsyncSession,
    ctx: AppContext,
    item: InboundMessage,
    customer: FoundCustomer,
    route: Route,
    files: Sequence[NewFile],
) -> Received:
    now = ctx.clock.now()
    conversation = await _thread(session, item, customer, now)
    new_conversation = conversation is None
    if conversation is None:
        queue_id = await queue_of(session, ctx, item, route)
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
        metadata_=message_metadata(item)
        | await note_reply_to(session, ctx, item, customer.customer_id),
        created_at=now,
    )
    session.add(message)
    await session.flush()
    # One Core statement, as a batch inserts them: a message with a thousand parts is
    # a thousand ORM objects to flush on the event loop otherwise.
    await insert_rows(
        session,
        Attachment,
        [
            file.row(conversation_id=conversation.id, message_id=message.id, created_at=now)
            for file in files
        ],
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
    """The conversation this message answers, or the customer's recent open one that
    the mailbox's rule lets it join (a customer created just now has none); none for a
    message whose sender a trusted relay found forged."""
    if not may_join_existing(verdict_of(item)):
        return None
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
    return await _recent(session, item, customer_id, now)


async def _recent(
    session: AsyncSession, item: InboundMessage, customer_id: int, now: datetime
) -> Conversation | None:
    """The customer's latest open conversation updated within ``CONTINUE_WITHIN`` (our
    clock, not the message's date: a sender's clock can say anything) that the rule
    lets the message join."""
    rule = await thread_rule(session, item)
    latest = (
        select(Conversation)
        .where(
            Conversation.customer_id == customer_id,
            Conversation.status.in_((ConversationStatus.OPEN, ConversationStatus.PENDING)),
            Conversation.updated_at >= now - CONTINUE_WITHIN,
        )
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(1 if rule is ThreadRule.RECENT else _SUBJECT_CANDIDATES)
    )
    for conversation in await session.scalars(latest):
        if rule is ThreadRule.RECENT or same_subject(
            conversation.subject, (item.subject or "")[:300]
        ):
            return conversation
    return None


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
    "authentication",
    "authentication_details",
    # A chat's address as the visitor typed it, and whether they proved it theirs.
    "email",
    "email_verified",
)


def message_metadata(item: InboundMessage) -> dict[str, str]:
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
