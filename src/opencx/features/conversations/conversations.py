"""Conversations: one customer need, possibly across channels and days."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import ConversationStatus, ReasonAxis
from opencx.core.errors import InvalidInput
from opencx.core.events import EventType
from opencx.core.lifecycles import CONVERSATION_TRANSITIONS, check_transition
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Conversation
from opencx.features.common import Page, Schema, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import (
    check_agent,
    check_queue,
    check_reason,
    conversation_visibility,
    load_conversation,
    record_conversation_event,
)
from opencx.features.customers.access import load_customer
from opencx.features.customers.identities import ensure_not_merged
from opencx.features.customers.schemas import InputSchema, RefId
from opencx.features.events.record import record_audit
from opencx.features.search import add_conversation_texts, reindex_conversations

__all__ = [
    "ConversationCreate",
    "ConversationOut",
    "ConversationUpdate",
    "StatusChange",
    "change_conversation_status",
    "create_conversation",
    "get_conversation",
    "list_conversations",
    "update_conversation",
]

_REASON_FIELDS = {f"{axis.value}_reason_id": axis for axis in ReasonAxis}
_NOT_NULL = frozenset({"subject", "priority"})
_EVENTS = {
    "create": EventType.CONVERSATION_CREATED,
    "update": EventType.CONVERSATION_UPDATED,
    "status": EventType.CONVERSATION_STATUS_CHANGED,
}


class ConversationCreate(InputSchema):
    """The conversation's site is its queue's site, else the creator's own site."""

    customer_id: RefId
    subject: str = Field(default="", max_length=300)
    intent: str | None = Field(default=None, min_length=1, max_length=80)
    priority: int = Field(default=0, ge=0, le=1000)
    queue_id: RefId | None = None
    assignee_id: RefId | None = None


class ConversationUpdate(InputSchema):
    """Only the fields sent change; send ``null`` to clear a queue, assignee or reason.
    Moving to a queue of another site moves the conversation to that site."""

    subject: str | None = Field(default=None, max_length=300)
    intent: str | None = Field(default=None, min_length=1, max_length=80)
    priority: int | None = Field(default=None, ge=0, le=1000)
    queue_id: RefId | None = None
    assignee_id: RefId | None = None
    declaration_reason_id: RefId | None = None
    qualification_reason_id: RefId | None = None
    action_reason_id: RefId | None = None


class StatusChange(InputSchema):
    status: ConversationStatus


class ConversationOut(Schema):
    id: int
    customer_id: int
    subject: str
    status: ConversationStatus
    intent: str | None
    priority: int
    queue_id: int | None
    site_id: int | None
    assignee_id: int | None
    declaration_reason_id: int | None
    qualification_reason_id: int | None
    action_reason_id: int | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


async def list_conversations(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    status: ConversationStatus | None = None,
    customer_id: int | None = None,
    queue_id: int | None = None,
    assignee_id: int | None = None,
    site_id: int | None = None,
) -> Page[ConversationOut]:
    require(principal, Permission.CONVERSATIONS_READ)
    stmt = select(Conversation)
    visibility = conversation_visibility(principal)
    if visibility is not None:
        stmt = stmt.where(visibility)
    filters: dict[str, Any] = {
        "status": status,
        "customer_id": customer_id,
        "queue_id": queue_id,
        "assignee_id": assignee_id,
        "site_id": site_id,
    }
    for name, value in filters.items():
        if value is not None:
            stmt = stmt.where(getattr(Conversation, name) == value)
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=Conversation.id,
            cursor=cursor,
            limit=limit,
            to_out=ConversationOut.model_validate,
        )


async def get_conversation(
    ctx: AppContext, principal: Principal, conversation_id: int
) -> ConversationOut:
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        return ConversationOut.model_validate(
            await load_conversation(session, principal, conversation_id)
        )


async def create_conversation(
    ctx: AppContext, principal: Principal, data: ConversationCreate
) -> ConversationOut:
    require(principal, Permission.CONVERSATIONS_WRITE)
    async with transaction(ctx) as session:
        customer = await load_customer(
            session, principal, data.customer_id, claimable=True, field="customer_id"
        )
        ensure_not_merged(customer)
        site_id = principal.site_id
        if data.queue_id is not None:
            queue = await check_queue(session, principal, data.queue_id)
            site_id = queue.site_id if queue.site_id is not None else site_id
        if data.assignee_id is not None:
            await check_agent(session, principal, data.assignee_id, field="assignee_id")
        now = ctx.clock.now()
        conversation = Conversation(
            **data.model_dump(),
            site_id=site_id,
            status=ConversationStatus.OPEN,
            created_at=now,
            updated_at=now,
            last_activity_at=now,
        )
        session.add(conversation)
        await session.flush()
        await add_conversation_texts(session, [(conversation.id, conversation.subject)])
        fields = data.model_dump(mode="json")
        await _record(session, ctx, principal, conversation, "create", fields)
        return ConversationOut.model_validate(conversation)


async def update_conversation(
    ctx: AppContext, principal: Principal, conversation_id: int, data: ConversationUpdate
) -> ConversationOut:
    require(principal, Permission.CONVERSATIONS_WRITE)
    changes = data.model_dump(exclude_unset=True)
    nulled = sorted(name for name in _NOT_NULL if name in changes and changes[name] is None)
    if nulled:
        raise InvalidInput(f"{nulled[0]} cannot be set to null", field=nulled[0])
    async with transaction(ctx) as session:
        conversation = await load_conversation(session, principal, conversation_id, for_update=True)
        await _check_references(session, principal, conversation, changes)
        for name, value in changes.items():
            setattr(conversation, name, value)
        conversation.updated_at = ctx.clock.now()
        await session.flush()
        if "subject" in changes:
            await reindex_conversations(session, [conversation.id])
        await _record(session, ctx, principal, conversation, "update", changes)
        return ConversationOut.model_validate(conversation)


async def change_conversation_status(
    ctx: AppContext, principal: Principal, conversation_id: int, data: StatusChange
) -> ConversationOut:
    """Move along ``CONVERSATION_TRANSITIONS``; closing stamps ``closed_at``, reopening
    clears it. An illegal move is a 409 and changes nothing."""
    require(principal, Permission.CONVERSATIONS_WRITE)
    async with transaction(ctx) as session:
        conversation = await load_conversation(session, principal, conversation_id, for_update=True)
        previous = conversation.status
        check_transition(CONVERSATION_TRANSITIONS, previous, data.status)
        now = ctx.clock.now()
        conversation.status = data.status
        conversation.closed_at = now if data.status is ConversationStatus.CLOSED else None
        conversation.updated_at = now
        await session.flush()
        await _record(
            session,
            ctx,
            principal,
            conversation,
            "status",
            {"status": data.status.value, "previous": previous.value},
        )
        return ConversationOut.model_validate(conversation)


async def _check_references(
    session: AsyncSession,
    principal: Principal,
    conversation: Conversation,
    changes: dict[str, Any],
) -> None:
    """Validate what ``changes`` points at; a new queue also sets the new site."""
    queue_id = changes.get("queue_id")
    if queue_id is not None:
        queue = await check_queue(session, principal, queue_id)
        if queue.site_id is not None:
            changes["site_id"] = queue.site_id
    assignee_id = changes.get("assignee_id")
    if assignee_id is not None:
        await check_agent(session, principal, assignee_id, field="assignee_id")
    for name, axis in _REASON_FIELDS.items():
        reason_id = changes.get(name)
        if reason_id is not None:
            await check_reason(session, reason_id, axis)


async def _record(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    conversation: Conversation,
    action: str,
    changes: dict[str, Any],
) -> None:
    record_audit(
        session,
        ctx,
        actor_user_id=principal.user_id,
        action=f"conversation.{action}",
        entity_kind="conversation",
        entity_id=conversation.id,
        changes=changes,
    )
    payload: dict[str, Any] = {
        "customer_id": conversation.customer_id,
        "queue_id": conversation.queue_id,
        "assignee_id": conversation.assignee_id,
        "status": conversation.status.value,
    }
    if action == "update":
        payload["fields"] = sorted(changes)
    if action == "status":
        payload["previous"] = changes["previous"]
    await record_conversation_event(
        session,
        ctx,
        _EVENTS[action],
        conversation,
        actor_user_id=principal.user_id,
        payload=payload,
    )
