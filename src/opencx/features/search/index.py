"""Keeping the search index: each service that writes indexed text (a conversation's
subject, a message, a customer's name or identities) calls one of these in its own
transaction, so the index commits or rolls back with what it indexes.

Rules:
- new text adds its terms (``add_conversation_texts``, ``add_customer_texts``): one
  statement for a whole batch, terms already there kept;
- text that changes or moves (a new subject, a merge, a split, a renamed customer, an
  identity removed) has its owner's terms rebuilt from the rows (``reindex_…``);
- system messages (acknowledgements, transcripts) are not indexed: they repeat what
  the customer and the agents wrote.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Insert, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import AuthorKind, IdentityKind
from opencx.core.search import terms
from opencx.db.models import (
    Base,
    Conversation,
    ConversationTerm,
    Customer,
    CustomerIdentity,
    CustomerTerm,
    Message,
)
from opencx.features.events.record import table_of
from opencx.features.search.texts import identity_texts, message_text

__all__ = [
    "add_conversation_texts",
    "add_customer_texts",
    "customer_texts",
    "reindex_conversations",
    "reindex_customers",
]


async def add_conversation_texts(session: AsyncSession, texts: Iterable[tuple[int, str]]) -> None:
    """Index each ``(conversation_id, text)``: a new subject, a new message's words."""
    await _add(session, ConversationTerm, "conversation_id", texts)


async def add_customer_texts(session: AsyncSession, texts: Iterable[tuple[int, str]]) -> None:
    """Index each ``(customer_id, text)``: a new name, a new identity's forms."""
    await _add(session, CustomerTerm, "customer_id", texts)


def customer_texts(
    display_name: str | None, identities: Iterable[tuple[IdentityKind, str]]
) -> list[str]:
    """What a customer is found by: their name and every form of their identities."""
    texts = [display_name] if display_name else []
    for kind, value in identities:
        texts.extend(identity_texts(kind, value))
    return texts


async def reindex_conversations(session: AsyncSession, conversation_ids: Iterable[int]) -> None:
    """Rebuild the terms of these conversations from their subject and messages."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return
    subjects = await session.execute(
        select(Conversation.id, Conversation.subject).where(Conversation.id.in_(ids))
    )
    texts = [(row.id, row.subject) for row in subjects if row.subject]
    messages = await session.execute(
        select(
            Message.conversation_id, Message.body_text, Message.body_html, Message.metadata_
        ).where(Message.conversation_id.in_(ids), Message.author_kind != AuthorKind.SYSTEM)
    )
    texts.extend(
        (
            row.conversation_id,
            message_text(row.body_text, row.body_html, row.metadata_.get("subject")),
        )
        for row in messages
    )
    await session.execute(delete(ConversationTerm).where(ConversationTerm.conversation_id.in_(ids)))
    await add_conversation_texts(session, texts)


async def reindex_customers(session: AsyncSession, customer_ids: Iterable[int]) -> None:
    """Rebuild the terms of these customers from their name and identities."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    names = await session.execute(
        select(Customer.id, Customer.display_name).where(Customer.id.in_(ids))
    )
    owned: dict[int, list[tuple[IdentityKind, str]]] = {}
    rows = await session.execute(
        select(CustomerIdentity.customer_id, CustomerIdentity.kind, CustomerIdentity.value).where(
            CustomerIdentity.customer_id.in_(ids)
        )
    )
    for row in rows:
        owned.setdefault(row.customer_id, []).append((row.kind, row.value))
    texts = [
        (row.id, text)
        for row in names
        for text in customer_texts(row.display_name, owned.get(row.id, []))
    ]
    await session.execute(delete(CustomerTerm).where(CustomerTerm.customer_id.in_(ids)))
    await add_customer_texts(session, texts)


async def _add(
    session: AsyncSession, model: type[Base], owner: str, texts: Iterable[tuple[int, str]]
) -> None:
    rows = sorted({(term, owner_id) for owner_id, text in texts for term in terms(text)})
    if not rows:
        return
    statement = _insert_new(session.get_bind().dialect.name, model)
    await session.execute(statement, [{"term": term, owner: owner_id} for term, owner_id in rows])


@functools.cache
def _insert_new(dialect: str, model: type[Base]) -> Insert:
    """An INSERT that keeps the rows already there (both databases spell it alike)."""
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement: Insert = insert(table_of(model)).on_conflict_do_nothing()
    return statement
