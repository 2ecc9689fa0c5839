"""Dates, times, numbers and durations as a reader of ``locale`` expects them.

Datetimes are stored and passed around as timezone-aware UTC; these helpers convert them
to the reader's time zone before formatting. A naive datetime is a bug, so it is refused.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from babel import dates, numbers

__all__ = [
    "format_date",
    "format_datetime",
    "format_number",
    "format_percent",
    "format_time",
    "format_timedelta",
]

Number = int | float | Decimal
Width = Literal["short", "medium", "long", "full"]


@functools.cache
def _zone(tz_name: str) -> ZoneInfo:
    return ZoneInfo(tz_name)


def _local(value: datetime, tz_name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("refusing to format a naive datetime; use timezone-aware UTC")
    return value.astimezone(_zone(tz_name))


def format_datetime(
    value: datetime, locale: str, tz_name: str, *, format: Width | str = "medium"
) -> str:
    """``23 nov. 2026, 10:30:00`` in fr, ``Nov 23, 2026, 10:30:00 AM`` in en."""
    return dates.format_datetime(_local(value, tz_name), format, locale=locale)


def format_date(
    value: date | datetime,
    locale: str,
    tz_name: str | None = None,
    *,
    format: Width | str = "medium",
) -> str:
    """A calendar date; a datetime is first moved to ``tz_name`` (its day may change)."""
    if isinstance(value, datetime):
        if tz_name is None:
            raise ValueError("a datetime needs tz_name to know which day it is")
        value = _local(value, tz_name).date()
    return dates.format_date(value, format, locale=locale)


def format_time(
    value: datetime, locale: str, tz_name: str, *, format: Width | str = "short"
) -> str:
    """The wall-clock time in ``tz_name``: ``10:30`` in fr, ``10:30 AM`` in en."""
    return dates.format_time(_local(value, tz_name), format, locale=locale)


def format_number(value: Number, locale: str) -> str:
    """``1 234,5`` in fr, ``1,234.5`` in en."""
    return numbers.format_decimal(value, locale=locale)


def format_percent(value: Number, locale: str) -> str:
    """A ratio as a percentage: 0.85 is ``85 %`` in fr, ``85%`` in en."""
    return numbers.format_percent(value, locale=locale)


def format_timedelta(
    value: timedelta,
    locale: str,
    *,
    add_direction: bool = False,
    threshold: float = 0.85,
    format: Literal["narrow", "short", "medium", "long"] = "long",
) -> str:
    """A rounded duration: ``5 minutes``; with direction, ``in 5 minutes``/``dans 5 minutes``."""
    return dates.format_timedelta(
        value, threshold=threshold, add_direction=add_direction, format=format, locale=locale
    )
