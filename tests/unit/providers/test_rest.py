"""What REST-polled providers share: requests that never show their credential, JSON
read field by field, refusals classified, and when a rate limit ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import (
    ApiError,
    ApiRequest,
    is_retryable,
    iso_datetime,
    opt_int,
    retry_after,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_a_request_never_shows_its_credential() -> None:
    request = ApiRequest("GET", "https://api.example", headers={"Authorization": "Bearer s3cr3t"})
    assert "s3cr3t" not in repr(request)
    assert "s3cr3t" not in str(request)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (None, True),
        (500, True),
        (503, True),
        (429, True),
        (408, True),
        (401, True),
        (400, False),
        (403, False),
        (404, False),
        (409, False),
        (422, False),
    ],
)
def test_what_is_worth_another_attempt(status: int | None, retryable: bool) -> None:
    assert is_retryable(status) is retryable


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", NOW + timedelta(seconds=120)),
        ("Mon, 05 Jan 2026 09:30:00 GMT", datetime(2026, 1, 5, 9, 30, tzinfo=UTC)),
        ("999999999", NOW + timedelta(days=1)),  # never more than a day
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_in_seconds_or_as_a_date(value: str, expected: datetime | None) -> None:
    assert retry_after({"retry-after": value}, now=NOW) == expected


def test_dates_are_read_in_utc_and_need_their_offset() -> None:
    assert iso_datetime("2017-11-15T08:10:34-08:00", "d") == datetime(
        2017, 11, 15, 16, 10, 34, tzinfo=UTC
    )
    assert iso_datetime("2024-01-15T10:30:00.000Z", "d") == datetime(
        2024, 1, 15, 10, 30, tzinfo=UTC
    )
    for bad in ("2017-11-15T08:10:34", "tomorrow", 1700000000, None):
        with pytest.raises(UnreadablePayload):
            iso_datetime(bad, "d")


def test_integers_may_come_as_strings_of_digits() -> None:
    assert opt_int({"seconds": "1767603600"}, "seconds") == 1767603600
    assert opt_int({"n": 42}, "n") == 42
    assert opt_int({}, "n") is None
    for bad in ({"n": True}, {"n": "4.2"}, {"n": "9" * 40}, {"n": 4.0}):
        with pytest.raises(UnreadablePayload):
            opt_int(bad, "n")


def test_a_refusal_reads_as_the_provider_said_it() -> None:
    error = ApiError("X", 403, "You are not allowed", code="about:forbidden")
    assert error.describe() == "X: You are not allowed (HTTP 403 about:forbidden)"
    assert (
        ApiError("X", None, "no answer (ConnectError)").describe() == "X: no answer (ConnectError)"
    )
