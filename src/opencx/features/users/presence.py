"""Agent presence: available, not ready (with a reason) or offline.

Every change appends ``agent.presence_changed`` with the payload
``{"presence", "reason", "since" (ISO 8601, UTC), "previous"}``: the real-time hub and
the KPIs read presence from these events, so the shape is a contract.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from opencx.core.enums import PresenceState
from opencx.core.errors import Conflict
from opencx.core.permissions import Permission, Principal, require
from opencx.core.presence import plan_presence_change
from opencx.features.common import InputSchema, Schema
from opencx.features.context import AppContext, transaction
from opencx.features.routing.presence import apply_presence
from opencx.features.users.lookup import visible_user

__all__ = ["PresenceOut", "PresenceUpdate", "apply_presence", "set_agent_presence"]


class PresenceUpdate(InputSchema):
    state: PresenceState
    reason: str | None = Field(default=None, max_length=64, examples=["break"])


class PresenceOut(Schema):
    user_id: int
    state: PresenceState
    reason: str | None
    since: datetime


async def set_agent_presence(
    ctx: AppContext, principal: Principal, user_id: int, data: PresenceUpdate
) -> PresenceOut:
    """An agent sets their own presence; a supervisor or admin anyone they can see."""
    own = user_id == principal.user_id
    require(principal, Permission.PRESENCE_SET_OWN if own else Permission.PRESENCE_SET_ANY)
    async with transaction(ctx) as session:
        user = await visible_user(session, principal, user_id)
        if not user.is_active and data.state is not PresenceState.OFFLINE:
            raise Conflict(f"user {user_id} is deactivated; they can only be offline")
        change = plan_presence_change(
            user.presence,
            user.presence_reason,
            target=data.state,
            reason=data.reason,
            now=ctx.clock.now(),
        )
        await apply_presence(session, ctx, user, change, actor_user_id=principal.user_id)
        return PresenceOut(
            user_id=user.id, state=user.presence, reason=user.presence_reason, since=change.since
        )
