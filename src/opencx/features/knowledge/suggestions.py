"""Suggested answers for a conversation: canned responses, published articles and
agents' answers in past resolved conversations, ranked for what the customer last wrote.

Rules:
- the query is the conversation's subject and its customer's last few messages; its
  language is the one they are written in (French or English), else the customer's
  language, else the agent's, else English; only content in that language is ranked;
- a suggestion is only ever something the caller may see: canned responses in their
  reach, articles they may read, answers from conversations they may read (never the
  conversation asked about);
- a canned response comes rendered for this conversation and this agent; one that
  cannot be rendered is left out; an article comes as its opening lines.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import AuthorKind
from opencx.core.errors import InvalidInput
from opencx.core.knowledge import ContentLocale, SourceKind, Viewer, may_see
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Conversation, Customer, Message, User
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation
from opencx.features.knowledge.access import load_viewer
from opencx.features.knowledge.canned import conversation_variables
from opencx.features.knowledge.rendering import Variables, render
from opencx.features.knowledge.schemas import SuggestionOut
from opencx.features.knowledge.sources import Source
from opencx.features.knowledge.toolbox import current_toolbox, read_stamp
from opencx.ranking import Hit, guess_language, terms

__all__ = ["MAX_SUGGESTIONS", "excerpt", "suggest_answers"]

MAX_SUGGESTIONS = 20
#: The customer's messages a query is made of, newest first, and its length.
QUERY_MESSAGES = 3
QUERY_CHARS = 4000
EXCERPT_CHARS = 600


async def suggest_answers(
    ctx: AppContext, principal: Principal, conversation_id: int, *, limit: int = 5
) -> list[SuggestionOut]:
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        conversation = await load_conversation(session, principal, conversation_id)
        viewer = await load_viewer(session, principal)
        question = await _latest_words(session, conversation)
        variables = await conversation_variables(session, viewer, conversation)
        hint = await _language_hint(session, conversation, viewer)  # rows loaded above
        stamp = await read_stamp(session)
    language = guess_language(question, hint) or ContentLocale.EN
    toolbox = await current_toolbox(ctx, stamp)
    hits = toolbox.index.search(
        terms(question, language),
        language,
        allowed=lambda audience: may_see(viewer, audience),
        # Room for the conversation itself and for responses that fail to render.
        limit=2 * limit + 1,
    )
    found = (
        _suggestion(hit, toolbox.sources[(hit.document.kind, hit.document.id)], variables)
        for hit in hits
        if not (hit.document.kind is SourceKind.PAST_ANSWER and hit.document.id == conversation.id)
    )
    return [suggestion for suggestion in found if suggestion is not None][:limit]


async def _latest_words(session: AsyncSession, conversation: Conversation) -> str:
    rows = await session.scalars(
        select(Message.body_text)
        .where(
            Message.conversation_id == conversation.id,
            Message.author_kind == AuthorKind.CUSTOMER,
            Message.body_text != "",
        )
        .order_by(Message.id.desc())
        .limit(QUERY_MESSAGES)
    )
    said = "\n".join(reversed(list(rows)))
    return f"{conversation.subject}\n{said}"[:QUERY_CHARS]


async def _language_hint(
    session: AsyncSession, conversation: Conversation, viewer: Viewer
) -> str | None:
    """The customer's language where it is one we search, else the agent's."""
    customer = await session.get(Customer, conversation.customer_id)
    language = (customer.language or "")[:2].lower() if customer is not None else ""
    if language in set(ContentLocale):
        return language
    agent = await session.get(User, viewer.principal.user_id)
    return agent.locale[:2] if agent is not None else None


def _suggestion(hit: Hit, source: Source, variables: Variables) -> SuggestionOut | None:
    text = source.text
    if source.kind is SourceKind.CANNED:
        try:
            text = render(text, variables)
        except InvalidInput:
            return None
    elif source.kind is SourceKind.ARTICLE:
        text = excerpt(text)
    return SuggestionOut(
        kind=source.kind,
        id=source.id,
        title=source.title or f"#{source.id}",
        text=text,
        score=round(hit.score, 4),
        locale=hit.document.language,
    )


def excerpt(text: str, length: int = EXCERPT_CHARS) -> str:
    """The opening of ``text``, cut at a word and marked with an ellipsis when cut."""
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(maxsplit=1)[0] if " " in text[:length] else text[:length]
    return cut.rstrip() + "…"
