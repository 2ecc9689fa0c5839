"""/api/v1/users: users, their agent profile, skills, site grants and presence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from opencx.core.enums import PresenceState, Role
from opencx.features.common import Page
from opencx.features.users import agents, service
from opencx.features.users import presence as agent_presence
from opencx.web.deps import (
    MAX_ID,
    TEXT,
    ContextDep,
    CursorQuery,
    EntityId,
    LimitQuery,
    PrincipalDep,
)
from opencx.web.idempotent import created

router = APIRouter(prefix="/users", tags=["users"])

IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get("", response_model=Page[service.UserOut])
async def list_users(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    q: Annotated[
        str | None, Query(pattern=TEXT, max_length=120, description="email or name starts with")
    ] = None,
    role: Role | None = None,
    site_id: IdFilter = None,
    team_id: IdFilter = None,
    presence: PresenceState | None = None,
    is_active: bool | None = None,
) -> Page[service.UserOut]:
    return await service.list_users(
        ctx,
        principal,
        cursor=cursor,
        limit=limit,
        q=q,
        role=role,
        site_id=site_id,
        team_id=team_id,
        presence=presence,
        is_active=is_active,
    )


@router.post("", status_code=201, response_model=service.UserOut)
async def create_user(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: service.UserCreate
) -> JSONResponse:
    return await created(request, ctx, principal, lambda: service.create_user(ctx, principal, body))


@router.get("/me", response_model=service.UserOut)
async def get_me(ctx: ContextDep, principal: PrincipalDep) -> service.UserOut:
    return await service.get_me(ctx, principal)


@router.get("/{user_id}", response_model=service.UserOut)
async def get_user(ctx: ContextDep, principal: PrincipalDep, user_id: EntityId) -> service.UserOut:
    return await service.get_user(ctx, principal, user_id)


@router.patch("/{user_id}", response_model=service.UserOut)
async def update_user(
    ctx: ContextDep, principal: PrincipalDep, user_id: EntityId, body: service.UserUpdate
) -> service.UserOut:
    return await service.update_user(ctx, principal, user_id, body)


@router.put("/{user_id}/skills", response_model=service.UserOut)
async def set_user_skills(
    ctx: ContextDep,
    principal: PrincipalDep,
    user_id: EntityId,
    body: Annotated[agents.SkillLevels, Body(examples=[[{"skill_id": 1, "level": 5}]])],
) -> service.UserOut:
    return await agents.set_user_skills(ctx, principal, user_id, body)


@router.put("/{user_id}/site-grants", response_model=service.UserOut)
async def set_site_grants(
    ctx: ContextDep,
    principal: PrincipalDep,
    user_id: EntityId,
    body: Annotated[agents.SiteIds, Body(examples=[[2, 3]])],
) -> service.UserOut:
    return await agents.set_site_grants(ctx, principal, user_id, body)


@router.put("/{user_id}/presence", response_model=agent_presence.PresenceOut)
async def set_presence(
    ctx: ContextDep,
    principal: PrincipalDep,
    user_id: EntityId,
    body: agent_presence.PresenceUpdate,
) -> agent_presence.PresenceOut:
    return await agent_presence.set_agent_presence(ctx, principal, user_id, body)
