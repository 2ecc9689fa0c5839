"""Connectors: HTTP lookups into the company's business systems (billing, contracts,
delivery tracking) that the agent desktop shows beside a customer. The credential is
stored sealed, as a channel account's is (``opencx.features.connectors.config``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opencx.core.connectors import AuthKind
from opencx.db.base import Base, TimestampMixin
from opencx.db.types import JSONType, str_enum


class Connector(TimestampMixin, Base):
    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # The title agents read, per locale ({"en": ..., "fr": ...}); none: the name.
    labels: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    url_template: Mapped[str] = mapped_column(Text)
    auth_kind: Mapped[AuthKind] = mapped_column(str_enum(AuthKind, length=16))
    # Basic auth's user name and a custom header's name: not secrets, shown to admins.
    auth_username: Mapped[str | None] = mapped_column(String(200))
    auth_header: Mapped[str | None] = mapped_column(String(100))
    # The token, password or header value, sealed; never returned.
    secret: Mapped[str | None] = mapped_column(Text)
    # The mapping: [{"labels": {...}, "path": "a.b[0]", "format": "text", "currency"}].
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    timeout_ms: Mapped[int] = mapped_column(default=2000)
    cache_seconds: Mapped[int] = mapped_column(default=60)
    # The sites whose agents see it; empty: every site. Sites are never deleted, and
    # the few connectors a company has are judged in Python (``connector_visible``).
    site_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
