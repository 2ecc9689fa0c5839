"""One conversation, one timeline across channels: interactions, messages, internal
notes and help requests in the order they happened.

An interaction is placed at its arrival (it carries its coding: reasons and summary),
a message, a note and a help request at their creation (a help request carries its
answer); at equal times an interaction comes before the messages it carries, then
notes, then help requests. Pages are cut by position in that order; new entries arrive
at the end, so a cursor stays valid while the conversation goes on. Notes and help
requests are for agents and supervisors: no path towards the customer reads them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Integer, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import InvalidInput
from opencx.core.pagination import decode_cursor, encode_cursor
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import ConversationNote, HelpRequest, Interaction, Message
from opencx.features.common import Page, Schema
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation
from opencx.features.conversations.help_requests import HelpRequestOut
from opencx.features.conversations.interactions import InteractionOut
from opencx.features.conversations.messages import MessageOut, as_read_by, with_attachments
from opencx.features.conversations.notes import NoteOut, notes_out

__all__ = ["TimelineEntry", "conversation_timeline"]

_INTERACTION, _MESSAGE, _NOTE, _HELP = 0, 1, 2, 3
MAX_OFFSET = 2**31 - 1


class TimelineEntry(Schema):
    """Exactly one of ``interaction``, ``message``, ``note`` and ``help_request`` is
    set, as ``kind`` says."""

    kind: Literal["interaction", "message", "note", "help_request"]
    at: datetime
    interaction: InteractionOut | None = None
    message: MessageOut | None = None
    note: NoteOut | None = None
    help_request: HelpRequestOut | None = None


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
        select(
            literal_column(str(_NOTE), Integer).label("rank"),
            ConversationNote.id.label("id"),
            ConversationNote.created_at.label("at"),
        ).where(ConversationNote.conversation_id == conversation_id),
        select(
            literal_column(str(_HELP), Integer).label("rank"),
            HelpRequest.id.label("id"),
            HelpRequest.created_at.label("at"),
        ).where(HelpRequest.conversation_id == conversation_id),
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
        found = await _entries(session, principal, page)
    items = [found[position] for position in page]
    more = len(positions) > limit
    return Page[TimelineEntry](
        items=items, next_cursor=encode_cursor(offset + limit) if more else None
    )


async def _entries(
    session: AsyncSession, principal: Principal, page: list[tuple[int, int]]
) -> dict[tuple[int, int], TimelineEntry]:
    """The entries at ``page``'s positions, with one query per kind of row; messages as
    ``principal`` may read them."""

    def ids(rank: int) -> list[int]:
        return [row_id for r, row_id in page if r == rank]

    found: dict[tuple[int, int], TimelineEntry] = {}
    for row in await session.scalars(
        select(Interaction).where(Interaction.id.in_(ids(_INTERACTION)))
    ):
        out = InteractionOut.model_validate(row)
        found[_INTERACTION, row.id] = TimelineEntry(
            kind="interaction", at=out.arrived_at, interaction=out
        )
    loaded = await session.scalars(select(Message).where(Message.id.in_(ids(_MESSAGE))))
    for message in await with_attachments(session, [MessageOut.model_validate(m) for m in loaded]):
        found[_MESSAGE, message.id] = TimelineEntry(
            kind="message", at=message.created_at, message=as_read_by(principal, message)
        )
    if ids(_NOTE):  # most pages hold none: no query for them
        notes = await session.scalars(
            select(ConversationNote).where(ConversationNote.id.in_(ids(_NOTE)))
        )
        for note in await notes_out(session, list(notes)):
            found[_NOTE, note.id] = TimelineEntry(kind="note", at=note.created_at, note=note)
    asked_ids = ids(_HELP)
    if not asked_ids:
        return found
    for asked in await session.scalars(select(HelpRequest).where(HelpRequest.id.in_(asked_ids))):
        request = HelpRequestOut.model_validate(asked)
        found[_HELP, asked.id] = TimelineEntry(
            kind="help_request", at=request.created_at, help_request=request
        )
    return found


def _offset(cursor: str | None) -> int:
    offset = decode_cursor(cursor) if cursor else 0
    if offset > MAX_OFFSET:
        raise InvalidInput("the cursor is not one this API returned", field="cursor")
    return offset
