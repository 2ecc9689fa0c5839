"""The retry policy: exponential backoff, capped, giving up at the last attempt."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.core.errors import Conflict, IllegalTransition, InvalidInput, NotFound, RateLimited
from opencx.core.retry import backoff_seconds, get_retry_decision

attempt_counts = st.integers(min_value=1, max_value=10_000)
bases = st.floats(min_value=0.0, max_value=600.0, allow_nan=False)
extras = st.floats(min_value=0.0, max_value=86_400.0, allow_nan=False)
jitters = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@given(st.integers(min_value=1, max_value=200), bases, extras, jitters)
def test_delays_never_decrease_and_never_pass_the_cap(
    max_attempts: int, base: float, extra: float, jitter: float
) -> None:
    cap = base + extra
    delays = [
        get_retry_decision(
            n,
            RuntimeError("boom"),
            max_attempts=10**6,
            base_seconds=base,
            cap_seconds=cap,
            jitter=jitter,
        ).delay_seconds
        for n in range(1, max_attempts + 1)
    ]
    assert delays == sorted(delays)
    assert all(0.0 <= delay <= cap for delay in delays)


@given(attempt_counts, st.integers(min_value=1, max_value=10_000), bases, extras)
def test_gives_up_exactly_at_max_attempts(
    attempts: int, max_attempts: int, base: float, extra: float
) -> None:
    decision = get_retry_decision(
        attempts,
        RuntimeError("boom"),
        max_attempts=max_attempts,
        base_seconds=base,
        cap_seconds=base + extra,
    )
    assert decision.retry is (attempts < max_attempts)
    if not decision.retry:
        assert decision.delay_seconds == 0.0
        assert decision.reason == f"gave up after {attempts} attempts"


@given(attempt_counts, bases, extras, jitters)
def test_jitter_shortens_by_at_most_half(
    attempts: int, base: float, extra: float, jitter: float
) -> None:
    plain = backoff_seconds(attempts, base_seconds=base, cap_seconds=base + extra)
    jittered = backoff_seconds(attempts, base_seconds=base, cap_seconds=base + extra, jitter=jitter)
    assert plain / 2 <= jittered <= plain


def test_delays_double_from_the_base_until_the_cap() -> None:
    delays = [
        get_retry_decision(
            n, OSError("down"), max_attempts=10, base_seconds=10, cap_seconds=60
        ).delay_seconds
        for n in range(1, 6)
    ]
    assert delays == [10, 20, 40, 60, 60]


def test_the_same_inputs_give_the_same_decision() -> None:
    def decide() -> object:
        return get_retry_decision(
            3, OSError("x"), max_attempts=5, base_seconds=1, cap_seconds=100, jitter=0.25
        )

    assert decide() == decide()
    assert backoff_seconds(3, base_seconds=1, cap_seconds=100, jitter=0.25) == 3.5


@pytest.mark.parametrize(
    "error",
    [InvalidInput("bad"), NotFound("gone"), IllegalTransition("moved on")],
)
def test_errors_another_attempt_cannot_fix_are_not_retried(error: Exception) -> None:
    decision = get_retry_decision(1, error, max_attempts=5, base_seconds=1, cap_seconds=10)
    assert not decision.retry
    assert type(error).__name__ in decision.reason


def test_a_conflict_may_clear_up_and_is_retried() -> None:
    decision = get_retry_decision(
        1, Conflict("race"), max_attempts=5, base_seconds=1, cap_seconds=10
    )
    assert decision.retry
    assert decision.delay_seconds == 1


def test_rate_limited_waits_at_least_what_the_other_side_asked() -> None:
    error = RateLimited("slow down", retry_after=300)
    decision = get_retry_decision(1, error, max_attempts=5, base_seconds=1, cap_seconds=60)
    assert decision.retry
    assert decision.delay_seconds == 300


@pytest.mark.parametrize(
    ("attempts", "base", "cap", "jitter"),
    [(0, 1, 10, 0.0), (1, -1, 10, 0.0), (1, 10, 5, 0.0), (1, 1, 10, 1.5)],
)
def test_nonsense_parameters_are_refused(
    attempts: int, base: float, cap: float, jitter: float
) -> None:
    with pytest.raises(ValueError, match=r"attempts|base|jitter"):
        backoff_seconds(attempts, base_seconds=base, cap_seconds=cap, jitter=jitter)


def test_max_attempts_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        get_retry_decision(1, OSError(), max_attempts=0, base_seconds=1, cap_seconds=1)
