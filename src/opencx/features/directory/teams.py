"""Teams: groups of agents (chat team, technical support, renewals...)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from opencx.core.errors import Conflict
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Queue, Team, User
from opencx.features.common import InputSchema, Page, Schema, get_or_404, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.directory._changes import (
    name_prefix,
    record_change,
    refuse_if_used,
    reject_nulls,
)

__all__ = [
    "TeamCreate",
    "TeamOut",
    "TeamUpdate",
    "create_team",
    "delete_team",
    "get_team",
    "list_teams",
    "update_team",
]

KIND = "team"


class TeamCreate(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)


class TeamUpdate(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)


class TeamOut(Schema):
    id: int
    name: str
    description: str
    created_at: datetime
    updated_at: datetime


async def list_teams(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    q: str | None = None,
) -> Page[TeamOut]:
    require(principal, Permission.DIRECTORY_READ)
    stmt = select(Team)
    if q:
        stmt = stmt.where(name_prefix(Team.name, q))
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=Team.id,
            cursor=cursor,
            limit=limit,
            to_out=TeamOut.model_validate,
        )


async def get_team(ctx: AppContext, principal: Principal, team_id: int) -> TeamOut:
    require(principal, Permission.DIRECTORY_READ)
    async with transaction(ctx) as session:
        return TeamOut.model_validate(await get_or_404(session, Team, team_id, KIND))


async def create_team(ctx: AppContext, principal: Principal, data: TeamCreate) -> TeamOut:
    require(principal, Permission.DIRECTORY_WRITE)
    try:
        async with transaction(ctx) as session:
            team = Team(**data.model_dump())
            session.add(team)
            await session.flush()
            await record_change(
                session,
                ctx,
                principal,
                kind=KIND,
                entity_id=team.id,
                action="create",
                changes=data.model_dump(),
            )
            return TeamOut.model_validate(team)
    except IntegrityError:
        raise Conflict(f"a team named {data.name!r} already exists", field="name") from None


async def update_team(
    ctx: AppContext, principal: Principal, team_id: int, data: TeamUpdate
) -> TeamOut:
    require(principal, Permission.DIRECTORY_WRITE)
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes)
    try:
        async with transaction(ctx) as session:
            team = await get_or_404(session, Team, team_id, KIND)
            for name, value in changes.items():
                setattr(team, name, value)
            await session.flush()
            await record_change(
                session,
                ctx,
                principal,
                kind=KIND,
                entity_id=team.id,
                action="update",
                changes=changes,
            )
            return TeamOut.model_validate(team)
    except IntegrityError:
        raise Conflict("a team with this name already exists", field="name") from None


async def delete_team(ctx: AppContext, principal: Principal, team_id: int) -> None:
    """Delete a team that no user and no queue belongs to (409 otherwise)."""
    require(principal, Permission.DIRECTORY_WRITE)
    try:
        async with transaction(ctx) as session:
            team = await get_or_404(session, Team, team_id, KIND)
            await refuse_if_used(
                session,
                f"team {team_id}",
                {"users": User.team_id == team_id, "queues": Queue.team_id == team_id},
            )
            await session.delete(team)
            await session.flush()
            await record_change(
                session,
                ctx,
                principal,
                kind=KIND,
                entity_id=team_id,
                action="delete",
                changes={"name": team.name},
            )
    except IntegrityError:  # something started using it meanwhile
        raise Conflict(f"team {team_id} is still in use") from None
