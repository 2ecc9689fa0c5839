"""Creating and reading users."""

from __future__ import annotations

from datetime import datetime

from pydantic import EmailStr, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from opencx.core.enums import PresenceState, Role
from opencx.core.errors import Conflict, NotFound
from opencx.core.events import EventType
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Site, User
from opencx.features.auth.passwords import hash_password
from opencx.features.common import Schema
from opencx.features.context import AppContext, transaction
from opencx.features.eventlog import record_audit, record_event

__all__ = ["UserCreate", "UserOut", "create_user", "create_user_as_system"]

MIN_PASSWORD = 8


class UserCreate(Schema):
    email: EmailStr
    display_name: str = Field(default="", max_length=120)
    role: Role
    password: str | None = Field(default=None, min_length=MIN_PASSWORD, max_length=256)
    site_id: int | None = None
    team_id: int | None = None
    locale: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    timezone: str = "Europe/Paris"
    languages: list[str] = Field(default_factory=list)
    capacity: dict[str, int] = Field(default_factory=dict)


class UserOut(Schema):
    id: int
    email: str
    display_name: str
    role: Role
    site_id: int | None
    team_id: int | None
    locale: str
    timezone: str
    is_active: bool
    languages: list[str]
    capacity: dict[str, int]
    voice_blocks_other_channels: bool
    presence: PresenceState
    presence_reason: str | None
    presence_since: datetime
    created_at: datetime


async def create_user(ctx: AppContext, principal: Principal, data: UserCreate) -> UserOut:
    require(principal, Permission.USERS_WRITE)
    return await _create(ctx, data, actor_user_id=principal.user_id)


async def create_user_as_system(
    ctx: AppContext, data: UserCreate, *, site_name: str | None = None
) -> UserOut:
    """For the CLI and seeding, which act with the machine owner's authority."""
    if site_name is not None:
        async with transaction(ctx) as session:
            site = await session.scalar(select(Site).where(Site.name == site_name))
            if site is None:
                raise NotFound(f"no site named {site_name!r}")
            data = data.model_copy(update={"site_id": site.id})
    return await _create(ctx, data, actor_user_id=None)


async def _create(ctx: AppContext, data: UserCreate, *, actor_user_id: int | None) -> UserOut:
    fields = data.model_dump(exclude={"password"})
    fields["email"] = str(data.email).lower()
    fields["display_name"] = data.display_name or fields["email"].split("@")[0]
    try:
        async with transaction(ctx) as session:
            user = User(
                **fields,
                password_hash=hash_password(data.password) if data.password else None,
                presence=PresenceState.OFFLINE,
                presence_since=ctx.clock.now(),
            )
            session.add(user)
            await session.flush()
            record_audit(
                session,
                ctx,
                actor_user_id=actor_user_id,
                action="user.create",
                entity_kind="user",
                entity_id=user.id,
                changes={"email": user.email, "role": user.role.value},
            )
            await record_event(
                session,
                ctx,
                EventType.USER_CREATED,
                entity_kind="user",
                entity_id=user.id,
                payload={"role": user.role.value},
                actor_user_id=actor_user_id,
                site_id=user.site_id,
            )
            return UserOut.model_validate(user)
    except IntegrityError:
        raise Conflict(
            f"a user with email {fields['email']!r} already exists, or its site or team "
            "does not exist",
            field="email",
        ) from None
