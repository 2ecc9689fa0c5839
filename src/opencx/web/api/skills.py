"""/api/v1/skills"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from opencx.features.common import Page
from opencx.features.directory import skills
from opencx.web.deps import TEXT, ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(prefix="/skills", tags=["skills"])

NamePrefix = Annotated[
    str | None, Query(pattern=TEXT, max_length=80, description="name starts with")
]


@router.get("", response_model=Page[skills.SkillOut])
async def list_skills(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    q: NamePrefix = None,
) -> Page[skills.SkillOut]:
    return await skills.list_skills(ctx, principal, cursor=cursor, limit=limit, q=q)


@router.post("", status_code=201, response_model=skills.SkillOut)
async def create_skill(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: skills.SkillCreate
) -> JSONResponse:
    return await created(request, ctx, principal, lambda: skills.create_skill(ctx, principal, body))


@router.get("/{skill_id}", response_model=skills.SkillOut)
async def get_skill(
    ctx: ContextDep, principal: PrincipalDep, skill_id: EntityId
) -> skills.SkillOut:
    return await skills.get_skill(ctx, principal, skill_id)


@router.patch("/{skill_id}", response_model=skills.SkillOut)
async def update_skill(
    ctx: ContextDep, principal: PrincipalDep, skill_id: EntityId, body: skills.SkillUpdate
) -> skills.SkillOut:
    return await skills.update_skill(ctx, principal, skill_id, body)


@router.delete("/{skill_id}", status_code=204)
async def delete_skill(ctx: ContextDep, principal: PrincipalDep, skill_id: EntityId) -> None:
    await skills.delete_skill(ctx, principal, skill_id)
