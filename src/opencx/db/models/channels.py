"""Channel accounts: the addresses on our side that customers write to, and where what
they receive goes. Provider secrets are settings, never columns here."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.core.enums import Channel
from opencx.db.base import Base, TimestampMixin
from opencx.db.types import str_enum


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
