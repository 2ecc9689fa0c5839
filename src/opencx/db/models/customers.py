"""Customers and the identities (email, phone, Messenger id…) that resolve to them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from opencx.core.enums import IdentityKind
from opencx.db.base import Base, TimestampMixin, utcnow
from opencx.db.types import JSONType, str_enum


class Customer(TimestampMixin, Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(2))
    segment: Mapped[str | None] = mapped_column(String(64))
    lifetime_value: Mapped[float | None]
    subscription_start: Mapped[date | None]
    subscription_end: Mapped[date | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Set when this customer was merged into another; merged customers are kept for audit.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)


class CustomerIdentity(Base):
    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[IdentityKind] = mapped_column(str_enum(IdentityKind))
    value: Mapped[str] = mapped_column(String(320))
    verified: Mapped[bool] = mapped_column(default=False)
    # False for an address a message named (its Reply-To) until an agent confirms it:
    # answers never go to an unconfirmed address.
    confirmed: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerMerge(Base):
    """Audit of a merge: who folded which customer into which, and what moved."""

    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    target_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    moved: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
