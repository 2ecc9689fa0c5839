"""Conversations (one customer need), interactions (one contact on one channel),
messages and their attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.core.enums import (
    AuthorKind,
    Channel,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    InteractionState,
)
from opencx.core.media import AttachmentStatus
from opencx.db.base import Base, TimestampMixin, utcnow
from opencx.db.types import JSONType, str_enum


class Conversation(TimestampMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_last_activity", "last_activity_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[ConversationStatus] = mapped_column(
        str_enum(ConversationStatus), default=ConversationStatus.OPEN, index=True
    )
    intent: Mapped[str | None] = mapped_column(String(80))
    priority: Mapped[int] = mapped_column(default=0)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    declaration_reason_id: Mapped[int | None] = mapped_column(ForeignKey("contact_reasons.id"))
    qualification_reason_id: Mapped[int | None] = mapped_column(ForeignKey("contact_reasons.id"))
    action_reason_id: Mapped[int | None] = mapped_column(ForeignKey("contact_reasons.id"))
    closed_at: Mapped[datetime | None]
    # When the customer, an agent or a bot last wrote (its creation until then): the
    # inbox lists newest activity first. System messages (acknowledgements) leave it.
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Out of its handlers' inbox until then (``core.inbox``), and who snoozed it.
    snoozed_until: Mapped[datetime | None] = mapped_column(index=True)
    snoozed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    state: Mapped[InteractionState] = mapped_column(
        str_enum(InteractionState), default=InteractionState.CREATED, index=True
    )
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    arrived_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None]
    offered_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    wrapped_up_at: Mapped[datetime | None]
    hold_seconds: Mapped[float] = mapped_column(default=0.0)
    held_since: Mapped[datetime | None]
    # The agent's coding of the contact on the three axes (MISSION.md §4), with a summary.
    declaration_reason_id: Mapped[int | None] = mapped_column(ForeignKey("contact_reasons.id"))
    qualification_reason_id: Mapped[int | None] = mapped_column(ForeignKey("contact_reasons.id"))
    action_reason_id: Mapped[int | None] = mapped_column(ForeignKey("contact_reasons.id"))
    wrap_up_summary: Mapped[str | None] = mapped_column(Text)
    coded_at: Mapped[datetime | None]
    coded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("channel", "provider_message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    author_kind: Mapped[AuthorKind] = mapped_column(str_enum(AuthorKind))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    # The provider's own id (email Message-ID, Twilio MessageSid…): duplicates are refused.
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    delivery_status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus))
    delivery_error: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSONType, default=dict)
    # A received message's ``ReplyRoute`` (``opencx.core.reply_routes``), as its JSON:
    # where answers to it go, read by the senders as stored. None on other messages,
    # and on those received before it was kept (their metadata's strings say it).
    reply_route: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    # None while the file is uploaded but not yet part of a message being written.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    uploaded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), index=True)
    inline: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A file a provider holds (MMS, WhatsApp, Messenger media) is ``pending`` until it is
    # fetched: then ``stored`` (size, sha256 and storage_key filled in) or ``failed``.
    status: Mapped[AttachmentStatus] = mapped_column(
        str_enum(AttachmentStatus),
        default=AttachmentStatus.STORED,
        server_default=AttachmentStatus.STORED.value,
        index=True,
    )
    # Where the file is fetched from: the provider's URL, or WhatsApp's media id.
    source_url: Mapped[str | None] = mapped_column(Text)
    media_id: Mapped[str | None] = mapped_column(String(255))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    fetch_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the sweep may try it next (an attempt in progress holds it until then).
    next_fetch_at: Mapped[datetime | None] = mapped_column()
