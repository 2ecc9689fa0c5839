"""Internal notes: what agents write about a conversation for each other, with
@mentions. A note is not a message: it lives in its own table, which no path towards
customers (the chat widget, transcripts, e-mail, messaging) reads.

Rules (``core.notes``): whoever may write the conversation may note on it; every
mentioned user must be able to read it (422 naming those who cannot); ``note.created``
names the note's conversation, author and mentions, never its text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import SiteKind
from opencx.core.errors import InvalidInput, NotFound
from opencx.core.events import EventType
from opencx.core.notes import MAX_MENTIONS, MAX_NOTE, note_payload, unable_to_read
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import ConversationNote, Site, SiteGrant, User
from opencx.features.common import Page, Schema, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation, record_conversation_event
from opencx.features.customers.schemas import InputSchema, RefId

__all__ = ["NoteCreate", "NoteOut", "get_note", "list_notes", "notes_out", "post_note"]


class NoteCreate(InputSchema):
    body: str = Field(min_length=1, max_length=MAX_NOTE)
    #: Users to draw in (ids); each must be able to read the conversation.
    mentions: list[RefId] = Field(default_factory=list, max_length=MAX_MENTIONS)

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("write something")
        return value

    @field_validator("mentions")
    @classmethod
    def _once_each(cls, value: list[int]) -> list[int]:
        return list(dict.fromkeys(value))


class NoteOut(Schema):
    id: int
    conversation_id: int
    author_id: int | None
    author_name: str | None
    body: str
    mentions: list[int]
    #: The note a transfer carried to the next agent.
    transfer: bool
    created_at: datetime


async def post_note(
    ctx: AppContext, principal: Principal, conversation_id: int, data: NoteCreate
) -> NoteOut:
    require(principal, Permission.CONVERSATIONS_WRITE)
    async with transaction(ctx) as session:
        conversation = await load_conversation(session, principal, conversation_id)
        unable = unable_to_read(await readers(session, data.mentions), conversation.site_id)
        if unable:
            raise InvalidInput(
                f"users {unable} cannot read conversation {conversation.id}: "
                "a note mentions only people who can",
                field="mentions",
                user_ids=unable,
            )
        note = ConversationNote(
            conversation_id=conversation.id,
            author_id=principal.user_id,
            body=data.body,
            mentions=data.mentions,
            transfer=False,
            created_at=ctx.clock.now(),
        )
        session.add(note)
        await session.flush()
        await record_conversation_event(
            session,
            ctx,
            EventType.NOTE_CREATED,
            conversation,
            actor_user_id=principal.user_id,
            payload=note_payload(
                conversation_id=conversation.id,
                author_id=principal.user_id,
                mentions=data.mentions,
                transfer=False,
                task_id=None,
            ),
            entity_kind="note",
            entity_id=note.id,
        )
        return (await notes_out(session, [note]))[0]


async def get_note(ctx: AppContext, principal: Principal, note_id: int) -> NoteOut:
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        note = await session.get(ConversationNote, note_id)
        if note is None:
            raise NotFound(f"note {note_id} does not exist")
        try:
            await load_conversation(session, principal, note.conversation_id)
        except NotFound:
            raise NotFound(f"note {note_id} does not exist") from None
        return (await notes_out(session, [note]))[0]


async def list_notes(
    ctx: AppContext,
    principal: Principal,
    conversation_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[NoteOut]:
    """Oldest first."""
    require(principal, Permission.CONVERSATIONS_READ)
    stmt = select(ConversationNote).where(ConversationNote.conversation_id == conversation_id)
    async with transaction(ctx) as session:
        await load_conversation(session, principal, conversation_id)
        page = await paginate(
            session, stmt, id_column=ConversationNote.id, cursor=cursor, limit=limit, to_out=_raw
        )
        return Page[NoteOut](
            items=await notes_out(session, page.items), next_cursor=page.next_cursor
        )


def _raw(note: ConversationNote) -> ConversationNote:
    return note


async def notes_out(session: AsyncSession, notes: Sequence[ConversationNote]) -> list[NoteOut]:
    """The notes with their authors' names, in one more query."""
    names = await user_names(session, {n.author_id for n in notes if n.author_id is not None})
    return [
        NoteOut(
            id=note.id,
            conversation_id=note.conversation_id,
            author_id=note.author_id,
            author_name=names.get(note.author_id) if note.author_id is not None else None,
            body=note.body,
            mentions=list(note.mentions),
            transfer=note.transfer,
            created_at=note.created_at,
        )
        for note in notes
    ]


async def user_names(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    stmt = select(User.id, User.display_name).where(User.id.in_(wanted))
    names: dict[int, str] = dict((await session.execute(stmt)).all())
    return names


async def readers(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, Principal | None]:
    """Each of ``user_ids`` as the permission rules see them; ``None`` for a user who
    does not exist or is deactivated. Three queries, however many."""
    if not user_ids:
        return {}
    users = {
        user.id: user
        for user in await session.scalars(
            select(User).where(User.id.in_(user_ids), User.is_active.is_(True))
        )
    }
    site_ids = {u.site_id for u in users.values() if u.site_id is not None}
    stmt = select(Site.id, Site.kind).where(Site.id.in_(site_ids))
    kinds: dict[int, SiteKind] = dict((await session.execute(stmt)).all())
    grants: dict[int, set[int]] = {}
    rows = await session.execute(
        select(SiteGrant.user_id, SiteGrant.site_id).where(SiteGrant.user_id.in_(users))
    )
    for user_id, site_id in rows:
        grants.setdefault(user_id, set()).add(site_id)
    found: dict[int, Principal | None] = dict.fromkeys(user_ids)
    for user in users.values():
        found[user.id] = Principal(
            user_id=user.id,
            role=user.role,
            site_id=user.site_id,
            site_kind=kinds.get(user.site_id) if user.site_id is not None else None,
            granted_site_ids=frozenset(grants.get(user.id, ())),
        )
    return found
