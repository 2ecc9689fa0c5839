"""An X account's access token for one poll or reply, refreshed when it expires.

Rules:
- a bare access token (the account's secret as before refresh tokens) is used as it
  is: when it expires, X answers ``401`` and an admin enters a new one;
- a refreshable credential (``opencx.providers.x.read_credential``) is refreshed before
  a call when its access token expires within ``x.REFRESH_MARGIN``, and once when X
  refused it (``401``);
- a refresh rotates the refresh token, so it is never sent twice: within a process,
  refreshes of one account wait for each other, and each first reads the stored
  credential again, using the token another worker stored meanwhile instead of
  refreshing; the new credential is stored sealed by a compare-and-set
  (``CredentialStore.swap``), and when that changes nothing (another process, or an
  admin, replaced it first) the stored credential is read again and used. A refresh X
  refuses while another process was rotating the same token is answered the same way;
- the refresh needs the app's client id (``TwitterSettings.client_id``) and, for a
  confidential client, its secret (in the credential);
- a refusal is ``CredentialRefused`` in X's words, final unless X was unavailable;
  tokens are never logged, only that the account's token was refreshed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from weakref import WeakValueDictionary

import httpx
import structlog

from opencx.core.errors import InvalidInput
from opencx.features.directory.provider_settings import open_secret, seal_secret
from opencx.features.public_channels._calls import CredentialRefused, call_api
from opencx.features.public_channels._credentials import CredentialStore
from opencx.providers import x
from opencx.providers.rest import ApiError, UnreadableCredential
from opencx.providers.x import XCredential

__all__ = ["XAuth"]

log = structlog.get_logger(__name__)

# One lock per account being refreshed in this process, gone once nobody holds it.
_REFRESHING: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()


def _refreshing(account_id: int) -> asyncio.Lock:
    lock = _REFRESHING.get(account_id)
    if lock is None:
        lock = _REFRESHING[account_id] = asyncio.Lock()
    return lock


@dataclass(slots=True)
class XAuth:
    """The account's credential as last read (``sealed``, as stored) and its tokens."""

    account_id: int
    sealed: str = field(repr=False)
    credential: XCredential
    client_id: str | None
    secret_key: str = field(repr=False)
    store: CredentialStore
    api_base: str | None
    now: datetime

    @classmethod
    def open(
        cls,
        account_id: int,
        sealed: str,
        *,
        client_id: str | None,
        secret_key: str,
        store: CredentialStore,
        api_base: str | None,
        now: datetime,
    ) -> XAuth:
        credential = x.read_credential(open_secret(secret_key, sealed))
        return cls(account_id, sealed, credential, client_id, secret_key, store, api_base, now)

    async def token(self, http: httpx.AsyncClient) -> str:
        """The access token to call with, refreshed first if it is about to expire."""
        if x.needs_refresh(self.credential, now=self.now):
            return await self._fresh(http, rejected=None)
        return self._access()

    async def renew(self, http: httpx.AsyncClient, rejected: str) -> str | None:
        """Another token after X refused ``rejected``; ``None`` for a bare token."""
        if not self.credential.refreshable:
            return None
        return await self._fresh(http, rejected=rejected)

    async def _fresh(self, http: httpx.AsyncClient, *, rejected: str | None) -> str:
        async with _refreshing(self.account_id):
            await self._reload()
            if not x.needs_refresh(self.credential, now=self.now, rejected=rejected):
                return self._access()  # another worker refreshed it meanwhile
            return await self._refresh(http, rejected)

    async def _refresh(self, http: httpx.AsyncClient, rejected: str | None) -> str:
        request = x.refresh_request(
            self.credential, client_id=self._client_id(), api_base=self.api_base
        )
        try:
            body = await call_api(http, request, "X", self._error, refused=CredentialRefused)
        except CredentialRefused:
            changed = await self._reload()
            if changed and not x.needs_refresh(self.credential, now=self.now, rejected=rejected):
                return self._access()  # another process rotated it during this call
            raise
        fresh = x.read_refresh(body, previous=self.credential, now=self.now)
        sealed = seal_secret(self.secret_key, x.write_credential(fresh))
        if await self.store.swap(self.account_id, old=self.sealed, new=sealed):
            self.sealed, self.credential = sealed, fresh
            log.info("x_token_refreshed", account_id=self.account_id)
        else:
            await self._reload()
            log.info("x_token_refreshed_elsewhere", account_id=self.account_id)
        return self._access()

    async def _reload(self) -> bool:
        """Read the stored credential again; whether it changed since it was read."""
        stored = await self.store.current(self.account_id)
        if stored is None:
            raise InvalidInput("the account has no credential: set its secret", field="secret")
        if stored == self.sealed:
            return False
        self.sealed = stored
        self.credential = x.read_credential(open_secret(self.secret_key, stored))
        return True

    def _access(self) -> str:
        if self.credential.access_token is None:
            raise UnreadableCredential("the X credential holds no access token", field="secret")
        return self.credential.access_token

    def _client_id(self) -> str:
        if self.client_id is None:
            raise InvalidInput(
                "the X access token cannot be refreshed without the app's client id: "
                "set settings.client_id",
                field="settings.client_id",
            )
        return self.client_id

    def _error(self, status: int | None, headers: Mapping[str, str], body: bytes) -> ApiError:
        return x.read_refresh_error(status, headers, body, now=self.now)
