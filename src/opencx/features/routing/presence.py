"""An agent's presence written: the one writer, used by the presence API, admins'
changes and the router (an agent who missed too many offers is set not ready).

It lives beside the router, which users' services depend on and not the other way."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.events import EventType
from opencx.core.presence import PresenceChange
from opencx.db.models import User
from opencx.features.context import AppContext
from opencx.features.events.record import record_audit, record_event
from opencx.features.routing.commands import CommandKind, enqueue

__all__ = ["apply_presence"]


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
