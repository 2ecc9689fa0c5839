"""Reading the interval counters: KPIs per 15-minute interval (or per hour or day)
and in total, by queue, site or agent.

Rules:
- reports by queue or site read ``report_queue_intervals`` (the rows summed over
  agents), reports by agent ``report_intervals``;
- the database sums the stored rows of each interval and group (``SUM`` is the ``+``
  of ``core.kpis.Counters`` for every summed counter, ``MAX`` for the longest wait; the
  e-mail backlog's rows of one interval share its boundary, so their sum is the level);
  hours, days and the totals merge those interval rows with ``core.kpis.merge_tally``,
  which is ``Counters.__add__`` (the backlog keeps the latest boundary's level);
- an hour or a day is aligned on UTC (``core.kpis.roll_up``): a first or last one cut
  by the range holds only the intervals within the range;
- every KPI comes from ``core.kpis.figures``: the same definitions as the live views;
- supervisors of a partner site see the rows of the sites they see, and a site they do
  not see is a 404; a range is at most ``MAX_RANGE`` long.

Speed: a report is built as plain dicts (``IntervalReportData``) and written to JSON
in one pass by a ``TypeAdapter`` made once (``report_json``); the pydantic models
``IntervalReport`` and ``IntervalRow`` describe the same JSON (the API's schema) but
are not built per row, which at tens of thousands of rows cost more than the query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement
from typing_extensions import TypedDict

from opencx.core.errors import InvalidInput, NotFound
from opencx.core.kpis import (
    COUNTER_FIELDS,
    INTERVAL,
    SHOWN_SERVICE_LEVEL,
    Counters,
    figures,
    merge_tally,
    new_tally,
)
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import ReportInterval, ReportQueueInterval
from opencx.features.common import Schema
from opencx.features.context import AppContext, transaction

__all__ = [
    "MAX_RANGE",
    "Group",
    "IntervalReport",
    "IntervalReportData",
    "IntervalRow",
    "Step",
    "interval_report",
    "report_json",
]

MAX_RANGE = timedelta(days=31)


class Group(StrEnum):
    QUEUE = "queue"
    SITE = "site"
    AGENT = "agent"


class Step(StrEnum):
    """The length of a report's rows: 15-minute intervals, hours or days."""

    INTERVAL = "15m"
    HOUR = "1h"
    DAY = "1d"


_SECONDS = {Step.INTERVAL: int(INTERVAL.total_seconds()), Step.HOUR: 3600, Step.DAY: 86_400}


class IntervalRow(Schema):
    """The counters and KPIs of one interval (or hour, day, the whole range) and group."""

    start: datetime
    end: datetime
    queue_id: int | None = None
    site_id: int | None = None
    agent_id: int | None = None
    counters: dict[str, float | int | None]
    kpis: dict[str, float | None]


class IntervalReport(Schema):
    since: datetime
    until: datetime
    group: Group
    step: Step = Step.INTERVAL
    service_level_variant: str
    intervals: list[IntervalRow]
    totals: list[IntervalRow]


class IntervalRowData(TypedDict):
    """An ``IntervalRow`` as plain data."""

    start: datetime
    end: datetime
    queue_id: int | None
    site_id: int | None
    agent_id: int | None
    counters: dict[str, float | int | None]
    kpis: dict[str, float | None]


class IntervalReportData(TypedDict):
    """An ``IntervalReport`` as plain data: what ``interval_report`` returns."""

    since: datetime
    until: datetime
    group: Group
    step: Step
    service_level_variant: str
    intervals: list[IntervalRowData]
    totals: list[IntervalRowData]


_JSON = TypeAdapter(IntervalReportData)


def report_json(report: IntervalReportData) -> bytes:
    """``report`` as the JSON of ``IntervalReport``."""
    return _JSON.dump_json(report)


#: Where each group's figures are read: reports by queue or site need no agent, and
#: read the rows summed over agents.
_SOURCE: dict[Group, tuple[type[ReportInterval | ReportQueueInterval], str]] = {
    Group.QUEUE: (ReportQueueInterval, "queue_id"),
    Group.SITE: (ReportQueueInterval, "site_id"),
    Group.AGENT: (ReportInterval, "agent_id"),
}
_MAXED = frozenset({"longest_wait_seconds", "backlog_at"})


def _aggregate(model: type[ReportInterval | ReportQueueInterval], name: str) -> ColumnElement[Any]:
    column = getattr(model, name)
    if name in _MAXED:
        return func.max(column).label(name)
    if name == "backlog_oldest":
        return func.min(column).label(name)
    return func.sum(column).label(name)


async def interval_report(
    ctx: AppContext,
    principal: Principal,
    *,
    since: datetime,
    until: datetime,
    group: Group = Group.QUEUE,
    step: Step = Step.INTERVAL,
    queue_id: int | None = None,
    site_id: int | None = None,
) -> IntervalReportData:
    """The intervals starting in ``[since, until)``, by ``group``, in rows of ``step``."""
    require(principal, Permission.REPORTS_READ)
    if until <= since:
        raise InvalidInput("'to' must come after 'from'")
    if until - since > MAX_RANGE:
        raise InvalidInput(f"a report covers at most {MAX_RANGE.days} days")
    if site_id is not None and not principal.sees_site(site_id):
        raise NotFound(f"site {site_id} does not exist")
    model, name = _SOURCE[group]
    column = getattr(model, name)
    stmt = (
        select(
            model.start,
            column.label("group_id"),
            *(_aggregate(model, name) for name in COUNTER_FIELDS),
        )
        .where(*_filters(model, principal, since, until, queue_id, site_id))
        .group_by(model.start, column)
        .order_by(model.start, column)  # the index's order: no sort on SQLite
    )
    async with transaction(ctx) as session:
        rows = (await session.execute(stmt)).all()
    intervals, totals = _sums(rows, _SECONDS[step])
    return {
        "since": since,
        "until": until,
        "group": group,
        "step": step,
        "service_level_variant": SHOWN_SERVICE_LEVEL.value,
        "intervals": [
            _row(start, start + _SECONDS[step], group, gid, t) for (start, gid), t in intervals
        ],
        "totals": [_row(since, until, group, gid, t) for gid, t in totals],
    }


def _filters(
    model: type[ReportInterval | ReportQueueInterval],
    principal: Principal,
    since: datetime,
    until: datetime,
    queue_id: int | None,
    site_id: int | None,
) -> list[ColumnElement[bool]]:
    filters = [model.start >= since, model.start < until]
    if queue_id is not None:
        filters.append(model.queue_id == queue_id)
    if site_id is not None:
        filters.append(model.site_id == site_id)
    visible = principal.visible_site_ids
    if visible is not None:
        filters.append(model.site_id.in_(sorted(visible)))
    return filters


Tally = list[Any]


def _sums(
    rows: Sequence[Any], step: int
) -> tuple[list[tuple[tuple[int, int | None], Tally]], list[tuple[int | None, Tally]]]:
    """The rows of ``step`` seconds and the totals, by group, from the database's
    interval rows (in order of start: each group's merge in that order)."""
    merged: dict[tuple[int, int | None], Tally] = {}
    totals: dict[int | None, Tally] = {}
    for start, group_id, *values in rows:
        epoch = int(start.timestamp())
        bucket = (epoch // step * step, group_id)
        tally = merged.get(bucket)
        if tally is None:
            tally = merged[bucket] = new_tally()
        merge_tally(tally, values)
        total = totals.get(group_id)
        if total is None:
            total = totals[group_id] = new_tally()
        merge_tally(total, values)
    # Groups sorted here rather than by the query: the same order on every database
    # (no group last), and no sort of the summed rows in SQLite's temporary B-tree.
    return sorted(merged.items(), key=_bucket_order), sorted(totals.items(), key=_group_order)


def _bucket_order(item: tuple[tuple[int, int | None], Tally]) -> tuple[int, bool, int]:
    (start, group_id), _ = item
    return start, group_id is None, group_id or 0


def _group_order(item: tuple[int | None, Tally]) -> tuple[bool, int]:
    return item[0] is None, item[0] or 0


def _row(
    start: datetime | int, end: datetime | int, group: Group, group_id: int | None, tally: Tally
) -> IntervalRowData:
    return {
        "start": start if isinstance(start, datetime) else _instant(start),
        "end": end if isinstance(end, datetime) else _instant(end),
        "queue_id": group_id if group is Group.QUEUE else None,
        "site_id": group_id if group is Group.SITE else None,
        "agent_id": group_id if group is Group.AGENT else None,
        "counters": dict(zip(COUNTER_FIELDS, tally, strict=True)),
        "kpis": figures(Counters(*tally)),
    }


def _instant(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
