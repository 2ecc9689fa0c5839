"""The 24-hour customer-care window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.providers.meta import (
    CARE_WINDOW,
    HUMAN_AGENT_WINDOW,
    care_window_open,
    human_agent_window_open,
)

LAST = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)


def test_the_window_lasts_24_hours() -> None:
    assert timedelta(hours=24) == CARE_WINDOW


@pytest.mark.parametrize(
    ("elapsed", "open_"),
    [
        (timedelta(0), True),
        (timedelta(hours=23, minutes=59, seconds=59), True),
        (timedelta(hours=24), False),
        (timedelta(days=3), False),
        (timedelta(minutes=-5), True),
    ],
)
def test_open_until_exactly_24_hours(elapsed: timedelta, open_: bool) -> None:
    assert care_window_open(LAST, LAST + elapsed) is open_


def test_time_zones_do_not_matter() -> None:
    paris = timezone(timedelta(hours=1))
    assert care_window_open(LAST, datetime(2025, 11, 5, 14, 59, tzinfo=paris))
    assert not care_window_open(LAST, datetime(2025, 11, 5, 15, 0, tzinfo=paris))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        care_window_open(LAST.replace(tzinfo=None), LAST)
    with pytest.raises(ValueError, match="timezone-aware"):
        care_window_open(LAST, LAST.replace(tzinfo=None))


@given(st.timedeltas(min_value=timedelta(days=-10), max_value=timedelta(days=10)))
def test_open_exactly_when_less_than_the_window_has_passed(elapsed: timedelta) -> None:
    assert care_window_open(LAST, LAST + elapsed) is (elapsed < CARE_WINDOW)


@given(elapsed=st.timedeltas(min_value=timedelta(days=-1), max_value=timedelta(days=30)))
def test_the_human_agent_window_is_seven_days_and_outlasts_the_care_window(
    elapsed: timedelta,
) -> None:
    now = LAST + elapsed
    assert human_agent_window_open(LAST, now) is (elapsed < timedelta(days=7))
    assert timedelta(days=7) == HUMAN_AGENT_WINDOW
    if care_window_open(LAST, now):
        assert human_agent_window_open(LAST, now)
