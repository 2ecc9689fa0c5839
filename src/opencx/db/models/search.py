"""The search index: the terms (``opencx.core.search``) of each conversation's subject
and messages and of each customer's name and identities, kept by the services that
write those rows (``opencx.features.search``).

A term is the first column of each key, so the terms a query word begins are one
range of the index. PostgreSQL compares them with the ``C`` collation, by code point
as SQLite does, so both read the same range.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from opencx.core.search import MAX_TERM
from opencx.db.base import Base

__all__ = ["ConversationTerm", "CustomerTerm"]

TermType = String(MAX_TERM).with_variant(String(MAX_TERM, collation="C"), "postgresql")


class ConversationTerm(Base):
    """A term of a conversation's subject or of one of its messages."""

    __tablename__ = "conversation_terms"

    term: Mapped[str] = mapped_column(TermType, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CustomerTerm(Base):
    """A term of a customer's name or of one of their identities."""

    __tablename__ = "customer_terms"

    term: Mapped[str] = mapped_column(TermType, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
