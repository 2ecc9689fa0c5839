"""Sign-in throttling that neither parallel guesses nor a guesser's own sign-in get past,
and that does not lock the real user out.

Rules:
- an attempt is counted before its password is checked (``admit``), atomically in the
  shared store (``opencx.features.throttle``): of many guesses sent at once, only as
  many as the limit reach the password check;
- per account and client address: ``security.login_attempts`` attempts per
  ``security.login_window_seconds``, then 429. Only this pair's counter is cleared by a
  successful sign-in, so signing in to one's own account clears nothing of another's;
- per client address over all accounts: ``limits.login_client_attempts`` per window,
  then 429 (one address trying many accounts); never cleared;
- per account over all addresses: no lock. The first ``login_account_free_attempts`` of
  a window are answered at once; each further one waits, twice as long as the one
  before (from ``login_account_delay_seconds``, at most
  ``login_account_max_delay_seconds``), and is then checked: guessing from many
  addresses is slowed, and the real user, from their own address, still gets in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from opencx.core.signin import account_delay
from opencx.features.throttle import Limit, Throttle
from opencx.settings import Settings

__all__ = ["LoginRateLimiter"]

#: Counted per account to size the delay; far above any free allowance.
_ACCOUNT_CEILING = 1_000_000
_DETAIL = "too many sign-in attempts; try again later"

Sleep = Callable[[float], Awaitable[None]]


class LoginRateLimiter:
    """Admits sign-in attempts per account, client address and both."""

    def __init__(
        self, throttle: Throttle, settings: Settings, *, sleep: Sleep = asyncio.sleep
    ) -> None:
        window = settings.security.login_window_seconds
        limits = settings.limits
        self.throttle = throttle
        self.pair = Limit("login-pair", settings.security.login_attempts, window, _DETAIL)
        self.client = Limit("login-client", limits.login_client_attempts, window, _DETAIL)
        self.account = Limit("login-account", _ACCOUNT_CEILING, window, _DETAIL)
        self._free = limits.login_account_free_attempts
        self._base = limits.login_account_delay_seconds
        self._ceiling = limits.login_account_max_delay_seconds
        self._sleep = sleep

    async def admit(self, email: str, client: str) -> None:
        """Count one attempt; ``RateLimited`` past a strict limit, a wait past the free
        attempts on the account."""
        await self.throttle.hit(self.pair, _pair(email, client))
        await self.throttle.hit(self.client, client)
        await self.throttle.hit(self.account, email)
        attempt = await self.throttle.count(self.account, email)
        delay = account_delay(attempt, free=self._free, base=self._base, ceiling=self._ceiling)
        if delay:
            await self._sleep(delay)

    async def succeeded(self, email: str, client: str) -> None:
        """The pair signed in: its own counter starts again, nobody else's."""
        await self.throttle.clear(self.pair, _pair(email, client))


def _pair(email: str, client: str) -> str:
    return f"{email}|{client}"
