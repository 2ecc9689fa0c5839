"""/api/v1/contact-reasons: one tree per axis."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from opencx.core.enums import ReasonAxis
from opencx.features.common import Page
from opencx.features.directory import contact_reasons as reasons
from opencx.web.deps import (
    MAX_ID,
    TEXT,
    ContextDep,
    CursorQuery,
    EntityId,
    LimitQuery,
    PrincipalDep,
)
from opencx.web.idempotent import created

router = APIRouter(prefix="/contact-reasons", tags=["contact reasons"])


@router.get("", response_model=Page[reasons.ReasonOut])
async def list_reasons(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    axis: ReasonAxis | None = None,
    parent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    is_active: bool | None = None,
    q: Annotated[
        str | None, Query(pattern=TEXT, max_length=80, description="code starts with")
    ] = None,
) -> Page[reasons.ReasonOut]:
    return await reasons.list_reasons(
        ctx,
        principal,
        cursor=cursor,
        limit=limit,
        axis=axis,
        parent_id=parent_id,
        is_active=is_active,
        q=q,
    )


@router.get("/tree", response_model=list[reasons.ReasonNode])
async def reason_tree(
    ctx: ContextDep,
    principal: PrincipalDep,
    axis: ReasonAxis,
    active_only: Annotated[
        bool, Query(description="leave out inactive reasons and what lies under them")
    ] = False,
) -> list[reasons.ReasonNode]:
    return await reasons.reason_tree(ctx, principal, axis=axis, active_only=active_only)


@router.post("", status_code=201, response_model=reasons.ReasonOut)
async def create_reason(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: reasons.ReasonCreate
) -> JSONResponse:
    return await created(
        request, ctx, principal, lambda: reasons.create_reason(ctx, principal, body)
    )


@router.get("/{reason_id}", response_model=reasons.ReasonOut)
async def get_reason(
    ctx: ContextDep, principal: PrincipalDep, reason_id: EntityId
) -> reasons.ReasonOut:
    return await reasons.get_reason(ctx, principal, reason_id)


@router.patch("/{reason_id}", response_model=reasons.ReasonOut)
async def update_reason(
    ctx: ContextDep, principal: PrincipalDep, reason_id: EntityId, body: reasons.ReasonUpdate
) -> reasons.ReasonOut:
    return await reasons.update_reason(ctx, principal, reason_id, body)


@router.delete("/{reason_id}", status_code=204)
async def delete_reason(ctx: ContextDep, principal: PrincipalDep, reason_id: EntityId) -> None:
    await reasons.delete_reason(ctx, principal, reason_id)
