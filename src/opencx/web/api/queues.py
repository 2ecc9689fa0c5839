"""/api/v1/queues and a queue's alert thresholds"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from opencx.core.enums import Channel
from opencx.features.common import Page
from opencx.features.directory import queues, thresholds
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

router = APIRouter(prefix="/queues", tags=["queues"])

IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get("", response_model=Page[queues.QueueOut])
async def list_queues(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    q: Annotated[
        str | None, Query(pattern=TEXT, max_length=120, description="name starts with")
    ] = None,
    channel: Channel | None = None,
    team_id: IdFilter = None,
    site_id: IdFilter = None,
) -> Page[queues.QueueOut]:
    return await queues.list_queues(
        ctx,
        principal,
        cursor=cursor,
        limit=limit,
        q=q,
        channel=channel,
        team_id=team_id,
        site_id=site_id,
    )


@router.post("", status_code=201, response_model=queues.QueueOut)
async def create_queue(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: queues.QueueCreate
) -> JSONResponse:
    return await created(request, ctx, principal, lambda: queues.create_queue(ctx, principal, body))


@router.get("/{queue_id}", response_model=queues.QueueOut)
async def get_queue(
    ctx: ContextDep, principal: PrincipalDep, queue_id: EntityId
) -> queues.QueueOut:
    return await queues.get_queue(ctx, principal, queue_id)


@router.patch("/{queue_id}", response_model=queues.QueueOut)
async def update_queue(
    ctx: ContextDep, principal: PrincipalDep, queue_id: EntityId, body: queues.QueueUpdate
) -> queues.QueueOut:
    return await queues.update_queue(ctx, principal, queue_id, body)


@router.delete("/{queue_id}", status_code=204)
async def delete_queue(ctx: ContextDep, principal: PrincipalDep, queue_id: EntityId) -> None:
    await queues.delete_queue(ctx, principal, queue_id)


@router.get("/{queue_id}/thresholds", response_model=thresholds.ThresholdsOut)
async def get_thresholds(
    ctx: ContextDep, principal: PrincipalDep, queue_id: EntityId
) -> thresholds.ThresholdsOut:
    """The queue's alert thresholds for the cockpit (null: not set)."""
    return await thresholds.get_thresholds(ctx, principal, queue_id)


@router.put("/{queue_id}/thresholds", response_model=thresholds.ThresholdsOut)
async def set_thresholds(
    ctx: ContextDep, principal: PrincipalDep, queue_id: EntityId, body: thresholds.ThresholdsIn
) -> thresholds.ThresholdsOut:
    """Replace the queue's alert thresholds; every cockpit showing it takes them at once."""
    return await thresholds.set_thresholds(ctx, principal, queue_id, body)
