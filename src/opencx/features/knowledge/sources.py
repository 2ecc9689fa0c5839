"""What the suggestions index is built from, read from the database: canned responses,
articles, and the agents' answers in the most recent resolved conversations.

Rules:
- a past answer is the last non-empty message an agent wrote in a conversation that is
  resolved or closed (a closed need is one that was met); it is found by the
  conversation's subject, what the customer wrote there (their first messages) and
  the answer's own words;
- only the ``knowledge.past_conversations`` most recent such conversations count;
- a source is read again only when its row changed (``version``): the conversations'
  messages are the costly part, and most are the same from one build to the next;
- the stamp says cheaply whether anything changed: the last ``knowledge.changed``
  event (canned responses, articles) and the last status change or update of a
  conversation (resolved, reopened, moved to another site).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ScalarSelect, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import AuthorKind, ConversationStatus
from opencx.core.events import EventType
from opencx.core.knowledge import Audience, ContentLocale, SourceKind
from opencx.db.models import CannedResponse, Conversation, Customer, Event, KnowledgeArticle
from opencx.db.models import Message as MessageRow
from opencx.features.knowledge.access import article_audience, canned_audience
from opencx.features.knowledge.rendering import without_markup

__all__ = ["Source", "Stamp", "read_library", "read_past_answers", "read_stamp"]

FINISHED = (ConversationStatus.RESOLVED, ConversationStatus.CLOSED)
#: What the customer wrote that a past answer is found by, and what it shows.
QUESTION_CHARS = 3000
ANSWER_CHARS = 3000
#: Conversations whose messages are read in one query.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Stamp:
    library: int
    conversations: int


@dataclass(frozen=True, slots=True)
class Source:
    """One document before tokenising: ``searched`` is what is matched, ``text`` what
    is shown; ``locale`` is None where the language must be guessed (past answers)."""

    kind: SourceKind
    id: int
    version: datetime
    title: str
    searched: str
    text: str
    locale: ContentLocale | None
    language_hint: str | None
    audience: Audience

    @property
    def key(self) -> tuple[SourceKind, int]:
        return (self.kind, self.id)


@functools.cache
def _stamp_query() -> Select[int | None, int | None, int | None]:
    """Built once: building it cost more than running it."""

    def last(type_: EventType) -> ScalarSelect[int | None]:
        return select(func.max(Event.id)).where(Event.type == type_.value).scalar_subquery()

    return select(
        last(EventType.KNOWLEDGE_CHANGED),
        last(EventType.CONVERSATION_STATUS_CHANGED),
        last(EventType.CONVERSATION_UPDATED),
    )


async def read_stamp(session: AsyncSession) -> Stamp:
    row = (await session.execute(_stamp_query())).one()
    library, status, update = (int(value or 0) for value in row)
    return Stamp(library=library, conversations=max(status, update))


async def read_library(session: AsyncSession) -> list[Source]:
    """Every canned response and article (the index masks what a caller may not see)."""
    sources = [_canned(row) for row in await session.scalars(select(CannedResponse))]
    sources += [_article(row) for row in await session.scalars(select(KnowledgeArticle))]
    return sources


def _canned(row: CannedResponse) -> Source:
    words = without_markup(row.body)
    return Source(
        kind=SourceKind.CANNED,
        id=row.id,
        version=row.updated_at,
        title=row.title,
        searched=f"{row.title}\n{row.title}\n{row.shortcut or ''}\n{words}",
        text=row.body,
        locale=ContentLocale(row.locale),
        language_hint=None,
        audience=canned_audience(row),
    )


def _article(row: KnowledgeArticle) -> Source:
    tags = " ".join(row.tags)
    return Source(
        kind=SourceKind.ARTICLE,
        id=row.id,
        version=row.updated_at,
        title=row.title,
        searched=f"{row.title}\n{row.title}\n{tags}\n{row.body}",
        text=row.body,
        locale=ContentLocale(row.locale),
        language_hint=None,
        audience=article_audience(row),
    )


@dataclass(frozen=True, slots=True)
class _Header:
    id: int
    version: datetime
    site_id: int | None
    subject: str
    language: str | None


async def read_past_answers(
    session: AsyncSession, *, limit: int, known: Mapping[tuple[SourceKind, int], Source]
) -> list[Source]:
    """The past answers of the ``limit`` most recent finished conversations; those in
    ``known`` at the same version are taken from there instead of read again."""
    if limit < 1:
        return []
    rows = await session.execute(
        select(
            Conversation.id,
            Conversation.updated_at,
            Conversation.site_id,
            Conversation.subject,
            Customer.language,
        )
        .join(Customer, Customer.id == Conversation.customer_id)
        .where(Conversation.status.in_(FINISHED))
        .order_by(Conversation.id.desc())
        .limit(limit)
    )
    headers = [_Header(*row) for row in rows]
    sources: list[Source] = []
    unread: list[_Header] = []
    for header in headers:
        cached = known.get((SourceKind.PAST_ANSWER, header.id))
        if cached is not None and cached.version == header.version:
            sources.append(cached)
        else:
            unread.append(header)
    for start in range(0, len(unread), _CHUNK):
        sources += await _read_answers(session, unread[start : start + _CHUNK])
    return sources


async def _read_answers(session: AsyncSession, headers: Sequence[_Header]) -> list[Source]:
    by_id = {header.id: header for header in headers}
    rows = await session.execute(
        select(MessageRow.conversation_id, MessageRow.author_kind, MessageRow.body_text)
        .where(
            MessageRow.conversation_id.in_(by_id),
            MessageRow.author_kind.in_((AuthorKind.CUSTOMER, AuthorKind.AGENT)),
            MessageRow.body_text != "",
        )
        .order_by(MessageRow.id)
    )
    asked: dict[int, list[str]] = {}
    answered: dict[int, str] = {}
    for conversation_id, author, text in rows:
        if author is AuthorKind.AGENT:
            answered[conversation_id] = text
        elif sum(map(len, asked.get(conversation_id, []))) < QUESTION_CHARS:
            asked.setdefault(conversation_id, []).append(text)
    return list(_past_answers(by_id, asked, answered))


def _past_answers(
    headers: Mapping[int, _Header], asked: Mapping[int, list[str]], answered: Mapping[int, str]
) -> Iterable[Source]:
    """One source per conversation; one with no answer searches nothing, but is kept
    so that it is not read again at the next build."""
    for conversation_id, header in headers.items():
        answer = answered.get(conversation_id, "")[:ANSWER_CHARS]
        question = "\n".join(asked.get(conversation_id, []))[:QUESTION_CHARS]
        yield Source(
            kind=SourceKind.PAST_ANSWER,
            id=conversation_id,
            version=header.version,
            title=header.subject,
            searched=f"{header.subject}\n{question}\n{answer}" if answer else "",
            text=answer,
            locale=None,
            language_hint=header.language,
            audience=Audience(kind=SourceKind.PAST_ANSWER, site_id=header.site_id),
        )
