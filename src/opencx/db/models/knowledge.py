"""The agent's toolbox: canned responses and knowledge-base articles."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.core.knowledge import CannedScope
from opencx.db.base import Base, TimestampMixin
from opencx.db.types import JSONType, str_enum


class CannedResponse(TimestampMixin, Base):
    """A ready answer with variables (``{{ customer.first_name }}``), rendered for one
    conversation. ``scope_key`` names the scope a shortcut is unique in."""

    __tablename__ = "canned_responses"
    __table_args__ = (UniqueConstraint("scope_key", "shortcut"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8), index=True)
    shortcut: Mapped[str | None] = mapped_column(String(40))
    scope: Mapped[CannedScope] = mapped_column(str_enum(CannedScope), index=True)
    scope_key: Mapped[str] = mapped_column(String(40))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)


class KnowledgeArticle(TimestampMixin, Base):
    """A knowledge-base article: plain or Markdown-like text, tagged, published or not."""

    __tablename__ = "knowledge_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8), index=True)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    published: Mapped[bool] = mapped_column(default=False, index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
