"""Report jobs: folding the new events of the log into the 15-minute interval
counters, every minute."""

from __future__ import annotations

from datetime import timedelta

from opencx.features.context import AppContext
from opencx.features.reports import refresh_intervals
from opencx.jobs.registry import job

__all__ = ["refresh_report_intervals"]


@job("refresh_report_intervals", every=timedelta(minutes=1))
async def refresh_report_intervals(ctx: AppContext) -> None:
    """Fold the events appended since the last run (idempotent: a second run finds
    none)."""
    await refresh_intervals(ctx)
