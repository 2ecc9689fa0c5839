"""Channel accounts: the addresses on our side that customers write to, and where what
they receive goes. An account's own credential is stored sealed (see
``opencx.features.directory.provider_settings``); providers' app-wide secrets are
settings. WhatsApp templates belong to their account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.core.enums import Channel
from opencx.core.whatsapp_templates import TemplateCategory
from opencx.db.base import Base, TimestampMixin
from opencx.db.types import JSONType, str_enum


class ChannelAccount(TimestampMixin, Base):
    """One address at one provider (a mailbox, a Twilio number, a Meta page…).

    ``address`` is stored normalised (see ``opencx.features.directory.channel_accounts``)
    so that an inbound lookup by ``(provider, address)`` is an equality.
    """

    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("provider", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    provider: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(120))
    # Where new conversations go; none leaves them unrouted.
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), index=True)
    # E-mail: the delay promised in the automatic acknowledgement; none sends none.
    auto_ack_hours: Mapped[int | None]
    locale: Mapped[str] = mapped_column(String(16), default="en")
    is_active: Mapped[bool] = mapped_column(default=True)
    # The provider's connection settings, checked per provider.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default="{}")
    # The account's credential, sealed; never returned.
    secret: Mapped[str | None] = mapped_column(Text)
    # Where the account's poller is (IMAP uid, last review seen…); the poller's alone.
    cursor: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default="{}")


class WhatsAppTemplate(TimestampMixin, Base):
    """An approved WhatsApp template of one WhatsApp account, as the admin recorded it:
    what the composer offers once the customer's 24-hour window is closed. Meta sends it
    by ``name`` and ``language``; Twilio by its Content SID (``content_sid``)."""

    __tablename__ = "whatsapp_templates"
    __table_args__ = (UniqueConstraint("account_id", "name", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    # With {{1}}, {{2}}… placeholders (opencx.core.whatsapp_templates).
    body: Mapped[str] = mapped_column(Text)
    content_sid: Mapped[str | None] = mapped_column(String(34))
    category: Mapped[TemplateCategory] = mapped_column(str_enum(TemplateCategory))
    is_active: Mapped[bool] = mapped_column(default=True)
