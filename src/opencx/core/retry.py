"""When to try failed background work again: exponential backoff with a cap.

Pure: no clock, no randomness, no I/O. The caller counts attempts, catches the error
and, if it wants jitter, draws it and passes it in; the policy answers with a
``RetryDecision`` and acts on nothing.

Rules, in order:

1. Errors that another attempt cannot fix are not retried: invalid input, something
   not found, a permission refused, an illegal state transition.
2. After ``max_attempts`` attempts (the failed one included) the work is given up.
3. Otherwise the next attempt waits ``base * 2**(attempts - 1)`` seconds, capped at
   ``cap``; a jitter ``j`` in [0, 1] shortens that by up to half (``delay * (1 - j/2)``)
   so that work which failed together does not retry together.
4. A ``RateLimited`` error waits at least the ``retry_after`` it names.
"""

from __future__ import annotations

from dataclasses import dataclass

from opencx.core.errors import (
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
)

__all__ = ["PERMANENT_ERRORS", "RetryDecision", "backoff_seconds", "get_retry_decision"]

#: Errors that a later attempt with the same arguments would raise again.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    IllegalTransition,
)

# 2**63 seconds is already far beyond any sensible cap; larger exponents would
# overflow the float multiplication.
_MAX_EXPONENT = 63


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """Whether to try again, after how many seconds, and why (for logs and last_error)."""

    retry: bool
    delay_seconds: float
    reason: str


def backoff_seconds(
    attempts: int, *, base_seconds: float, cap_seconds: float, jitter: float = 0.0
) -> float:
    """The wait after the ``attempts``-th failed attempt (1 for the first failure)."""
    if attempts < 1:
        raise ValueError("attempts counts the failed attempt, so it is at least 1")
    if base_seconds < 0 or cap_seconds < base_seconds:
        raise ValueError("need 0 <= base_seconds <= cap_seconds")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter must lie in [0, 1]")
    exponent = min(attempts - 1, _MAX_EXPONENT)
    delay: float = min(cap_seconds, base_seconds * float(2**exponent))
    return delay * (1.0 - jitter / 2)


def get_retry_decision(
    attempts: int,
    error: BaseException,
    *,
    max_attempts: int,
    base_seconds: float,
    cap_seconds: float,
    jitter: float = 0.0,
) -> RetryDecision:
    """Decide what to do after the ``attempts``-th attempt failed with ``error``."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    delay = backoff_seconds(
        attempts, base_seconds=base_seconds, cap_seconds=cap_seconds, jitter=jitter
    )
    if isinstance(error, PERMANENT_ERRORS):
        return RetryDecision(False, 0.0, f"{type(error).__name__} is not retried")
    if attempts >= max_attempts:
        return RetryDecision(False, 0.0, f"gave up after {attempts} attempts")
    if isinstance(error, RateLimited):
        delay = max(delay, float(error.retry_after))
    return RetryDecision(True, delay, f"attempt {attempts} of {max_attempts} failed")
