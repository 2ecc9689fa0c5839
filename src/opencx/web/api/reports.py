"""/api/v1/reports: KPI figures from the 15-minute interval counters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from opencx.core.ids import MAX_ID
from opencx.features import reports
from opencx.web.deps import ContextDep, IsoDateTime, PrincipalDep

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/intervals", response_model=reports.IntervalReport)
async def interval_report(
    ctx: ContextDep,
    principal: PrincipalDep,
    since: Annotated[IsoDateTime, Query(alias="from", description="inclusive")],
    until: Annotated[IsoDateTime, Query(alias="to", description="exclusive, 31 days at most")],
    group: reports.Group = reports.Group.QUEUE,
    step: Annotated[reports.Step, Query(description="rows of 15 minutes, hours or days")] = (
        reports.Step.INTERVAL
    ),
    queue_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    site_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Counters and KPIs per 15-minute interval (or hour, day) starting in [from, to),
    and their totals, by queue, site or agent (`docs/kpis.md` defines each figure)."""
    report = await reports.interval_report(
        ctx,
        principal,
        since=since,
        until=until,
        group=group,
        step=step,
        queue_id=queue_id,
        site_id=site_id,
    )
    # Written straight to JSON: the response model documents it, building it per row
    # would cost more than the query (see features/reports/figures.py).
    return Response(reports.report_json(report), media_type="application/json")
