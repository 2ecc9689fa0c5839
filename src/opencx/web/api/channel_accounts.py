"""/api/v1/channel-accounts"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from opencx.core.enums import Channel
from opencx.features.common import Page
from opencx.features.directory import channel_accounts as accounts
from opencx.web.deps import TEXT, ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(prefix="/channel-accounts", tags=["channel accounts"])


@router.get("", response_model=Page[accounts.ChannelAccountOut])
async def list_channel_accounts(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    q: Annotated[
        str | None, Query(pattern=TEXT, max_length=120, description="name starts with")
    ] = None,
    channel: Channel | None = None,
    provider: accounts.Provider | None = None,
) -> Page[accounts.ChannelAccountOut]:
    return await accounts.list_accounts(
        ctx, principal, cursor=cursor, limit=limit, q=q, channel=channel, provider=provider
    )


@router.post("", status_code=201, response_model=accounts.ChannelAccountOut)
async def create_channel_account(
    request: Request,
    ctx: ContextDep,
    principal: PrincipalDep,
    body: accounts.ChannelAccountCreate,
) -> JSONResponse:
    return await created(
        request, ctx, principal, lambda: accounts.create_account(ctx, principal, body)
    )


@router.get("/{account_id}", response_model=accounts.ChannelAccountOut)
async def get_channel_account(
    ctx: ContextDep, principal: PrincipalDep, account_id: EntityId
) -> accounts.ChannelAccountOut:
    return await accounts.get_account(ctx, principal, account_id)


@router.patch("/{account_id}", response_model=accounts.ChannelAccountOut)
async def update_channel_account(
    ctx: ContextDep,
    principal: PrincipalDep,
    account_id: EntityId,
    body: accounts.ChannelAccountUpdate,
) -> accounts.ChannelAccountOut:
    return await accounts.update_account(ctx, principal, account_id, body)


@router.delete("/{account_id}", status_code=204)
async def delete_channel_account(
    ctx: ContextDep, principal: PrincipalDep, account_id: EntityId
) -> None:
    await accounts.delete_account(ctx, principal, account_id)
