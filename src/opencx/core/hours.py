"""Business hours: is a schedule open at an instant, and when does it next open.

Rules:
- a weekly schedule is a list of intervals ``{"day": 0-6 (Monday=0), "open": "HH:MM",
  "close": "HH:MM"}`` in the schedule's local wall-clock time; ``close`` may be ``"24:00"``
  (end of the day); ``open < close``; the intervals of one day must not overlap (touching
  is fine, and a period running past midnight is two intervals);
- a holiday is a local date whose intervals replace that weekday's: ``[]`` is closed all
  day, ``[{"open": "09:00", "close": "12:00"}]`` special hours;
- local times become instants as a wall clock reads them across DST changes: a time that
  a spring-forward change skips is reached at the change itself, a time that a fall-back
  change repeats means its first occurrence. Every interval is thus one period on the real
  timeline, and ``is_open`` and ``next_opening`` agree on it by construction.

Pure: the time zone database (``zoneinfo``) is the only thing consulted.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "HORIZON_DAYS",
    "interval_problems",
    "is_open",
    "next_change",
    "next_opening",
    "parse_clock",
]

#: How far ``next_opening`` looks ahead: a year of holidays, and then some.
HORIZON_DAYS = 400
_DAY_MINUTES = 24 * 60
_CLOCK = re.compile(r"^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")

Span = tuple[int, int]  # (open, close) in minutes since local midnight


def parse_clock(value: str) -> int:
    """Minutes since midnight of ``"HH:MM"`` (``"24:00"`` is 1440); ``ValueError`` otherwise."""
    match = _CLOCK.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a time of day as HH:MM (00:00 to 24:00)")
    hours, minutes = (match.group(1), match.group(2)) if match.group(1) else ("24", "00")
    return int(hours) * 60 + int(minutes)


def interval_problems(intervals: Iterable[tuple[int, str, str]]) -> list[str]:
    """Why ``(day, open, close)`` intervals are not a valid schedule; empty when valid."""
    problems: list[str] = []
    by_day: dict[int, list[Span]] = {}
    for day, open_, close in intervals:
        try:
            start, end = parse_clock(open_), parse_clock(close)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if start >= end:
            problems.append(f"day {day}: opening {open_} must come before closing {close}")
            continue
        by_day.setdefault(day, []).append((start, end))
    for day, spans in sorted(by_day.items()):
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                problems.append(f"day {day}: intervals overlap at {_clock(start)}")
    return problems


def is_open(
    weekly: Sequence[Mapping[str, Any]],
    holidays: Mapping[date, Sequence[Mapping[str, Any]]],
    tz_name: str,
    at: datetime,
) -> bool:
    """Whether the schedule is open at the aware instant ``at``."""
    tz, local_day = _locate(tz_name, at)
    schedule = _Schedule(weekly, holidays, tz)
    return any(
        start <= at < end
        for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1))
        for start, end in schedule.periods(day)
    )


def next_opening(
    weekly: Sequence[Mapping[str, Any]],
    holidays: Mapping[date, Sequence[Mapping[str, Any]]],
    tz_name: str,
    at: datetime,
) -> datetime | None:
    """The first instant at or after ``at`` when the schedule is open (``at`` itself when
    open now), in UTC; ``None`` when it does not open within ``HORIZON_DAYS``."""
    if is_open(weekly, holidays, tz_name, at):
        return at.astimezone(UTC)
    tz, local_day = _locate(tz_name, at)
    schedule = _Schedule(weekly, holidays, tz)
    for offset in range(HORIZON_DAYS + 1):
        starts = [start for start, _ in schedule.periods(local_day + timedelta(offset))]
        later = [start for start in starts if start > at]
        if later:
            # Every instant of a later local day comes after every instant of this one.
            return min(later)
    return None


def next_change(
    weekly: Sequence[Mapping[str, Any]],
    holidays: Mapping[date, Sequence[Mapping[str, Any]]],
    tz_name: str,
    at: datetime,
) -> datetime | None:
    """The first instant after ``at`` when the schedule opens or closes, in UTC;
    ``None`` when it does not change within ``HORIZON_DAYS`` (always open or closed)."""
    if not is_open(weekly, holidays, tz_name, at):
        return next_opening(weekly, holidays, tz_name, at)
    tz, local_day = _locate(tz_name, at)
    schedule = _Schedule(weekly, holidays, tz)
    end = at
    for offset in range(-1, HORIZON_DAYS + 1):
        for start, stop in sorted(schedule.periods(local_day + timedelta(offset))):
            if start <= end < stop:
                end = stop  # open through, and on through periods that touch it
        if end.astimezone(tz).date() < local_day + timedelta(offset):
            return end.astimezone(UTC)
    return None


class _Schedule:
    """The intervals of each local day, as periods on the UTC timeline."""

    def __init__(
        self,
        weekly: Sequence[Mapping[str, Any]],
        holidays: Mapping[date, Sequence[Mapping[str, Any]]],
        tz: ZoneInfo,
    ) -> None:
        self._tz = tz
        self._weekly: dict[int, list[Span]] = {}
        for item in weekly:
            self._weekly.setdefault(int(item["day"]), []).append(_span(item))
        self._holidays = {day: [_span(item) for item in spans] for day, spans in holidays.items()}

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        spans = self._holidays.get(day)
        if spans is None:
            spans = self._weekly.get(day.weekday(), [])
        periods = [(_instant(day, s, self._tz), _instant(day, e, self._tz)) for s, e in spans]
        # A period wholly inside a spring-forward gap never happens.
        return [(start, end) for start, end in periods if start < end]


def _locate(tz_name: str, at: datetime) -> tuple[ZoneInfo, date]:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("the instant must be timezone-aware")
    tz = ZoneInfo(tz_name)
    return tz, at.astimezone(tz).date()


def _span(item: Mapping[str, Any]) -> Span:
    return parse_clock(str(item["open"])), parse_clock(str(item["close"]))


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The first instant when a wall clock in ``tz`` shows ``minute`` of ``day`` or later."""
    if minute >= _DAY_MINUTES:
        day, minute = day + timedelta(days=1), minute - _DAY_MINUTES
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first  # the time exists (fold=0 is its first occurrence when repeated)
    # Skipped by a spring-forward change: the clock jumps past it at the change.
    before = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return _transition(before, first, tz)


def _transition(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The first second in ``(before, after]`` that has ``after``'s UTC offset."""
    target = after.astimezone(tz).utcoffset()
    low, high = int(before.timestamp()), int(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(tz).utcoffset() == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)
