"""Business hours: weekly schedules in a time zone, their holidays, and whether they are
open at an instant (the rules are in ``opencx.core.hours``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core import hours
from opencx.core.errors import Conflict, InvalidInput, NotFound
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import BusinessHours, Holiday, Queue
from opencx.features.common import InputSchema, Page, Schema, get_or_404, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.directory._changes import (
    name_prefix,
    record_change,
    refuse_if_used,
    reject_nulls,
)
from opencx.features.directory.sites import check_timezone

__all__ = [
    "BusinessHoursCreate",
    "BusinessHoursOut",
    "BusinessHoursUpdate",
    "HolidayCreate",
    "HolidayOut",
    "HoursStatus",
    "TimeSpan",
    "WeeklyInterval",
    "add_holiday",
    "business_hours_status",
    "create_business_hours",
    "delete_business_hours",
    "delete_holiday",
    "get_business_hours",
    "list_business_hours",
    "list_holidays",
    "update_business_hours",
]

KIND = "business_hours"
LABEL = "business hours"
#: "HH:MM" from 00:00 to 24:00 (24:00 closes at the end of the day).
CLOCK = r"^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$"
#: Instants ``status`` answers for: wide enough for any real question, and far from the
#: ends of ``datetime``, where looking a year ahead would overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class WeeklyInterval(InputSchema):
    """Open from ``open`` to ``close`` (local time) on ``day`` (Monday=0 ... Sunday=6)."""

    day: int = Field(ge=0, le=6)
    open: str = Field(pattern=CLOCK, examples=["09:00"])
    close: str = Field(pattern=CLOCK, examples=["18:00"])


class TimeSpan(InputSchema):
    open: str = Field(pattern=CLOCK, examples=["09:00"])
    close: str = Field(pattern=CLOCK, examples=["12:00"])


def _valid_weekly(intervals: list[WeeklyInterval]) -> list[WeeklyInterval]:
    _raise_problems([(i.day, i.open, i.close) for i in intervals])
    return sorted(intervals, key=lambda i: (i.day, i.open))


def _valid_spans(spans: list[TimeSpan]) -> list[TimeSpan]:
    _raise_problems([(0, s.open, s.close) for s in spans])
    return sorted(spans, key=lambda s: s.open)


def _raise_problems(intervals: list[tuple[int, str, str]]) -> None:
    problems = hours.interval_problems(intervals)
    if problems:
        raise ValueError("; ".join(problems))


Weekly = Annotated[list[WeeklyInterval], Field(max_length=7 * 48), AfterValidator(_valid_weekly)]
SpecialHours = Annotated[list[TimeSpan], Field(max_length=48), AfterValidator(_valid_spans)]


class BusinessHoursCreate(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    timezone: str = Field(max_length=64, examples=["Europe/Paris"])
    weekly: Weekly = Field(default_factory=list)

    _tz = field_validator("timezone")(check_timezone)


class BusinessHoursUpdate(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    timezone: str | None = Field(default=None, max_length=64)
    weekly: Weekly | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class BusinessHoursOut(Schema):
    id: int
    name: str
    timezone: str
    weekly: list[WeeklyInterval]
    created_at: datetime
    updated_at: datetime


class HolidayCreate(InputSchema):
    day: date
    name: str = Field(min_length=1, max_length=120)
    #: Empty: closed all day; otherwise the only hours open that day.
    special_hours: SpecialHours = Field(default_factory=list)


class HolidayOut(Schema):
    id: int
    business_hours_id: int
    day: date
    name: str
    special_hours: list[TimeSpan]


class HoursStatus(Schema):
    """Whether a schedule is open at ``at``; ``next_opening`` is ``at`` itself when open,
    and null when it does not open within about a year."""

    at: datetime
    open: bool
    next_opening: datetime | None


async def list_business_hours(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    q: str | None = None,
) -> Page[BusinessHoursOut]:
    require(principal, Permission.DIRECTORY_READ)
    stmt = select(BusinessHours)
    if q:
        stmt = stmt.where(name_prefix(BusinessHours.name, q))
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=BusinessHours.id,
            cursor=cursor,
            limit=limit,
            to_out=BusinessHoursOut.model_validate,
        )


async def get_business_hours(
    ctx: AppContext, principal: Principal, hours_id: int
) -> BusinessHoursOut:
    require(principal, Permission.DIRECTORY_READ)
    async with transaction(ctx) as session:
        return BusinessHoursOut.model_validate(await _get(session, hours_id))


async def create_business_hours(
    ctx: AppContext, principal: Principal, data: BusinessHoursCreate
) -> BusinessHoursOut:
    require(principal, Permission.DIRECTORY_WRITE)
    fields = data.model_dump()
    try:
        async with transaction(ctx) as session:
            row = BusinessHours(**fields)
            session.add(row)
            await session.flush()
            await _changed(session, ctx, principal, row.id, "create", fields)
            return BusinessHoursOut.model_validate(row)
    except IntegrityError:
        raise Conflict(f"business hours named {data.name!r} already exist", field="name") from None


async def update_business_hours(
    ctx: AppContext, principal: Principal, hours_id: int, data: BusinessHoursUpdate
) -> BusinessHoursOut:
    require(principal, Permission.DIRECTORY_WRITE)
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes)
    try:
        async with transaction(ctx) as session:
            row = await _get(session, hours_id)
            for name, value in changes.items():
                setattr(row, name, value)
            await session.flush()
            await _changed(session, ctx, principal, row.id, "update", changes)
            return BusinessHoursOut.model_validate(row)
    except IntegrityError:
        raise Conflict("business hours with this name already exist", field="name") from None


async def delete_business_hours(ctx: AppContext, principal: Principal, hours_id: int) -> None:
    """Delete a schedule (and its holidays) that no queue follows (409 otherwise)."""
    require(principal, Permission.DIRECTORY_WRITE)
    try:
        async with transaction(ctx) as session:
            row = await _get(session, hours_id)
            await refuse_if_used(
                session,
                f"{LABEL} {hours_id}",
                {"queues": Queue.business_hours_id == hours_id},
            )
            await session.delete(row)
            await session.flush()
            await _changed(session, ctx, principal, hours_id, "delete", {"name": row.name})
    except IntegrityError:  # a queue started following it meanwhile
        raise Conflict(f"{LABEL} {hours_id} are still in use") from None


async def list_holidays(
    ctx: AppContext,
    principal: Principal,
    hours_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
    since: date | None = None,
) -> Page[HolidayOut]:
    require(principal, Permission.DIRECTORY_READ)
    stmt = select(Holiday).where(Holiday.business_hours_id == hours_id)
    if since is not None:
        stmt = stmt.where(Holiday.day >= since)
    async with transaction(ctx) as session:
        await _get(session, hours_id)
        return await paginate(
            session,
            stmt,
            id_column=Holiday.id,
            cursor=cursor,
            limit=limit,
            to_out=HolidayOut.model_validate,
        )


async def add_holiday(
    ctx: AppContext, principal: Principal, hours_id: int, data: HolidayCreate
) -> HolidayOut:
    require(principal, Permission.DIRECTORY_WRITE)
    fields = data.model_dump()
    try:
        async with transaction(ctx) as session:
            await _get(session, hours_id)
            holiday = Holiday(business_hours_id=hours_id, **fields)
            session.add(holiday)
            await session.flush()
            await _holiday_changed(session, ctx, principal, holiday, "create")
            return HolidayOut.model_validate(holiday)
    except IntegrityError:
        raise Conflict(
            f"{LABEL} {hours_id} already have a holiday on {data.day.isoformat()}", field="day"
        ) from None


async def delete_holiday(
    ctx: AppContext, principal: Principal, hours_id: int, holiday_id: int
) -> None:
    require(principal, Permission.DIRECTORY_WRITE)
    async with transaction(ctx) as session:
        holiday = await session.get(Holiday, holiday_id)
        if holiday is None or holiday.business_hours_id != hours_id:
            raise NotFound(f"{LABEL} {hours_id} have no holiday {holiday_id}")
        await session.delete(holiday)
        await session.flush()
        await _holiday_changed(session, ctx, principal, holiday, "delete")


async def business_hours_status(
    ctx: AppContext, principal: Principal, hours_id: int, *, at: datetime | None = None
) -> HoursStatus:
    """Open or closed at ``at`` (now when omitted), and when it next opens."""
    require(principal, Permission.DIRECTORY_READ)
    at = ctx.clock.now() if at is None else at
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("at needs a time zone offset, such as 2026-03-29T09:00:00Z", field="at")
    if not EARLIEST <= at <= LATEST:
        raise InvalidInput("at must lie between the years 1970 and 9000", field="at")
    async with transaction(ctx) as session:
        row = await _get(session, hours_id)
        special = {h.day: h.special_hours for h in row.holidays}
        weekly, tz = row.weekly, row.timezone
    return HoursStatus(
        at=at.astimezone(UTC),
        open=hours.is_open(weekly, special, tz, at),
        next_opening=hours.next_opening(weekly, special, tz, at),
    )


async def _get(session: AsyncSession, hours_id: int) -> BusinessHours:
    return await get_or_404(session, BusinessHours, hours_id, LABEL)


async def _changed(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    hours_id: int,
    action: str,
    changes: dict[str, Any],
) -> None:
    await record_change(
        session, ctx, principal, kind=KIND, entity_id=hours_id, action=action, changes=changes
    )


async def _holiday_changed(
    session: AsyncSession, ctx: AppContext, principal: Principal, holiday: Holiday, action: str
) -> None:
    await record_change(
        session,
        ctx,
        principal,
        kind="holiday",
        entity_id=holiday.id,
        action=action,
        changes={
            "business_hours_id": holiday.business_hours_id,
            "day": holiday.day.isoformat(),
            "name": holiday.name,
            "special_hours": holiday.special_hours,
        },
        extra={"business_hours_id": holiday.business_hours_id},
    )
