"""Creating, reading and changing users and their agent profile.

Who may do what: everyone reads themselves; ``users.read`` reads the users of the sites
one sees; ``users.write`` (admins) creates and changes users. An admin cannot take away
their own admin role or deactivate themselves, so an installation always keeps one.
Deactivating a user takes them offline. A new password or a deactivation ends every
session and revokes every API token of the user (``end_user_access``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, EmailStr, Field, field_validator
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from opencx.core.enums import Channel, PresenceState, Role
from opencx.core.errors import Conflict, InvalidInput, NotFound
from opencx.core.events import EventType
from opencx.core.ids import MAX_ID
from opencx.core.permissions import Permission, Principal, require
from opencx.core.presence import plan_presence_change
from opencx.db.models import Site, Team, User
from opencx.features.auth.passwords import hash_password
from opencx.features.auth.sessions import end_user_access
from opencx.features.common import InputSchema, Page, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.directory.sites import check_timezone
from opencx.features.events.record import record_audit, record_event
from opencx.features.routing.commands import CommandKind, enqueue
from opencx.features.routing.presence import apply_presence
from opencx.features.users.lookup import UserOut, to_user_out, to_users_out, visible_user

__all__ = [
    "UserCreate",
    "UserOut",
    "UserUpdate",
    "create_user",
    "create_user_as_system",
    "get_me",
    "get_user",
    "list_users",
    "update_user",
]

MIN_PASSWORD = 8
LOCALE = r"^[a-z]{2}(-[A-Z]{2})?$"
NULLABLE = frozenset({"site_id", "team_id"})


def _unique(codes: list[str]) -> list[str]:
    return list(dict.fromkeys(codes))


#: ISO 639-1 codes of the languages an agent serves customers in, in preference order.
Languages = Annotated[
    list[Annotated[str, Field(pattern=r"^[a-z]{2}$", examples=["fr"])]],
    Field(max_length=20),
    AfterValidator(_unique),
]
#: How many contacts at once, per channel.
Capacity = Annotated[
    dict[Channel, Annotated[int, Field(ge=0, le=100)]],
    Field(max_length=len(Channel), examples=[{"voice": 1, "chat": 3, "email": 5}]),
]
RefId = Annotated[int, Field(ge=1, le=MAX_ID)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD, max_length=256)]


def _timezone(value: str | None) -> str | None:
    return None if value is None else check_timezone(value)


class UserCreate(InputSchema):
    email: EmailStr
    display_name: str = Field(default="", max_length=120)
    role: Role
    password: Password | None = None
    site_id: RefId | None = None
    team_id: RefId | None = None
    locale: str = Field(default="en", max_length=16, pattern=LOCALE)
    timezone: str = Field(default="Europe/Paris", max_length=64)
    languages: Languages = Field(default_factory=list)
    capacity: Capacity = Field(default_factory=dict)
    voice_blocks_other_channels: bool = True

    _tz = field_validator("timezone")(_timezone)


class UserUpdate(InputSchema):
    """Only the fields sent change; ``site_id`` and ``team_id`` may be set to null;
    ``password`` sets a new password (an admin's reset)."""

    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    role: Role | None = None
    site_id: RefId | None = None
    team_id: RefId | None = None
    locale: str | None = Field(default=None, max_length=16, pattern=LOCALE)
    timezone: str | None = Field(default=None, max_length=64)
    languages: Languages | None = None
    capacity: Capacity | None = None
    voice_blocks_other_channels: bool | None = None
    is_active: bool | None = None
    password: Password | None = None

    _tz = field_validator("timezone")(_timezone)


async def list_users(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    q: str | None = None,
    role: Role | None = None,
    site_id: int | None = None,
    team_id: int | None = None,
    presence: PresenceState | None = None,
    is_active: bool | None = None,
) -> Page[UserOut]:
    """Users of the sites the reader sees; ``q`` matches the start of email or name."""
    require(principal, Permission.USERS_READ)
    stmt = select(User)
    visible = principal.visible_site_ids
    if visible is not None:
        stmt = stmt.where(User.site_id.in_(visible))
    if q:
        stmt = stmt.where(or_(_starts(User.email, q), _starts(User.display_name, q)))
    for column, value in (
        (User.role, role),
        (User.site_id, site_id),
        (User.team_id, team_id),
        (User.presence, presence),
        (User.is_active, is_active),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    async with transaction(ctx) as session:
        page = await paginate(
            session, stmt, id_column=User.id, cursor=cursor, limit=limit, to_out=_row
        )
        items = await to_users_out(session, page.items)
    return Page[UserOut](items=items, next_cursor=page.next_cursor)


async def get_user(ctx: AppContext, principal: Principal, user_id: int) -> UserOut:
    if user_id != principal.user_id:
        require(principal, Permission.USERS_READ)
    async with transaction(ctx) as session:
        return await to_user_out(session, await visible_user(session, principal, user_id))


async def get_me(ctx: AppContext, principal: Principal) -> UserOut:
    return await get_user(ctx, principal, principal.user_id)


async def create_user(ctx: AppContext, principal: Principal, data: UserCreate) -> UserOut:
    require(principal, Permission.USERS_WRITE)
    return await _create(ctx, data, actor_user_id=principal.user_id)


async def create_user_as_system(
    ctx: AppContext, data: UserCreate, *, site_name: str | None = None, simulated: bool = False
) -> UserOut:
    """For the CLI and seeding, which act with the machine owner's authority; only they
    create the demo's ``simulated`` agents (the API has no such field)."""
    if site_name is not None:
        async with transaction(ctx) as session:
            site = await session.scalar(select(Site).where(Site.name == site_name))
            if site is None:
                raise NotFound(f"no site named {site_name!r}")
            data = data.model_copy(update={"site_id": site.id})
    return await _create(ctx, data, actor_user_id=None, simulated=simulated)


async def update_user(
    ctx: AppContext, principal: Principal, user_id: int, data: UserUpdate
) -> UserOut:
    require(principal, Permission.USERS_WRITE)
    changes = _storable(data.model_dump(exclude_unset=True))
    for name, value in changes.items():
        if value is None and name not in NULLABLE:
            raise InvalidInput(f"{name} cannot be set to null", field=name)
    if user_id == principal.user_id:
        _check_own_changes(changes)
    async with transaction(ctx) as session:
        user = await visible_user(session, principal, user_id)
        await _check_references(session, changes)
        _apply(user, changes)
        if changes.get("is_active") is False and user.presence is not PresenceState.OFFLINE:
            await _take_offline(session, ctx, user, actor_user_id=principal.user_id)
        await session.flush()
        reason = _access_ending(changes)
        if reason is not None:
            await end_user_access(
                session, ctx, user, reason=reason, actor_user_id=principal.user_id
            )
        await _updated(session, ctx, user, changes, actor_user_id=principal.user_id)
        await enqueue(session, ctx, CommandKind.SYNC_WORKER, worker_id=user.id)
        return await to_user_out(session, user)


async def _create(
    ctx: AppContext, data: UserCreate, *, actor_user_id: int | None, simulated: bool = False
) -> UserOut:
    fields = _storable(data.model_dump(exclude={"password"}))
    fields["simulated"] = simulated
    fields["email"] = str(data.email).lower()
    fields["display_name"] = data.display_name or fields["email"].split("@")[0]
    try:
        async with transaction(ctx) as session:
            await _check_references(session, fields)
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
            await enqueue(session, ctx, CommandKind.SYNC_WORKER, worker_id=user.id)
            return await to_user_out(session, user)
    except IntegrityError:
        raise Conflict(
            f"a user with email {fields['email']!r} already exists", field="email"
        ) from None


def _access_ending(changes: Mapping[str, Any]) -> str | None:
    """Why a change ends the user's sessions and tokens: whoever held the old password,
    or held access before a deactivation, keeps nothing (reactivation revives nothing)."""
    if changes.get("is_active") is False:
        return "deactivated"
    if "password" in changes:
        return "password_changed"
    return None


def _row(user: User) -> User:
    return user


def _starts(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    return func.lower(column).startswith(prefix.lower(), autoescape=True)


def _storable(fields: dict[str, Any]) -> dict[str, Any]:
    """Capacity keys as plain strings, as the JSON column stores them."""
    if fields.get("capacity") is not None:
        fields["capacity"] = {Channel(k).value: v for k, v in fields["capacity"].items()}
    return fields


def _check_own_changes(changes: Mapping[str, Any]) -> None:
    if "role" in changes and changes["role"] is not Role.ADMIN:
        raise Conflict("you cannot take away your own admin role; ask another admin")
    if changes.get("is_active") is False:
        raise Conflict("you cannot deactivate yourself; ask another admin")


async def _check_references(session: AsyncSession, fields: Mapping[str, Any]) -> None:
    for field, model, label in (("site_id", Site, "site"), ("team_id", Team, "team")):
        value = fields.get(field)
        if value is not None and await session.get(model, value) is None:
            raise InvalidInput(f"{label} {value} does not exist", field=field)


def _apply(user: User, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        if name == "password":
            user.password_hash = hash_password(value)
        else:
            setattr(user, name, value)


async def _take_offline(
    session: AsyncSession, ctx: AppContext, user: User, *, actor_user_id: int
) -> None:
    change = plan_presence_change(
        user.presence,
        user.presence_reason,
        target=PresenceState.OFFLINE,
        reason=None,
        now=ctx.clock.now(),
    )
    await apply_presence(session, ctx, user, change, actor_user_id=actor_user_id)


async def _updated(
    session: AsyncSession,
    ctx: AppContext,
    user: User,
    changes: Mapping[str, Any],
    *,
    actor_user_id: int,
) -> None:
    audit = {k: ("(reset)" if k == "password" else _plain(v)) for k, v in changes.items()}
    record_audit(
        session,
        ctx,
        actor_user_id=actor_user_id,
        action="user.update",
        entity_kind="user",
        entity_id=user.id,
        changes=audit,
    )
    await record_event(
        session,
        ctx,
        EventType.USER_UPDATED,
        entity_kind="user",
        entity_id=user.id,
        payload={"fields": sorted(changes)},
        actor_user_id=actor_user_id,
        site_id=user.site_id,
    )


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Role) else value
