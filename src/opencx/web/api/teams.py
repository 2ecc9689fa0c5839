"""/api/v1/teams"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from opencx.features.common import Page
from opencx.features.directory import teams
from opencx.web.deps import TEXT, ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(prefix="/teams", tags=["teams"])

NamePrefix = Annotated[
    str | None, Query(pattern=TEXT, max_length=120, description="name starts with")
]


@router.get("", response_model=Page[teams.TeamOut])
async def list_teams(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    q: NamePrefix = None,
) -> Page[teams.TeamOut]:
    return await teams.list_teams(ctx, principal, cursor=cursor, limit=limit, q=q)


@router.post("", status_code=201, response_model=teams.TeamOut)
async def create_team(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: teams.TeamCreate
) -> JSONResponse:
    return await created(request, ctx, principal, lambda: teams.create_team(ctx, principal, body))


@router.get("/{team_id}", response_model=teams.TeamOut)
async def get_team(ctx: ContextDep, principal: PrincipalDep, team_id: EntityId) -> teams.TeamOut:
    return await teams.get_team(ctx, principal, team_id)


@router.patch("/{team_id}", response_model=teams.TeamOut)
async def update_team(
    ctx: ContextDep, principal: PrincipalDep, team_id: EntityId, body: teams.TeamUpdate
) -> teams.TeamOut:
    return await teams.update_team(ctx, principal, team_id, body)


@router.delete("/{team_id}", status_code=204)
async def delete_team(ctx: ContextDep, principal: PrincipalDep, team_id: EntityId) -> None:
    await teams.delete_team(ctx, principal, team_id)
