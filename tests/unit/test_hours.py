"""Business hours: open or closed at an instant, next opening, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.core.hours import interval_problems, is_open, next_change, next_opening, parse_clock

PARIS = "Europe/Paris"
EVERY_DAY_9_TO_18 = [{"day": d, "open": "09:00", "close": "18:00"} for d in range(7)]
WEEKDAYS_9_TO_18 = [{"day": d, "open": "09:00", "close": "18:00"} for d in range(5)]
ALWAYS = [{"day": d, "open": "00:00", "close": "24:00"} for d in range(7)]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "minutes"), [("00:00", 0), ("09:30", 570), ("23:59", 1439), ("24:00", 1440)]
)
def test_parse_clock_reads_hours_and_minutes(text: str, minutes: int) -> None:
    assert parse_clock(text) == minutes


@pytest.mark.parametrize("text", ["24:01", "9:00", "25:00", "12:60", "noon", "", "12:00 "])
def test_parse_clock_refuses_what_is_not_a_time(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_clock(text)


def test_valid_intervals_have_no_problems_and_touching_is_fine() -> None:
    assert (
        interval_problems([(0, "09:00", "12:00"), (0, "12:00", "18:00"), (1, "00:00", "24:00")])
        == []
    )


@pytest.mark.parametrize(
    ("intervals", "fragment"),
    [
        ([(0, "18:00", "09:00")], "must come before"),
        ([(0, "09:00", "09:00")], "must come before"),
        ([(2, "09:00", "13:00"), (2, "12:00", "18:00")], "day 2: intervals overlap at 12:00"),
        ([(0, "08:00", "20:00"), (0, "10:00", "11:00")], "overlap"),
        ([(0, "9h", "18:00")], "HH:MM"),
    ],
)
def test_invalid_intervals_are_explained(
    intervals: list[tuple[int, str, str]], fragment: str
) -> None:
    problems = interval_problems(intervals)
    assert problems
    assert fragment in problems[0]


def test_same_hours_on_another_day_do_not_overlap() -> None:
    assert interval_problems([(0, "09:00", "18:00"), (1, "09:00", "18:00")]) == []


def test_open_during_hours_closed_outside_and_on_weekends() -> None:
    monday = utc(2026, 1, 5)  # Paris is UTC+1 in January
    assert not is_open(WEEKDAYS_9_TO_18, {}, PARIS, monday.replace(hour=7, minute=59))
    assert is_open(WEEKDAYS_9_TO_18, {}, PARIS, monday.replace(hour=8))
    assert is_open(WEEKDAYS_9_TO_18, {}, PARIS, monday.replace(hour=16, minute=59, second=59))
    assert not is_open(WEEKDAYS_9_TO_18, {}, PARIS, monday.replace(hour=17))
    assert not is_open(WEEKDAYS_9_TO_18, {}, PARIS, utc(2026, 1, 10, 10))  # Saturday


def test_the_local_day_decides_not_the_utc_day() -> None:
    # Monday 00:30 in Tokyo is still Sunday in UTC.
    weekly = [{"day": 0, "open": "00:00", "close": "01:00"}]
    assert is_open(weekly, {}, "Asia/Tokyo", utc(2026, 1, 4, 15, 30))


def test_closing_at_24_00_includes_the_last_minute_of_the_day() -> None:
    weekly = [{"day": 0, "open": "22:00", "close": "24:00"}]
    assert is_open(weekly, {}, "UTC", utc(2026, 1, 5, 23, 59, 59))
    assert not is_open(weekly, {}, "UTC", utc(2026, 1, 6, 0, 0))


def test_a_holiday_closes_the_day_or_replaces_its_hours() -> None:
    closed = {date(2026, 1, 5): []}
    morning = {date(2026, 1, 5): [{"open": "09:00", "close": "12:00"}]}
    at_ten, at_two = utc(2026, 1, 5, 9), utc(2026, 1, 5, 13)
    assert not is_open(WEEKDAYS_9_TO_18, closed, PARIS, at_ten)
    assert is_open(WEEKDAYS_9_TO_18, morning, PARIS, at_ten)
    assert not is_open(WEEKDAYS_9_TO_18, morning, PARIS, at_two)
    # Special hours open a day the weekly schedule keeps closed.
    sunday = {date(2026, 1, 11): [{"open": "10:00", "close": "11:00"}]}
    assert is_open(WEEKDAYS_9_TO_18, sunday, PARIS, utc(2026, 1, 11, 9, 30))


def test_opening_hours_follow_the_wall_clock_across_spring_forward() -> None:
    # Paris moves from UTC+1 to UTC+2 on Sunday 29 March 2026 at 02:00 local.
    assert not is_open(EVERY_DAY_9_TO_18, {}, PARIS, utc(2026, 3, 28, 7, 30))  # 08:30 CET
    assert is_open(EVERY_DAY_9_TO_18, {}, PARIS, utc(2026, 3, 29, 7, 30))  # 09:30 CEST
    assert next_opening(EVERY_DAY_9_TO_18, {}, PARIS, utc(2026, 3, 28, 20)) == utc(2026, 3, 29, 7)


def test_opening_hours_follow_the_wall_clock_across_fall_back() -> None:
    # Paris moves from UTC+2 back to UTC+1 on Sunday 25 October 2026 at 03:00 local.
    assert next_opening(EVERY_DAY_9_TO_18, {}, PARIS, utc(2026, 10, 24, 20)) == utc(2026, 10, 25, 8)
    assert is_open(EVERY_DAY_9_TO_18, {}, PARIS, utc(2026, 10, 25, 16, 59))  # 17:59 CET
    assert not is_open(EVERY_DAY_9_TO_18, {}, PARIS, utc(2026, 10, 25, 17))


def test_a_time_skipped_by_spring_forward_opens_at_the_change() -> None:
    weekly = [{"day": 6, "open": "02:30", "close": "04:00"}]
    change = utc(2026, 3, 29, 1)  # 02:00 CET becomes 03:00 CEST
    assert next_opening(weekly, {}, PARIS, utc(2026, 3, 29, 0)) == change
    assert not is_open(weekly, {}, PARIS, change - timedelta(seconds=1))
    assert is_open(weekly, {}, PARIS, change)
    assert not is_open(weekly, {}, PARIS, utc(2026, 3, 29, 2))  # 04:00 CEST


def test_hours_wholly_inside_the_skipped_hour_never_open_that_day() -> None:
    weekly = [{"day": 6, "open": "02:10", "close": "02:50"}]
    assert next_opening(weekly, {}, PARIS, utc(2026, 3, 29, 0)) == utc(2026, 4, 5, 0, 10)


def test_a_time_repeated_by_fall_back_means_its_first_occurrence() -> None:
    weekly = [{"day": 6, "open": "01:00", "close": "02:30"}]
    # 01:00 CEST = 23:00 UTC the day before; 02:30 CEST (first time) = 00:30 UTC.
    assert next_opening(weekly, {}, PARIS, utc(2026, 10, 24, 12)) == utc(2026, 10, 24, 23)
    assert is_open(weekly, {}, PARIS, utc(2026, 10, 25, 0, 29))
    assert not is_open(weekly, {}, PARIS, utc(2026, 10, 25, 1, 15))  # 02:15 CET, second time


def test_next_opening_is_now_when_open_and_skips_weekends_and_holidays() -> None:
    friday_evening = utc(2026, 1, 9, 18)
    assert next_opening(WEEKDAYS_9_TO_18, {}, PARIS, utc(2026, 1, 9, 10)) == utc(2026, 1, 9, 10)
    assert next_opening(WEEKDAYS_9_TO_18, {}, PARIS, friday_evening) == utc(2026, 1, 12, 8)
    holidays = {date(2026, 1, 12): [], date(2026, 1, 13): [{"open": "14:00", "close": "15:00"}]}
    assert next_opening(WEEKDAYS_9_TO_18, holidays, PARIS, friday_evening) == utc(2026, 1, 13, 13)


def test_next_opening_is_none_when_it_never_opens() -> None:
    assert next_opening([], {}, PARIS, utc(2026, 1, 5)) is None
    assert (
        next_opening(
            [], {date(2028, 1, 1): [{"open": "09:00", "close": "10:00"}]}, PARIS, utc(2026, 1, 5)
        )
        is None
    )


def test_a_round_the_clock_schedule_is_always_open() -> None:
    for hours in range(0, 24 * 14, 5):
        at = utc(2026, 3, 22) + timedelta(hours=hours, minutes=17)
        assert is_open(ALWAYS, {}, PARIS, at)
        assert next_opening(ALWAYS, {}, PARIS, at) == at


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(ALWAYS, {}, PARIS, datetime(2026, 1, 5, 9))


# --- properties -------------------------------------------------------------------

ZONES = ["UTC", PARIS, "America/New_York", "Australia/Sydney", "America/Santiago", "Asia/Kolkata"]


@st.composite
def weekly_schedules(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Up to three non-overlapping intervals on each of some days, on 15-minute steps."""
    weekly: list[dict[str, Any]] = []
    for day in draw(st.sets(st.integers(0, 6), max_size=7)):
        bounds = sorted(draw(st.sets(st.integers(0, 96), min_size=2, max_size=6)))
        for start, end in zip(bounds[::2], bounds[1::2], strict=False):
            weekly.append({"day": day, "open": _clock(start * 15), "close": _clock(end * 15)})
    return weekly


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@given(
    weekly=weekly_schedules(),
    tz=st.sampled_from(ZONES),
    at=instants,
    per_mille=st.lists(st.integers(0, 999), max_size=5),
)
@settings(max_examples=150, deadline=None)
def test_next_opening_is_open_and_nothing_before_it_is(
    weekly: list[dict[str, Any]], tz: str, at: datetime, per_mille: list[int]
) -> None:
    assert interval_problems([(w["day"], w["open"], w["close"]) for w in weekly]) == []
    opening = next_opening(weekly, {}, tz, at)
    if opening is None:
        assert not weekly
        return
    assert at <= opening < at + timedelta(days=8)
    assert is_open(weekly, {}, tz, opening)
    if opening == at:
        return
    for share in per_mille:
        assert not is_open(weekly, {}, tz, at + (opening - at) * share // 1000)
    assert not is_open(weekly, {}, tz, max(at, opening - timedelta(seconds=1)))


@given(weekly=weekly_schedules(), at=instants)
@settings(max_examples=150, deadline=None)
def test_in_utc_the_schedule_reads_exactly_as_written(
    weekly: list[dict[str, Any]], at: datetime
) -> None:
    minute = at.hour * 60 + at.minute
    expected = any(
        w["day"] == at.weekday()
        and parse_clock(str(w["open"])) <= minute < parse_clock(str(w["close"]))
        for w in weekly
    )
    assert is_open(weekly, {}, "UTC", at) is expected


def test_next_change_is_the_closing_when_open_and_the_opening_when_closed() -> None:
    weekdays = [{"day": d, "open": "09:00", "close": "18:00"} for d in range(5)]
    assert next_change(weekdays, {}, PARIS, utc(2026, 1, 5, 9)) == utc(2026, 1, 5, 17)
    assert next_change(weekdays, {}, PARIS, utc(2026, 1, 5, 7)) == utc(2026, 1, 5, 8)
    assert next_change(weekdays, {}, PARIS, utc(2026, 1, 9, 20)) == utc(2026, 1, 12, 8)
    assert next_change(ALWAYS, {}, PARIS, utc(2026, 1, 5, 9)) is None


@given(
    weekly=weekly_schedules(),
    tz=st.sampled_from(ZONES),
    at=instants,
    per_mille=st.lists(st.integers(0, 999), max_size=5),
)
@settings(max_examples=150, deadline=None)
def test_next_change_flips_the_state_and_nothing_before_it_does(
    weekly: list[dict[str, Any]], tz: str, at: datetime, per_mille: list[int]
) -> None:
    now_open = is_open(weekly, {}, tz, at)
    change = next_change(weekly, {}, tz, at)
    if change is None:
        return
    assert change > at or (not now_open and change == at)
    assert is_open(weekly, {}, tz, change) is not now_open
    for share in per_mille:
        assert is_open(weekly, {}, tz, at + (change - at) * share // 1000) is now_open
