"""Sign-in throttling's pure rule: how long an attempt on a much-tried account waits.

An account is never locked: locking it would let anyone lock its owner out. Instead,
past the first ``free`` attempts of a window (from any address), each attempt waits
twice as long as the one before, from ``base`` seconds up to ``ceiling``, before its
password is checked.
"""

from __future__ import annotations

__all__ = ["account_delay"]


def account_delay(attempt: int, *, free: int, base: float, ceiling: float) -> float:
    """Seconds the ``attempt``-th attempt on one account in a window waits (1-based)."""
    over = attempt - free
    if over <= 0 or base <= 0:
        return 0.0
    return min(ceiling, base * 2.0 ** min(over - 1, 30))
