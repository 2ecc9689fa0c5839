"""API bearer tokens: random, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from opencx.core.errors import NotFound
from opencx.db.models import ApiToken, User
from opencx.features.context import AppContext, transaction
from opencx.features.eventlog import record_audit

__all__ = ["TOKEN_PREFIX", "create_api_token", "hash_token", "revoke_api_token"]

TOKEN_PREFIX = "ocx_"  # noqa: S105 - a public prefix, not a secret


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


async def revoke_api_token(ctx: AppContext, *, token_id: int, actor_user_id: int) -> None:
    async with transaction(ctx) as session:
        token = await session.get(ApiToken, token_id)
        if token is None or token.revoked_at is not None:
            raise NotFound(f"no active token {token_id}")
        token.revoked_at = ctx.clock.now()
        record_audit(
            session,
            ctx,
            actor_user_id=actor_user_id,
            action="token.revoke",
            entity_kind="api_token",
            entity_id=token_id,
            changes={},
        )
