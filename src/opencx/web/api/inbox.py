"""/api/v1/inbox and /api/v1/conversations/{id}/snooze: the agent desktop's lists of
conversations, and putting a conversation aside until later."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from opencx.core.enums import Channel, ConversationStatus
from opencx.core.inbox import InboxView
from opencx.core.search import MAX_QUERY
from opencx.features.common import Page
from opencx.features.conversations.snoozes import (
    SnoozeIn,
    SnoozeOut,
    end_snooze,
    snooze_conversation,
)
from opencx.features.inbox import InboxItem, list_inbox
from opencx.web.deps import TEXT, ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep

router = APIRouter(tags=["inbox"])

SearchQuery = Annotated[
    str | None,
    Query(
        max_length=MAX_QUERY,
        pattern=TEXT,
        description="customer name, e-mail, phone, subject or message words, or #case",
    ),
]


@router.get("/inbox", response_model=Page[InboxItem])
async def inbox(
    ctx: ContextDep,
    principal: PrincipalDep,
    view: InboxView = InboxView.MINE,
    channel: Channel | None = None,
    status: ConversationStatus | None = None,
    q: SearchQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[InboxItem]:
    """Conversations of one view (mine, team, waiting, snoozed, all), newest activity
    first (waiting: longest wait first), filtered and searched."""
    return await list_inbox(
        ctx,
        principal,
        view=view,
        channel=channel,
        status=status,
        q=q,
        cursor=cursor,
        limit=limit,
    )


@router.post("/conversations/{conversation_id}/snooze", response_model=SnoozeOut)
async def snooze(
    ctx: ContextDep, principal: PrincipalDep, conversation_id: EntityId, body: SnoozeIn
) -> SnoozeOut:
    """Take the conversation out of its handlers' inbox until ``until`` (at most 90 days
    ahead); it comes back then, or as soon as the customer writes."""
    return await snooze_conversation(ctx, principal, conversation_id, body)


@router.delete("/conversations/{conversation_id}/snooze", response_model=SnoozeOut)
async def unsnooze(
    ctx: ContextDep, principal: PrincipalDep, conversation_id: EntityId
) -> SnoozeOut:
    """Bring the conversation back now."""
    return await end_snooze(ctx, principal, conversation_id)
