"""Where and how work is organised: sites, teams, skills, queues, hours, contact reasons."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opencx.core.enums import Channel, ReasonAxis, SiteKind
from opencx.db.base import Base, TimestampMixin
from opencx.db.types import JSONType, str_enum


class Site(TimestampMixin, Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[SiteKind] = mapped_column(str_enum(SiteKind))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    is_open: Mapped[bool] = mapped_column(default=True)
    # open, draining (no new offers) or closed (offers withdrawn too); see SiteState.
    routing_state: Mapped[str] = mapped_column(String(16), default="open", server_default="open")


class Team(TimestampMixin, Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class Skill(TimestampMixin, Base):
    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class BusinessHours(TimestampMixin, Base):
    """A weekly schedule in a time zone; ``weekly`` is a list of
    ``{"day": 0-6 (Monday=0), "open": "HH:MM", "close": "HH:MM"}``."""

    __tablename__ = "business_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    weekly: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    holidays: Mapped[list[Holiday]] = relationship(
        back_populates="business_hours",
        cascade="all, delete-orphan",
        order_by="Holiday.day",
        lazy="selectin",
    )


class Holiday(Base):
    """A closed day (or special hours on that day) for one schedule."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("business_hours_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_hours_id: Mapped[int] = mapped_column(
        ForeignKey("business_hours.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date]
    name: Mapped[str] = mapped_column(String(120))
    # Empty means closed all day; otherwise ``[{"open": "HH:MM", "close": "HH:MM"}]``.
    special_hours: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    business_hours: Mapped[BusinessHours] = relationship(back_populates="holidays")


class Queue(TimestampMixin, Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    business_hours_id: Mapped[int | None] = mapped_column(ForeignKey("business_hours.id"))
    target_expression: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(default=0)
    service_level_seconds: Mapped[int] = mapped_column(default=20)
    # Abandons before this wait are "short" (a wrong number, a customer who changed their
    # mind): counted apart by the KPIs (``core.kpis``).
    short_abandon_seconds: Mapped[int] = mapped_column(default=5, server_default="5")
    wrap_up_seconds: Mapped[int] = mapped_column(default=30)
    # How the queue picks among free agents (Selection) and, by skill level, which
    # worker attribute ranks them ("skills.billing").
    selection: Mapped[str] = mapped_column(
        String(32), default="longest_idle", server_default="longest_idle"
    )
    selection_skill: Mapped[str | None] = mapped_column(String(120))
    expected_handle_seconds: Mapped[int] = mapped_column(default=300, server_default="300")
    # The agent's desktop accepts this queue's offers at once, without a click.
    auto_accept: Mapped[bool] = mapped_column(default=False, server_default=false())


class QueueThreshold(TimestampMixin, Base):
    """A queue's alert thresholds for the cockpit (``core.alerts``); null where not set."""

    __tablename__ = "queue_thresholds"

    queue_id: Mapped[int] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True
    )
    max_waiting: Mapped[int | None]
    max_longest_wait_seconds: Mapped[int | None]
    min_service_level: Mapped[float | None] = mapped_column(Float)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ContactReason(TimestampMixin, Base):
    """One node of a contact-reason tree; each axis is its own tree."""

    __tablename__ = "contact_reasons"
    __table_args__ = (UniqueConstraint("axis", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    axis: Mapped[ReasonAxis] = mapped_column(str_enum(ReasonAxis))
    code: Mapped[str] = mapped_column(String(80))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("contact_reasons.id"), index=True)
    # Label per locale: {"en": "Delivery", "fr": "Livraison"}.
    labels: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)
