"""Skills: what agents know (a product, a language pair, a procedure), with levels."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from opencx.core.errors import Conflict
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import AgentSkill, Skill
from opencx.features.common import InputSchema, Page, Schema, get_or_404, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.directory._changes import (
    name_prefix,
    record_change,
    refuse_if_used,
    reject_nulls,
)

__all__ = [
    "SkillCreate",
    "SkillOut",
    "SkillUpdate",
    "create_skill",
    "delete_skill",
    "get_skill",
    "list_skills",
    "update_skill",
]

KIND = "skill"


class SkillCreate(InputSchema):
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=2000)


class SkillUpdate(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=80)
    description: str | None = Field(default=None, max_length=2000)


class SkillOut(Schema):
    id: int
    name: str
    description: str
    created_at: datetime
    updated_at: datetime


async def list_skills(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    q: str | None = None,
) -> Page[SkillOut]:
    require(principal, Permission.DIRECTORY_READ)
    stmt = select(Skill)
    if q:
        stmt = stmt.where(name_prefix(Skill.name, q))
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=Skill.id,
            cursor=cursor,
            limit=limit,
            to_out=SkillOut.model_validate,
        )


async def get_skill(ctx: AppContext, principal: Principal, skill_id: int) -> SkillOut:
    require(principal, Permission.DIRECTORY_READ)
    async with transaction(ctx) as session:
        return SkillOut.model_validate(await get_or_404(session, Skill, skill_id, KIND))


async def create_skill(ctx: AppContext, principal: Principal, data: SkillCreate) -> SkillOut:
    require(principal, Permission.DIRECTORY_WRITE)
    try:
        async with transaction(ctx) as session:
            skill = Skill(**data.model_dump())
            session.add(skill)
            await session.flush()
            await record_change(
                session,
                ctx,
                principal,
                kind=KIND,
                entity_id=skill.id,
                action="create",
                changes=data.model_dump(),
            )
            return SkillOut.model_validate(skill)
    except IntegrityError:
        raise Conflict(f"a skill named {data.name!r} already exists", field="name") from None


async def update_skill(
    ctx: AppContext, principal: Principal, skill_id: int, data: SkillUpdate
) -> SkillOut:
    require(principal, Permission.DIRECTORY_WRITE)
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes)
    try:
        async with transaction(ctx) as session:
            skill = await get_or_404(session, Skill, skill_id, KIND)
            for name, value in changes.items():
                setattr(skill, name, value)
            await session.flush()
            await record_change(
                session,
                ctx,
                principal,
                kind=KIND,
                entity_id=skill.id,
                action="update",
                changes=changes,
            )
            return SkillOut.model_validate(skill)
    except IntegrityError:
        raise Conflict("a skill with this name already exists", field="name") from None


async def delete_skill(ctx: AppContext, principal: Principal, skill_id: int) -> None:
    """Delete a skill that no agent holds (409 otherwise)."""
    require(principal, Permission.DIRECTORY_WRITE)
    try:
        async with transaction(ctx) as session:
            skill = await get_or_404(session, Skill, skill_id, KIND)
            await refuse_if_used(
                session,
                f"skill {skill_id}",
                {"agents": AgentSkill.skill_id == skill_id},
            )
            await session.delete(skill)
            await session.flush()
            await record_change(
                session,
                ctx,
                principal,
                kind=KIND,
                entity_id=skill_id,
                action="delete",
                changes={"name": skill.name},
            )
    except IntegrityError:  # something started using it meanwhile
        raise Conflict(f"skill {skill_id} is still in use") from None
