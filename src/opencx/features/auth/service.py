"""Who is calling: by API token or by email and password."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import Unauthenticated
from opencx.core.permissions import Principal
from opencx.db.models import ApiToken, User
from opencx.features.auth.passwords import DUMMY_HASH, verify_password
from opencx.features.auth.principals import load_principal
from opencx.features.auth.ratelimit import LoginRateLimiter
from opencx.features.auth.token_cache import token_cache
from opencx.features.auth.tokens import TOKEN_PREFIX, hash_token
from opencx.features.context import AppContext, transaction

__all__ = [
    "Authenticated",
    "authenticate_password",
    "authenticate_token",
    "authenticate_user_id",
    "authenticated",
]


@dataclass(frozen=True, slots=True)
class Authenticated:
    principal: Principal
    email: str
    display_name: str
    locale: str


async def authenticate_token(ctx: AppContext, raw: str) -> Authenticated:
    if not raw.startswith(TOKEN_PREFIX):
        raise Unauthenticated("the bearer token is not valid")
    digest = hash_token(raw)
    cache = token_cache(ctx)
    if cache is None:
        return (await _resolve_token(ctx, digest))[0]
    known = cache.get(digest)
    if isinstance(known, Authenticated):
        return known
    generation = cache.generation
    found, user_id = await _resolve_token(ctx, digest)
    cache.put(digest, found, user_id=user_id, generation=generation)
    return found


async def _resolve_token(ctx: AppContext, digest: str) -> tuple[Authenticated, int]:
    async with transaction(ctx) as session:
        row = await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == digest)
        )
        found = row.first()
        if found is None:
            raise Unauthenticated("the bearer token is not valid")
        token, user = found
        if token.revoked_at is not None or not user.is_active:
            raise Unauthenticated("the bearer token has been revoked")
        now = ctx.clock.now()
        # Written at most every few minutes so reads stay reads.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
            token.last_used_at = now
        return await authenticated(session, user), user.id


async def authenticate_password(
    ctx: AppContext,
    *,
    email: str,
    password: str,
    client: str,
    limiter: LoginRateLimiter,
) -> Authenticated:
    email = email.strip().lower()
    await limiter.admit(email, client)
    async with transaction(ctx) as session:
        user = await session.scalar(select(User).where(User.email == email))
        ok = verify_password(user.password_hash or DUMMY_HASH if user else DUMMY_HASH, password)
        if user is None or not user.is_active or not user.password_hash or not ok:
            raise Unauthenticated("wrong email or password")
        result = await authenticated(session, user)
    await limiter.succeeded(email, client)
    return result


async def authenticated(session: AsyncSession, user: User) -> Authenticated:
    return Authenticated(
        principal=await load_principal(session, user),
        email=user.email,
        display_name=user.display_name,
        locale=user.locale,
    )


async def authenticate_user_id(ctx: AppContext, user_id: int) -> Authenticated:
    """Reload an active user by id (for callers that have proved who they are)."""
    async with transaction(ctx) as session:
        user = await session.get(User, user_id)
        if user is None or not user.is_active:
            raise Unauthenticated("your session has ended; sign in again")
        return await authenticated(session, user)
