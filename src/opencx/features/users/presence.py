"""Agent presence: available, not ready (with a reason) or offline.

Every change appends ``agent.presence_changed`` with the payload
``{"presence", "reason", "since" (ISO 8601, UTC), "previous"}``: the real-time hub and
the KPIs read presence from these events, so the shape is a contract.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import PresenceState
from opencx.core.errors import Conflict
from opencx.core.events import EventType
from opencx.core.permissions import Permission, Principal, require
from opencx.core.presence import PresenceChange, plan_presence_change
from opencx.db.models import User
from opencx.features.common import InputSchema, Schema
from opencx.features.context import AppContext, transaction
from opencx.features.eventlog import record_audit, record_event
from opencx.features.routing.commands import CommandKind, enqueue
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


async def apply_presence(
    session: AsyncSession,
    ctx: AppContext,
    user: User,
    change: PresenceChange,
    *,
    actor_user_id: int | None,
    notify_router: bool = True,
) -> None:
    """Write a decided change to the user, the audit trail and the event log, and tell
    the router (unless the router itself decided it)."""
    user.presence = change.state
    user.presence_reason = change.reason
    user.presence_since = change.since
    payload = {
        "presence": change.state.value,
        "reason": change.reason,
        "since": change.since.astimezone(UTC).isoformat(),
        "previous": change.previous.value,
    }
    record_audit(
        session,
        ctx,
        actor_user_id=actor_user_id,
        action="user.presence",
        entity_kind="user",
        entity_id=user.id,
        changes=payload,
    )
    await record_event(
        session,
        ctx,
        EventType.AGENT_PRESENCE_CHANGED,
        entity_kind="user",
        entity_id=user.id,
        payload=payload,
        actor_user_id=actor_user_id,
        site_id=user.site_id,
    )
    if notify_router:
        await enqueue(session, ctx, CommandKind.SYNC_WORKER, worker_id=user.id)
