"""Reading users as the API shows them, and as the reader may see them.

A user is visible to themselves, and to whoever sees the user's site
(``Principal.sees_site``); a hidden user does not exist as far as the reader can tell.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import PresenceState, Role
from opencx.core.errors import NotFound
from opencx.core.permissions import Principal
from opencx.db.models import AgentSkill, SiteGrant, User
from opencx.features.common import Schema

__all__ = ["AgentSkillOut", "UserOut", "to_user_out", "to_users_out", "visible_user"]


class AgentSkillOut(Schema):
    skill_id: int
    level: int


class UserOut(Schema):
    """A user; the password hash is never part of it."""

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
    #: One of the demo's simulated agents (``opencx demo``), offered only simulated
    #: customers' contacts.
    simulated: bool = False
    presence: PresenceState
    presence_reason: str | None
    presence_since: datetime
    skills: list[AgentSkillOut] = Field(default_factory=list)
    granted_site_ids: list[int] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


async def visible_user(session: AsyncSession, principal: Principal, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or not (user.id == principal.user_id or principal.sees_site(user.site_id)):
        raise NotFound(f"user {user_id} does not exist")
    return user


async def to_user_out(session: AsyncSession, user: User) -> UserOut:
    return (await to_users_out(session, [user]))[0]


async def to_users_out(session: AsyncSession, users: Sequence[User]) -> list[UserOut]:
    """Users with their skills and site grants, in two queries whatever their number."""
    ids = [user.id for user in users]
    skills: dict[int, list[AgentSkillOut]] = {}
    grants: dict[int, list[int]] = {}
    if ids:
        for row in await session.scalars(
            select(AgentSkill).where(AgentSkill.user_id.in_(ids)).order_by(AgentSkill.skill_id)
        ):
            skills.setdefault(row.user_id, []).append(AgentSkillOut.model_validate(row))
        for user_id, site_id in (
            await session.execute(
                select(SiteGrant.user_id, SiteGrant.site_id)
                .where(SiteGrant.user_id.in_(ids))
                .order_by(SiteGrant.site_id)
            )
        ).all():
            grants.setdefault(user_id, []).append(site_id)
    return [
        UserOut.model_validate(user).model_copy(
            update={"skills": skills.get(user.id, []), "granted_site_ids": grants.get(user.id, [])}
        )
        for user in users
    ]
