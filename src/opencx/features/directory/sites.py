"""Sites: where agents work, internal or partner (outsourcer)."""

from __future__ import annotations

import functools
from datetime import datetime
from zoneinfo import available_timezones

from pydantic import Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import SiteKind
from opencx.core.errors import Conflict, InvalidInput, NotFound
from opencx.core.events import EventType
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Site
from opencx.features.common import InputSchema, Page, Schema, get_or_404, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.events.record import record_audit, record_event
from opencx.features.routing.commands import CommandKind, enqueue

__all__ = [
    "SiteCreate",
    "SiteOut",
    "SiteUpdate",
    "create_site",
    "get_site",
    "list_sites",
    "update_site",
]


@functools.cache
def _known_timezones() -> frozenset[str]:
    # Reading the zone list walks the tz database on disk: once per process is enough.
    return frozenset(available_timezones())


def check_timezone(value: str) -> str:
    if value not in _known_timezones():
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)")
    return value


class SiteCreate(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    kind: SiteKind = SiteKind.INTERNAL
    timezone: str = "Europe/Paris"

    _tz = field_validator("timezone")(check_timezone)


class SiteUpdate(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    kind: SiteKind | None = None
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class SiteOut(Schema):
    id: int
    name: str
    kind: SiteKind
    timezone: str
    is_open: bool
    created_at: datetime
    updated_at: datetime


async def list_sites(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    kind: SiteKind | None = None,
) -> Page[SiteOut]:
    require(principal, Permission.DIRECTORY_READ)
    stmt = select(Site)
    visible = principal.visible_site_ids
    if visible is not None:
        stmt = stmt.where(Site.id.in_(visible))
    if kind is not None:
        stmt = stmt.where(Site.kind == kind)
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=Site.id,
            cursor=cursor,
            limit=limit,
            to_out=SiteOut.model_validate,
        )


async def get_site(ctx: AppContext, principal: Principal, site_id: int) -> SiteOut:
    require(principal, Permission.DIRECTORY_READ)
    if not principal.sees_site(site_id):
        raise NotFound(f"site {site_id} does not exist")
    async with transaction(ctx) as session:
        return SiteOut.model_validate(await get_or_404(session, Site, site_id, "site"))


async def create_site(ctx: AppContext, principal: Principal, data: SiteCreate) -> SiteOut:
    require(principal, Permission.DIRECTORY_WRITE)
    try:
        async with transaction(ctx) as session:
            site = Site(**data.model_dump())
            session.add(site)
            await session.flush()
            await _changed(session, ctx, principal, site, "site.create", data.model_dump())
            return SiteOut.model_validate(site)
    except IntegrityError:
        raise Conflict(f"a site named {data.name!r} already exists", field="name") from None


async def update_site(
    ctx: AppContext, principal: Principal, site_id: int, data: SiteUpdate
) -> SiteOut:
    require(principal, Permission.DIRECTORY_WRITE)
    changes = data.model_dump(exclude_unset=True)
    if any(value is None for value in changes.values()):
        raise InvalidInput("fields of a site cannot be set to null")
    try:
        async with transaction(ctx) as session:
            site = await get_or_404(session, Site, site_id, "site")
            for name, value in changes.items():
                setattr(site, name, value)
            if "is_open" in changes:
                # Opening or closing here is the routing state's open or closed.
                site.routing_state = "open" if site.is_open else "closed"
            await session.flush()
            await _changed(session, ctx, principal, site, "site.update", changes)
            if "is_open" in changes:
                await enqueue(session, ctx, CommandKind.RELOAD, actor_user_id=principal.user_id)
            return SiteOut.model_validate(site)
    except IntegrityError:
        raise Conflict("a site with this name already exists", field="name") from None


async def _changed(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    site: Site,
    action: str,
    changes: dict[str, object],
) -> None:
    payload = {k: str(v) for k, v in changes.items()}
    record_audit(
        session,
        ctx,
        actor_user_id=principal.user_id,
        action=action,
        entity_kind="site",
        entity_id=site.id,
        changes=payload,
    )
    await record_event(
        session,
        ctx,
        EventType.SITE_CHANGED,
        entity_kind="site",
        entity_id=site.id,
        payload={"action": action, **payload},
        actor_user_id=principal.user_id,
        site_id=site.id,
    )
