"""Conversation search: the index of terms (``index``), written where what it indexes
is written, and the clause that queries it (``match``). See ``docs/inbox.md``."""

from opencx.features.search.index import (
    add_conversation_texts,
    add_customer_texts,
    customer_texts,
    reindex_conversations,
    reindex_customers,
)
from opencx.features.search.match import search_clause
from opencx.features.search.texts import identity_texts, message_text

__all__ = [
    "add_conversation_texts",
    "add_customer_texts",
    "customer_texts",
    "identity_texts",
    "message_text",
    "reindex_conversations",
    "reindex_customers",
    "search_clause",
]
