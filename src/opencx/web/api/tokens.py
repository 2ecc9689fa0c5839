"""/api/v1/tokens: one's API tokens (an admin's: anyone's), listed and revoked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from opencx.features.auth import tokens
from opencx.features.common import Page
from opencx.web.deps import MAX_ID, ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get("", response_model=Page[tokens.TokenOut])
async def list_tokens(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    user_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="another user's (admins)")
    ] = None,
) -> Page[tokens.TokenOut]:
    """The caller's tokens, revoked ones included; never a token's value."""
    return await tokens.list_api_tokens(ctx, principal, user_id=user_id, cursor=cursor, limit=limit)


@router.delete("/{token_id}", response_model=tokens.TokenOut)
async def revoke_token(
    ctx: ContextDep, principal: PrincipalDep, token_id: EntityId
) -> tokens.TokenOut:
    """Revoke a token at once: requests and WebSockets using it are refused (401/4401)."""
    return await tokens.revoke_api_token(ctx, principal, token_id)
