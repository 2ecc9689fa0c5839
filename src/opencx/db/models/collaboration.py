"""What agents and supervisors write to each other about a conversation: internal notes
and help requests. Neither is a message: no customer-facing path reads these tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from opencx.core.enums import HelpRequestState
from opencx.db.base import Base, utcnow
from opencx.db.types import JSONType, str_enum


class ConversationNote(Base):
    """An internal note; ``mentions`` are user ids. A transfer's note is ``transfer``
    and names the task it came with and the reservation the transfer ended: the task's
    next offers show it, until someone else accepts and hands it on again."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[int]] = mapped_column(JSONType, default=list)
    transfer: Mapped[bool] = mapped_column(default=False)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("routing_tasks.id"), index=True)
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("routing_reservations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HelpRequest(Base):
    """An agent's question to the supervisors of the conversation's site (``site_id``,
    kept as it was when asked), open until one of them answers."""

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    question: Mapped[str] = mapped_column(Text)
    state: Mapped[HelpRequestState] = mapped_column(
        str_enum(HelpRequestState, length=16), default=HelpRequestState.OPEN, index=True
    )
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
