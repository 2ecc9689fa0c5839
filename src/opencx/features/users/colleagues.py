"""Colleagues an agent may name: to transfer a conversation to, or to @mention in a
note. Agents may not list users (``users.read``); this is the little they need — a
name, a role and a presence — of the active agents and supervisors on the sites they
see, never an e-mail address or a setting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select

from opencx.core.enums import PresenceState, Role
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import User
from opencx.features.common import Schema
from opencx.features.context import AppContext, transaction

__all__ = ["ColleagueOut", "list_colleagues"]

#: Enough for a picker that narrows as one types.
MAX_COLLEAGUES = 50
_PEOPLE = (Role.AGENT, Role.SUPERVISOR)


class ColleagueOut(Schema):
    id: int
    display_name: str
    role: Role
    site_id: int | None
    presence: PresenceState
    presence_since: datetime
    #: One of the demo's simulated agents (``opencx demo``): no contact can be handed
    #: to them but a simulated customer's.
    simulated: bool = False


async def list_colleagues(
    ctx: AppContext,
    principal: Principal,
    *,
    q: str | None = None,
    role: Role | None = None,
    available: bool = False,
    limit: int = 20,
) -> list[ColleagueOut]:
    """Agents and supervisors the reader sees, by name; ``q`` matches the start of any
    word of the name, whatever its case."""
    require(principal, Permission.DIRECTORY_READ)
    stmt = select(User).where(
        User.is_active.is_(True), User.role.in_(_PEOPLE), User.id != principal.user_id
    )
    visible = principal.visible_site_ids
    if visible is not None:
        stmt = stmt.where(User.site_id.in_(visible))
    if q:
        name = func.lower(User.display_name)
        start = q.strip().lower()
        stmt = stmt.where(
            or_(
                name.startswith(start, autoescape=True), name.contains(" " + start, autoescape=True)
            )
        )
    if role is not None:
        stmt = stmt.where(User.role == role)
    if available:
        stmt = stmt.where(User.presence == PresenceState.AVAILABLE)
    stmt = stmt.order_by(User.display_name, User.id).limit(min(limit, MAX_COLLEAGUES))
    async with transaction(ctx) as session:
        return [ColleagueOut.model_validate(user) for user in await session.scalars(stmt)]
