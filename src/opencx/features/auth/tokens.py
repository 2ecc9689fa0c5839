"""API bearer tokens: random, shown once, stored as SHA-256, revoked for good.

Rules:
- a token is created for an active user (the CLI, acting for the machine's owner);
- everyone lists and revokes their own tokens; ``users.write`` (admins) those of the
  users they see; a token one may not see does not exist (404);
- a revoked token never works again, and its revocation is published as
  ``user.access_ended`` so that a WebSocket opened with it closes at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import NotFound
from opencx.core.events import EventType
from opencx.core.permissions import Permission, Principal
from opencx.db.models import ApiToken, User
from opencx.features.common import Page, Schema, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.events.record import record_audit, record_event

__all__ = [
    "TOKEN_PREFIX",
    "TokenOut",
    "create_api_token",
    "hash_token",
    "list_api_tokens",
    "list_tokens_as_system",
    "revoke_api_token",
    "revoke_token_as_system",
]

TOKEN_PREFIX = "ocx_"  # noqa: S105 - a public prefix, not a secret


class TokenOut(Schema):
    """A token as its owner and admins see it: never its value."""

    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def create_api_token(ctx: AppContext, *, email: str, name: str = "") -> str:
    """Create a token for the user with ``email`` and return it; it is never shown again."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with transaction(ctx) as session:
        user = await session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.is_active:
            raise NotFound(f"no active user with email {email!r}")
        token = ApiToken(
            user_id=user.id,
            name=name,
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            token_hash=hash_token(raw),
            created_at=ctx.clock.now(),
        )
        session.add(token)
        await session.flush()
        record_audit(
            session,
            ctx,
            actor_user_id=user.id,
            action="token.create",
            entity_kind="api_token",
            entity_id=token.id,
            changes={"name": name, "prefix": token.prefix},
        )
    return raw


async def list_api_tokens(
    ctx: AppContext,
    principal: Principal,
    *,
    user_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[TokenOut]:
    """The caller's tokens; an admin names another user with ``user_id``."""
    stmt = select(ApiToken)
    if not principal.can(Permission.USERS_WRITE):
        stmt = stmt.where(ApiToken.user_id == principal.user_id)
    elif principal.visible_site_ids is not None:
        stmt = stmt.join(User, User.id == ApiToken.user_id).where(
            User.site_id.in_(principal.visible_site_ids)
        )
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=ApiToken.id,
            cursor=cursor,
            limit=limit,
            to_out=TokenOut.model_validate,
        )


async def list_tokens_as_system(ctx: AppContext, *, email: str | None = None) -> list[TokenOut]:
    """Every token (of one user with ``email``), for the CLI."""
    stmt = select(ApiToken).order_by(ApiToken.id)
    if email is not None:
        stmt = stmt.join(User, User.id == ApiToken.user_id).where(
            User.email == email.strip().lower()
        )
    async with transaction(ctx) as session:
        return [TokenOut.model_validate(row) for row in await session.scalars(stmt)]


async def revoke_api_token(ctx: AppContext, principal: Principal, token_id: int) -> TokenOut:
    """Revoke a token the caller may see; revoking it again changes nothing."""
    async with transaction(ctx) as session:
        token = await session.get(ApiToken, token_id, with_for_update=True)
        owner = await session.get(User, token.user_id) if token is not None else None
        if token is None or owner is None or not _may_manage(principal, owner):
            raise NotFound(f"token {token_id} does not exist")
        await _revoke(session, ctx, token, owner, actor_user_id=principal.user_id)
        return TokenOut.model_validate(token)


async def revoke_token_as_system(ctx: AppContext, token_id: int) -> TokenOut:
    """For the CLI, which acts with the machine owner's authority."""
    async with transaction(ctx) as session:
        token = await session.get(ApiToken, token_id, with_for_update=True)
        owner = await session.get(User, token.user_id) if token is not None else None
        if token is None or owner is None:
            raise NotFound(f"token {token_id} does not exist")
        await _revoke(session, ctx, token, owner, actor_user_id=None)
        return TokenOut.model_validate(token)


def _may_manage(principal: Principal, owner: User) -> bool:
    if owner.id == principal.user_id:
        return True
    return principal.can(Permission.USERS_WRITE) and principal.sees_site(owner.site_id)


async def _revoke(
    session: AsyncSession,
    ctx: AppContext,
    token: ApiToken,
    owner: User,
    *,
    actor_user_id: int | None,
) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = ctx.clock.now()
    record_audit(
        session,
        ctx,
        actor_user_id=actor_user_id,
        action="token.revoke",
        entity_kind="api_token",
        entity_id=token.id,
        changes={"user_id": owner.id, "prefix": token.prefix},
    )
    await record_event(
        session,
        ctx,
        EventType.USER_ACCESS_ENDED,
        entity_kind="user",
        entity_id=owner.id,
        payload={"reason": "token_revoked", "token_id": token.id},
        actor_user_id=actor_user_id,
        site_id=owner.site_id,
    )
