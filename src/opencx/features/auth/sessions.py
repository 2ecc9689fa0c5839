"""Browser sessions kept on the server, and ending a user's access.

Rules:
- signing in makes a ``user_sessions`` row; the signed cookie holds only its random key
  (the row keeps the key's SHA-256), so a copied cookie is worth nothing once the row
  is ended or expired;
- signing out ends that one session; a new password, deactivation and an admin's
  "end access" end every session and revoke every API token of the user, so a
  reactivated user starts with none;
- each ending is recorded as ``user.access_ended`` and published after the commit:
  open WebSockets check their own credential again when it names their user.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import Unauthenticated
from opencx.core.events import EventType
from opencx.db.models import ApiToken, User, UserSession
from opencx.features.auth.service import Authenticated, authenticated
from opencx.features.auth.tokens import hash_token
from opencx.features.context import AppContext, transaction
from opencx.features.events.record import record_event

__all__ = [
    "authenticate_session",
    "end_session",
    "end_user_access",
    "start_session",
]

ENDED = "your session has ended; sign in again"


async def start_session(ctx: AppContext, user_id: int) -> str:
    """A new session for ``user_id``; its key, for the cookie only."""
    raw = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    max_age = timedelta(seconds=ctx.settings.security.session_max_age_seconds)
    async with transaction(ctx) as session:
        # The user's dead sessions go when a new one starts: the table stays small.
        await session.execute(
            delete(UserSession).where(
                UserSession.user_id == user_id,
                or_(UserSession.ended_at.is_not(None), UserSession.expires_at <= now),
            )
        )
        session.add(
            UserSession(
                user_id=user_id, key_hash=hash_token(raw), created_at=now, expires_at=now + max_age
            )
        )
    return raw


async def authenticate_session(ctx: AppContext, raw: str) -> Authenticated:
    """The user of a live session, reloaded so that any change takes effect at once."""
    async with transaction(ctx) as session:
        found = (
            await session.execute(
                select(UserSession, User)
                .join(User, User.id == UserSession.user_id)
                .where(UserSession.key_hash == hash_token(raw))
            )
        ).first()
        if found is None:
            raise Unauthenticated(ENDED)
        row, user = found
        if row.ended_at is not None or row.expires_at <= ctx.clock.now() or not user.is_active:
            raise Unauthenticated(ENDED)
        return await authenticated(session, user)


async def end_session(ctx: AppContext, raw: str) -> None:
    """Sign out: the session of this key ends (nothing happens for an unknown one)."""
    async with transaction(ctx) as session:
        row = await session.scalar(
            select(UserSession).where(
                UserSession.key_hash == hash_token(raw), UserSession.ended_at.is_(None)
            )
        )
        if row is None:
            return
        row.ended_at = ctx.clock.now()
        user = await session.get(User, row.user_id)
        await _ended(session, ctx, row.user_id, user, reason="signed_out", actor=row.user_id)


async def end_user_access(
    session: AsyncSession,
    ctx: AppContext,
    user: User,
    *,
    reason: str,
    actor_user_id: int | None,
) -> None:
    """End every session and revoke every token of ``user``, in the caller's transaction."""
    now = ctx.clock.now()
    await session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    await session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await _ended(session, ctx, user.id, user, reason=reason, actor=actor_user_id)


async def _ended(
    session: AsyncSession,
    ctx: AppContext,
    user_id: int,
    user: User | None,
    *,
    reason: str,
    actor: int | None,
) -> None:
    await record_event(
        session,
        ctx,
        EventType.USER_ACCESS_ENDED,
        entity_kind="user",
        entity_id=user_id,
        payload={"reason": reason},
        actor_user_id=actor,
        site_id=user.site_id if user is not None else None,
    )
