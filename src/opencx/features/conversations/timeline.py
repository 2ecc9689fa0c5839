"""One conversation, one timeline across channels: interactions and messages in the
order they happened.

An interaction is placed at its arrival, a message at its creation; at equal times an
interaction comes before the messages it carries. Pages are cut by position in that
order; new entries arrive at the end, so a cursor stays valid while the conversation
goes on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Integer, literal_column, select, union_all

from opencx.core.errors import InvalidInput
from opencx.core.pagination import decode_cursor, encode_cursor
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Interaction, Message
from opencx.features.common import Page, Schema
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation
from opencx.features.conversations.interactions import InteractionOut
from opencx.features.conversations.messages import MessageOut, with_attachments

__all__ = ["TimelineEntry", "conversation_timeline"]

_INTERACTION, _MESSAGE = 0, 1
MAX_OFFSET = 2**31 - 1


class TimelineEntry(Schema):
    """Exactly one of ``interaction`` and ``message`` is set, as ``kind`` says."""

    kind: Literal["interaction", "message"]
    at: datetime
    interaction: InteractionOut | None = None
    message: MessageOut | None = None


async def conversation_timeline(
    ctx: AppContext,
    principal: Principal,
    conversation_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[TimelineEntry]:
    require(principal, Permission.CONVERSATIONS_READ)
    offset = _offset(cursor)
    entries = union_all(
        select(
            literal_column(str(_INTERACTION), Integer).label("rank"),
            Interaction.id.label("id"),
            Interaction.arrived_at.label("at"),
        ).where(Interaction.conversation_id == conversation_id),
        select(
            literal_column(str(_MESSAGE), Integer).label("rank"),
            Message.id.label("id"),
            Message.created_at.label("at"),
        ).where(Message.conversation_id == conversation_id),
    ).subquery()
    stmt = (
        select(entries.c.rank, entries.c.id)
        .order_by(entries.c.at, entries.c.rank, entries.c.id)
        .offset(offset)
        .limit(limit + 1)
    )
    async with transaction(ctx) as session:
        await load_conversation(session, principal, conversation_id)
        positions = [(int(rank), int(id_)) for rank, id_ in (await session.execute(stmt)).all()]
        page = positions[:limit]
        interactions = {
            row.id: InteractionOut.model_validate(row)
            for row in await session.scalars(
                select(Interaction).where(
                    Interaction.id.in_([i for r, i in page if r == _INTERACTION])
                )
            )
        }
        loaded = await session.scalars(
            select(Message).where(Message.id.in_([i for r, i in page if r == _MESSAGE]))
        )
        messages = {
            m.id: m
            for m in await with_attachments(session, [MessageOut.model_validate(m) for m in loaded])
        }
    items = [
        TimelineEntry(
            kind="interaction", at=interactions[i].arrived_at, interaction=interactions[i]
        )
        if rank == _INTERACTION
        else TimelineEntry(kind="message", at=messages[i].created_at, message=messages[i])
        for rank, i in page
    ]
    more = len(positions) > limit
    return Page[TimelineEntry](
        items=items, next_cursor=encode_cursor(offset + limit) if more else None
    )


def _offset(cursor: str | None) -> int:
    offset = decode_cursor(cursor) if cursor else 0
    if offset > MAX_OFFSET:
        raise InvalidInput("the cursor is not one this API returned", field="cursor")
    return offset
