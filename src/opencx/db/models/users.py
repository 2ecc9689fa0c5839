"""People who sign in: admins, supervisors and agents, their skills, grants and tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from opencx.core.enums import PresenceState, Role
from opencx.db.base import Base, TimestampMixin, utcnow
from opencx.db.types import JSONType, str_enum


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    is_active: Mapped[bool] = mapped_column(default=True)
    # Agent profile: ISO 639-1 codes, and how many contacts at once per channel.
    languages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    capacity: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    voice_blocks_other_channels: Mapped[bool] = mapped_column(default=True)
    #: One of the demo's simulated agents, driven by its simulation (``opencx demo``):
    #: routing offers them only simulated customers' contacts.
    simulated: Mapped[bool] = mapped_column(default=False, server_default=false())
    presence: Mapped[PresenceState] = mapped_column(
        str_enum(PresenceState), default=PresenceState.OFFLINE
    )
    presence_reason: Mapped[str | None] = mapped_column(String(64))
    presence_since: Mapped[datetime] = mapped_column(default=utcnow)


class AgentSkill(Base):
    __tablename__ = "agent_skills"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[int] = mapped_column(default=1)


class SiteGrant(Base):
    """Extra sites a partner-site user may see beyond their own."""

    __tablename__ = "site_grants"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the prefix helps users tell them apart."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class UserSession(Base):
    """A signed-in browser: the cookie holds a random key, this row its SHA-256.

    The cookie alone proves nothing once the row is ended (sign-out, a new password,
    deactivation) or expired."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
