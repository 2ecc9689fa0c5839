"""Google access tokens kept in this process, so that polls and replies exchange a
signed assertion for a token about once an hour per account rather than at each call.

Rules:
- a token is kept per account and per service-account key: the key's fingerprint (a
  SHA-256 of the key file) is in the cache's key, never the key, so a key an admin
  replaces is never answered with the old key's token;
- it is used until ``MARGIN`` before the ``expires_in`` Google gave (a token without
  one is not kept);
- a token the API refused (``401``) is dropped: the next call asks for a new one;
- the clock is the caller's (``now``); expired tokens are dropped as new ones come.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opencx.providers.google_play import AccessToken

__all__ = ["GOOGLE_TOKENS", "MARGIN", "TokenCache", "fingerprint"]

#: A kept token is not used in the last minute of its life.
MARGIN = timedelta(seconds=60)

_Key = tuple[int, str]


def fingerprint(key_file: str) -> str:
    """What tells service-account keys apart, without being one."""
    return hashlib.sha256(key_file.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class _Kept:
    token: str = field(repr=False)
    until: datetime


@dataclass(slots=True)
class TokenCache:
    """Access tokens by ``(account id, key fingerprint)``, each until it goes stale."""

    _kept: dict[_Key, _Kept] = field(default_factory=dict, repr=False)

    def get(self, key: _Key, *, now: datetime) -> str | None:
        kept = self._kept.get(key)
        return kept.token if kept is not None and now < kept.until else None

    def put(self, key: _Key, token: AccessToken, *, now: datetime) -> None:
        self._kept = {k: v for k, v in self._kept.items() if now < v.until}
        if token.expires_in is not None:
            self._kept[key] = _Kept(token.token, now + timedelta(seconds=token.expires_in) - MARGIN)

    def drop(self, key: _Key, token: str) -> None:
        """Forget ``token`` (refused by the API), unless another replaced it already."""
        kept = self._kept.get(key)
        if kept is not None and kept.token == token:
            del self._kept[key]


#: This process's Google tokens.
GOOGLE_TOKENS = TokenCache()
