"""Login throttling: a sliding window of failures per account and per client address."""

from __future__ import annotations

import math
from collections import defaultdict, deque
from datetime import datetime

from opencx.core.errors import RateLimited

__all__ = ["LoginRateLimiter"]


class LoginRateLimiter:
    """At most ``attempts`` failures per ``window_seconds`` for one key.

    Per process: with several nodes behind a load balancer the effective limit is
    multiplied by the node count, which still stops online guessing.
    """

    def __init__(self, *, attempts: int, window_seconds: int) -> None:
        self._attempts = attempts
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def check(self, keys: list[str], now: datetime) -> None:
        ts = now.timestamp()
        for key in keys:
            window = self._prune(key, ts)
            if len(window) >= self._attempts:
                retry = math.ceil(window[0] + self._window - ts)
                raise RateLimited(
                    "too many failed sign-in attempts; try again later",
                    retry_after=max(retry, 1),
                )

    def fail(self, keys: list[str], now: datetime) -> None:
        for key in keys:
            self._failures[key].append(now.timestamp())

    def succeed(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _prune(self, key: str, ts: float) -> deque[float]:
        window = self._failures[key]
        while window and window[0] <= ts - self._window:
            window.popleft()
        return window
