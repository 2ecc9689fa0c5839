"""/api/v1/conversations: one customer need across channels, and its timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from opencx.core.enums import ConversationStatus
from opencx.features import conversations
from opencx.features.common import Page
from opencx.features.conversations.regroup import (
    ConversationMerge,
    ConversationSplit,
    merge_conversations,
    split_conversation,
)
from opencx.features.conversations.reply_windows import ReplyWindowOut, get_reply_windows
from opencx.web.deps import MAX_ID, ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(prefix="/conversations", tags=["conversations"])

IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get("", response_model=Page[conversations.ConversationOut])
async def list_conversations(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    status: ConversationStatus | None = None,
    customer_id: IdFilter = None,
    queue_id: IdFilter = None,
    assignee_id: IdFilter = None,
    site_id: IdFilter = None,
) -> Page[conversations.ConversationOut]:
    return await conversations.list_conversations(
        ctx,
        principal,
        cursor=cursor,
        limit=limit,
        status=status,
        customer_id=customer_id,
        queue_id=queue_id,
        assignee_id=assignee_id,
        site_id=site_id,
    )


@router.post("", status_code=201, response_model=conversations.ConversationOut)
async def create_conversation(
    request: Request,
    ctx: ContextDep,
    principal: PrincipalDep,
    body: conversations.ConversationCreate,
) -> JSONResponse:
    return await created(
        request, ctx, principal, lambda: conversations.create_conversation(ctx, principal, body)
    )


@router.get("/{conversation_id}", response_model=conversations.ConversationOut)
async def get_conversation(
    ctx: ContextDep, principal: PrincipalDep, conversation_id: EntityId
) -> conversations.ConversationOut:
    return await conversations.get_conversation(ctx, principal, conversation_id)


@router.patch("/{conversation_id}", response_model=conversations.ConversationOut)
async def update_conversation(
    ctx: ContextDep,
    principal: PrincipalDep,
    conversation_id: EntityId,
    body: conversations.ConversationUpdate,
) -> conversations.ConversationOut:
    return await conversations.update_conversation(ctx, principal, conversation_id, body)


@router.post("/{conversation_id}/status", response_model=conversations.ConversationOut)
async def change_status(
    ctx: ContextDep,
    principal: PrincipalDep,
    conversation_id: EntityId,
    body: conversations.StatusChange,
) -> conversations.ConversationOut:
    return await conversations.change_conversation_status(ctx, principal, conversation_id, body)


@router.post("/{conversation_id}/merge", response_model=conversations.ConversationOut)
async def merge(
    ctx: ContextDep,
    principal: PrincipalDep,
    conversation_id: EntityId,
    body: ConversationMerge,
) -> conversations.ConversationOut:
    """Fold conversation ``source_id`` (same customer) into this one, which is returned;
    the source is closed."""
    return await merge_conversations(ctx, principal, conversation_id, body)


@router.post(
    "/{conversation_id}/split", status_code=201, response_model=conversations.ConversationOut
)
async def split(
    ctx: ContextDep,
    principal: PrincipalDep,
    conversation_id: EntityId,
    body: ConversationSplit,
) -> conversations.ConversationOut:
    """Move the messages named into a new conversation of the same customer, returned."""
    return await split_conversation(ctx, principal, conversation_id, body)


@router.get("/{conversation_id}/timeline", response_model=Page[conversations.TimelineEntry])
async def timeline(
    ctx: ContextDep,
    principal: PrincipalDep,
    conversation_id: EntityId,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[conversations.TimelineEntry]:
    """Interactions and messages of every channel, in the order they happened."""
    return await conversations.conversation_timeline(
        ctx, principal, conversation_id, cursor=cursor, limit=limit
    )


@router.get("/{conversation_id}/reply-windows", response_model=list[ReplyWindowOut])
async def reply_windows(
    ctx: ContextDep, principal: PrincipalDep, conversation_id: EntityId
) -> list[ReplyWindowOut]:
    """Per WhatsApp, Messenger and Instagram: whether a free-form answer is allowed now
    (the customer wrote less than 24 hours ago) and when that window closes."""
    return await get_reply_windows(ctx, principal, conversation_id)
