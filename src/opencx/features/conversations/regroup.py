"""Merging two conversations of one customer, and splitting messages off into a new one:
how agents correct what threading grouped wrongly.

Rules:
- both need ``conversations.write`` and a conversation the caller sees (one they do not
  see reads as missing);
- a merge moves every message, attachment, interaction (with its routing tasks), note
  and help request of the source into the target, and closes the source; only
  conversations of the same customer merge (merge the customers first). A target that
  was resolved or closed reopens when the source was still open;
- a split moves the given messages (and their attachments) of one conversation into a
  new conversation of the same customer, queue and site; an interaction whose messages
  all move goes with them, a moved message whose interaction keeps other messages is
  detached from it. At least one message stays;
- each is one audit entry per conversation changed (``conversation.merge``,
  ``conversation.merged_into``, ``conversation.split``, ``conversation.split_from``) and
  events after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import ConversationStatus
from opencx.core.errors import Conflict, InvalidInput
from opencx.core.events import EventType
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import (
    Attachment,
    Conversation,
    ConversationNote,
    HelpRequest,
    Interaction,
    Message,
    RoutingTask,
)
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation, record_conversation_event
from opencx.features.conversations.activity import recompute_activity
from opencx.features.conversations.conversations import ConversationOut
from opencx.features.customers.schemas import InputSchema, RefId
from opencx.features.events.record import record_audit
from opencx.features.search import reindex_conversations

__all__ = ["ConversationMerge", "ConversationSplit", "merge_conversations", "split_conversation"]

#: The most messages one split moves.
MAX_SPLIT = 500
_LIVE = (ConversationStatus.OPEN, ConversationStatus.PENDING)


class ConversationMerge(InputSchema):
    """The conversation folded into the one named in the path."""

    source_id: RefId


class ConversationSplit(InputSchema):
    """The messages that leave for a new conversation; its subject (by default the
    subject of the first message moved, else the conversation's)."""

    message_ids: list[RefId] = Field(min_length=1, max_length=MAX_SPLIT)
    subject: str | None = Field(default=None, max_length=300)


async def merge_conversations(
    ctx: AppContext, principal: Principal, target_id: int, data: ConversationMerge
) -> ConversationOut:
    require(principal, Permission.CONVERSATIONS_WRITE)
    if data.source_id == target_id:
        raise InvalidInput("a conversation cannot be merged into itself", field="source_id")
    async with transaction(ctx) as session:
        # Locked in id order, so two merges of the same pair cannot deadlock.
        first, second = sorted((target_id, data.source_id))
        loaded = {
            first: await load_conversation(session, principal, first, for_update=True),
            second: await load_conversation(session, principal, second, for_update=True),
        }
        target, source = loaded[target_id], loaded[data.source_id]
        if source.customer_id != target.customer_id:
            raise Conflict(
                "only conversations of the same customer merge; merge the customers first",
                customer_id=source.customer_id,
            )
        moved = await _move(
            session,
            source.id,
            target.id,
            select(Message.id).where(Message.conversation_id == source.id),
        )
        # Files uploaded for an answer not yet written follow too, and so do the notes
        # and help requests (a help request keeps the site it was asked on).
        for model in (Attachment, ConversationNote, HelpRequest):
            await session.execute(
                update(model)
                .where(model.conversation_id == source.id)
                .values(conversation_id=target.id)
            )
        moved_interactions = await _move_interactions(
            session,
            list(
                await session.scalars(
                    select(Interaction.id).where(Interaction.conversation_id == source.id)
                )
            ),
            target.id,
        )
        now = ctx.clock.now()
        reopened = source.status in _LIVE and target.status not in _LIVE
        previous = source.status
        source.status = ConversationStatus.CLOSED
        source.closed_at = now
        source.updated_at = now
        if reopened:
            target.status = ConversationStatus.OPEN
            target.closed_at = None
        target.updated_at = now
        await session.flush()
        await _regrouped(session, [target.id, source.id])
        changes = {
            "source_id": source.id,
            "messages": moved,
            "interactions": moved_interactions,
        }
        _audit(session, ctx, principal, "merge", target.id, changes)
        _audit(session, ctx, principal, "merged_into", source.id, {"target_id": target.id})
        await _event(
            session,
            ctx,
            principal,
            EventType.CONVERSATION_UPDATED,
            target,
            {"fields": ["messages"], "merged_from": source.id},
        )
        await _event(
            session,
            ctx,
            principal,
            EventType.CONVERSATION_STATUS_CHANGED,
            source,
            {"previous": previous.value, "reason": "merged", "merged_into": target.id},
        )
        return ConversationOut.model_validate(target)


async def split_conversation(
    ctx: AppContext, principal: Principal, conversation_id: int, data: ConversationSplit
) -> ConversationOut:
    """The new conversation, holding the messages moved."""
    require(principal, Permission.CONVERSATIONS_WRITE)
    wanted = sorted(set(data.message_ids))
    async with transaction(ctx) as session:
        origin = await load_conversation(session, principal, conversation_id, for_update=True)
        rows = list(
            await session.scalars(
                select(Message).where(Message.conversation_id == origin.id).order_by(Message.id)
            )
        )
        chosen = [row for row in rows if row.id in set(wanted)]
        if len(chosen) != len(wanted):
            missing = sorted(set(wanted) - {row.id for row in chosen})
            raise InvalidInput(
                f"message {missing[0]} is not in conversation {origin.id}", field="message_ids"
            )
        if len(chosen) == len(rows):
            raise InvalidInput("a split leaves at least one message", field="message_ids")
        now = ctx.clock.now()
        subject = data.subject
        if subject is None:
            subject = chosen[0].metadata_.get("subject") or origin.subject
        new = Conversation(
            customer_id=origin.customer_id,
            subject=subject[:300],
            status=ConversationStatus.OPEN,
            intent=origin.intent,
            priority=origin.priority,
            queue_id=origin.queue_id,
            site_id=origin.site_id,
            assignee_id=origin.assignee_id,
            created_at=now,
            updated_at=now,
            last_activity_at=now,
        )
        session.add(new)
        await session.flush()
        staying = {row.interaction_id for row in rows if row.id not in set(wanted)}
        leaving = {row.interaction_id for row in chosen} - staying - {None}
        moved = await _move(
            session, origin.id, new.id, select(Message.id).where(Message.id.in_(wanted))
        )
        detached = [row.id for row in chosen if row.interaction_id in staying]
        if detached:
            await session.execute(
                update(Message).where(Message.id.in_(detached)).values(interaction_id=None)
            )
        await _move_interactions(session, sorted(i for i in leaving if i is not None), new.id)
        origin.updated_at = now
        await session.flush()
        await _regrouped(session, [origin.id, new.id])
        changes = {"new_conversation_id": new.id, "message_ids": wanted, "messages": moved}
        _audit(session, ctx, principal, "split", origin.id, changes)
        _audit(session, ctx, principal, "split_from", new.id, {"conversation_id": origin.id})
        await _event(
            session,
            ctx,
            principal,
            EventType.CONVERSATION_CREATED,
            new,
            {"customer_id": new.customer_id, "split_from": origin.id},
        )
        await _event(
            session,
            ctx,
            principal,
            EventType.CONVERSATION_UPDATED,
            origin,
            {"fields": ["messages"], "split_into": new.id},
        )
        await session.refresh(new)
        return ConversationOut.model_validate(new)


async def _regrouped(session: AsyncSession, conversation_ids: list[int]) -> None:
    """Messages moved: what the inbox reads of them is read again."""
    await recompute_activity(session, conversation_ids)
    await reindex_conversations(session, conversation_ids)


async def _move(session: AsyncSession, source_id: int, target_id: int, ids: Any) -> int:
    """Move the messages ``ids`` selects, and their attachments; how many moved."""
    message_ids = list(await session.scalars(ids))
    if not message_ids:
        return 0
    await session.execute(
        update(Message).where(Message.id.in_(message_ids)).values(conversation_id=target_id)
    )
    await session.execute(
        update(Attachment)
        .where(Attachment.conversation_id == source_id, Attachment.message_id.in_(message_ids))
        .values(conversation_id=target_id)
    )
    return len(message_ids)


async def _move_interactions(
    session: AsyncSession, interaction_ids: Sequence[int], target_id: int
) -> int:
    """Move interactions, and point their routing tasks at the new conversation."""
    if not interaction_ids:
        return 0
    await session.execute(
        update(Interaction)
        .where(Interaction.id.in_(interaction_ids))
        .values(conversation_id=target_id)
    )
    tasks = await session.scalars(
        select(RoutingTask).where(RoutingTask.interaction_id.in_(interaction_ids))
    )
    for task in tasks:
        task.attributes = {**task.attributes, "conversation_id": target_id}
    return len(interaction_ids)


def _audit(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    action: str,
    conversation_id: int,
    changes: dict[str, Any],
) -> None:
    record_audit(
        session,
        ctx,
        actor_user_id=principal.user_id,
        action=f"conversation.{action}",
        entity_kind="conversation",
        entity_id=conversation_id,
        changes=changes,
    )


async def _event(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    type_: EventType,
    conversation: Conversation,
    extra: dict[str, Any],
) -> None:
    payload: dict[str, Any] = {
        "customer_id": conversation.customer_id,
        "queue_id": conversation.queue_id,
        "assignee_id": conversation.assignee_id,
        "status": conversation.status.value,
        **extra,
    }
    await record_conversation_event(
        session, ctx, type_, conversation, actor_user_id=principal.user_id, payload=payload
    )
