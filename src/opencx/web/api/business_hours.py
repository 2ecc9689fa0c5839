"""/api/v1/business-hours, with holidays and open/closed status."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from opencx.features.common import Page
from opencx.features.directory import business_hours as hours
from opencx.web.deps import TEXT, ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(prefix="/business-hours", tags=["business hours"])


@router.get("", response_model=Page[hours.BusinessHoursOut])
async def list_business_hours(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    q: Annotated[
        str | None, Query(pattern=TEXT, max_length=120, description="name starts with")
    ] = None,
) -> Page[hours.BusinessHoursOut]:
    return await hours.list_business_hours(ctx, principal, cursor=cursor, limit=limit, q=q)


@router.post("", status_code=201, response_model=hours.BusinessHoursOut)
async def create_business_hours(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: hours.BusinessHoursCreate
) -> JSONResponse:
    return await created(
        request, ctx, principal, lambda: hours.create_business_hours(ctx, principal, body)
    )


@router.get("/{hours_id}", response_model=hours.BusinessHoursOut)
async def get_business_hours(
    ctx: ContextDep, principal: PrincipalDep, hours_id: EntityId
) -> hours.BusinessHoursOut:
    return await hours.get_business_hours(ctx, principal, hours_id)


@router.patch("/{hours_id}", response_model=hours.BusinessHoursOut)
async def update_business_hours(
    ctx: ContextDep, principal: PrincipalDep, hours_id: EntityId, body: hours.BusinessHoursUpdate
) -> hours.BusinessHoursOut:
    return await hours.update_business_hours(ctx, principal, hours_id, body)


@router.delete("/{hours_id}", status_code=204)
async def delete_business_hours(
    ctx: ContextDep, principal: PrincipalDep, hours_id: EntityId
) -> None:
    await hours.delete_business_hours(ctx, principal, hours_id)


@router.get("/{hours_id}/status", response_model=hours.HoursStatus)
async def business_hours_status(
    ctx: ContextDep,
    principal: PrincipalDep,
    hours_id: EntityId,
    at: Annotated[
        datetime | None, Query(description="ISO 8601 instant with an offset; now if omitted")
    ] = None,
) -> hours.HoursStatus:
    return await hours.business_hours_status(ctx, principal, hours_id, at=at)


@router.get("/{hours_id}/holidays", response_model=Page[hours.HolidayOut])
async def list_holidays(
    ctx: ContextDep,
    principal: PrincipalDep,
    hours_id: EntityId,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    since: Annotated[date | None, Query(description="holidays on or after this day")] = None,
) -> Page[hours.HolidayOut]:
    return await hours.list_holidays(
        ctx, principal, hours_id, cursor=cursor, limit=limit, since=since
    )


@router.post("/{hours_id}/holidays", status_code=201, response_model=hours.HolidayOut)
async def add_holiday(
    request: Request,
    ctx: ContextDep,
    principal: PrincipalDep,
    hours_id: EntityId,
    body: hours.HolidayCreate,
) -> JSONResponse:
    return await created(
        request, ctx, principal, lambda: hours.add_holiday(ctx, principal, hours_id, body)
    )


@router.delete("/{hours_id}/holidays/{holiday_id}", status_code=204)
async def delete_holiday(
    ctx: ContextDep, principal: PrincipalDep, hours_id: EntityId, holiday_id: EntityId
) -> None:
    await hours.delete_holiday(ctx, principal, hours_id, holiday_id)
