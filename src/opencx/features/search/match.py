"""The search's WHERE clause over conversations: every word of the query matches a term
of the conversation (its subject, its messages) or of its customer (their name, their
identities); or the query names the conversation's case number."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from opencx.core.search import Query, prefix_bounds
from opencx.db.models import Conversation, ConversationTerm, CustomerTerm

__all__ = ["search_clause"]


def search_clause(query: Query) -> ColumnElement[bool]:
    """Conversations ``query`` finds (none for an empty query)."""
    words = and_(*(_word(word) for word in query.words)) if query.words else false()
    if query.case_number is None:
        return words
    return or_(Conversation.id == query.case_number, words)


def _word(word: str) -> ColumnElement[bool]:
    conversations = select(ConversationTerm.conversation_id).where(
        _matches(ConversationTerm.term, word)
    )
    customers = select(CustomerTerm.customer_id).where(_matches(CustomerTerm.term, word))
    return or_(Conversation.id.in_(conversations), Conversation.customer_id.in_(customers))


def _matches(term: InstrumentedAttribute[str], word: str) -> ColumnElement[bool]:
    bounds = prefix_bounds(word)
    if bounds is None:
        return term == word
    low, high = bounds
    return and_(term >= low, term < high)
