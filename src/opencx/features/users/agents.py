"""An agent's skills with levels, and the extra sites a (partner-site) user may see.

Both are replaced as a whole: the list sent is the new list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import InvalidInput
from opencx.core.events import EventType
from opencx.core.ids import MAX_ID
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import AgentSkill, Site, SiteGrant, Skill, User
from opencx.features.common import InputSchema
from opencx.features.context import AppContext, transaction
from opencx.features.events.record import record_audit, record_event
from opencx.features.routing.commands import CommandKind, enqueue
from opencx.features.users.lookup import UserOut, to_user_out, visible_user

__all__ = ["SiteIds", "SkillLevel", "SkillLevels", "set_site_grants", "set_user_skills"]


class SkillLevel(InputSchema):
    skill_id: int = Field(ge=1, le=MAX_ID)
    level: int = Field(default=1, ge=1, le=10)


def _distinct_skills(levels: list[SkillLevel]) -> list[SkillLevel]:
    if len({item.skill_id for item in levels}) != len(levels):
        raise ValueError("a skill may appear only once")
    return levels


def _distinct_sites(site_ids: list[int]) -> list[int]:
    return sorted(set(site_ids))


SkillLevels = Annotated[list[SkillLevel], Field(max_length=200), AfterValidator(_distinct_skills)]
SiteIds = Annotated[
    list[Annotated[int, Field(ge=1, le=MAX_ID)]],
    Field(max_length=200),
    AfterValidator(_distinct_sites),
]


async def set_user_skills(
    ctx: AppContext, principal: Principal, user_id: int, levels: Sequence[SkillLevel]
) -> UserOut:
    require(principal, Permission.USERS_WRITE)
    async with transaction(ctx) as session:
        user = await visible_user(session, principal, user_id)
        wanted = [item.skill_id for item in levels]
        await _check_all_exist(session, Skill, wanted, label="skill", field="skills")
        await session.execute(delete(AgentSkill).where(AgentSkill.user_id == user_id))
        session.add_all(
            AgentSkill(user_id=user_id, skill_id=item.skill_id, level=item.level) for item in levels
        )
        await session.flush()
        changes = {"skills": [item.model_dump() for item in levels]}
        await _updated(session, ctx, principal, user, "skills", changes)
        await enqueue(session, ctx, CommandKind.SYNC_WORKER, worker_id=user_id)
        return await to_user_out(session, user)


async def set_site_grants(
    ctx: AppContext, principal: Principal, user_id: int, site_ids: Sequence[int]
) -> UserOut:
    """The sites, beyond their own, whose data a partner-site user sees (admins only)."""
    require(principal, Permission.USERS_WRITE)
    async with transaction(ctx) as session:
        user = await visible_user(session, principal, user_id)
        await _check_all_exist(session, Site, site_ids, label="site", field="site_ids")
        await session.execute(delete(SiteGrant).where(SiteGrant.user_id == user_id))
        session.add_all(SiteGrant(user_id=user_id, site_id=site_id) for site_id in site_ids)
        await session.flush()
        await _updated(session, ctx, principal, user, "site_grants", {"site_ids": list(site_ids)})
        return await to_user_out(session, user)


async def _check_all_exist(
    session: AsyncSession, model: Any, ids: Sequence[int], *, label: str, field: str
) -> None:
    if not ids:
        return
    found = set(await session.scalars(select(model.id).where(model.id.in_(ids))))
    missing = sorted(set(ids) - found)
    if missing:
        listing = ", ".join(str(i) for i in missing)
        raise InvalidInput(f"no {label} with id {listing}", field=field)


async def _updated(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    user: User,
    what: str,
    changes: dict[str, Any],
) -> None:
    record_audit(
        session,
        ctx,
        actor_user_id=principal.user_id,
        action=f"user.{what}",
        entity_kind="user",
        entity_id=user.id,
        changes=changes,
    )
    await record_event(
        session,
        ctx,
        EventType.USER_UPDATED,
        entity_kind="user",
        entity_id=user.id,
        payload={"fields": [what]},
        actor_user_id=principal.user_id,
        site_id=user.site_id,
    )
