"""Reports: the KPIs of ``core.kpis`` in 15-minute intervals, materialised from the
event log (``intervals``) and read by queue, site or agent (``figures``)."""

from opencx.features.reports.figures import (
    Group,
    IntervalReport,
    IntervalReportData,
    Step,
    interval_report,
    report_json,
)
from opencx.features.reports.intervals import rebuild_intervals, refresh_intervals

__all__ = [
    "Group",
    "IntervalReport",
    "IntervalReportData",
    "Step",
    "interval_report",
    "rebuild_intervals",
    "refresh_intervals",
    "report_json",
]
