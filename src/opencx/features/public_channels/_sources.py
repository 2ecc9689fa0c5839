"""One channel account of a public provider, ready to talk to: its token, its list
pages and its replies, through the pure translators in ``opencx.providers``.

Every call goes through ``call_api``: a ``2xx`` gives the answer's bytes; anything
else, or no answer, raises ``Refused`` with the provider's words (``ApiError``), never
the request (its headers hold the credential). Calls are made through ``Authorized``,
which asks the source for its token once and, when the provider answers ``401``, for
another (``Source.renew``: a refreshed X token, a new Google token) and tries once more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import httpx

from opencx.core.errors import InvalidInput
from opencx.features.directory.provider_settings import (
    AppStoreSettings,
    GooglePlaySettings,
    TwitterSettings,
    open_secret,
)
from opencx.features.public_channels._calls import CredentialRefused, Refused, call_api
from opencx.features.public_channels._credentials import CredentialStore
from opencx.features.public_channels._google_tokens import GOOGLE_TOKENS, fingerprint
from opencx.features.public_channels._x_auth import XAuth
from opencx.providers import app_store, google_play, x
from opencx.providers.base import InboundMessage
from opencx.providers.rest import ApiError, Page, Posted
from opencx.settings import PublicChannelSettings

__all__ = [
    "FIRST_POLL_WINDOW",
    "PUBLIC_PROVIDERS",
    "Authorized",
    "CredentialRefused",
    "PublicAccount",
    "Refused",
    "Source",
    "oldest_first",
    "source_for",
]

#: The providers polled here, by the name channel accounts use.
PUBLIC_PROVIDERS = frozenset({google_play.PROVIDER, app_store.PROVIDER, x.PROVIDER})
#: How far back an account polled for the first time looks (Google keeps a week).
FIRST_POLL_WINDOW = timedelta(days=7)

_T = TypeVar("_T", GooglePlaySettings, AppStoreSettings, TwitterSettings)
_R = TypeVar("_R")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PublicAccount:
    """What a poll or a reply needs of a channel account, read in one short transaction."""

    id: int
    provider: str
    address: str
    queue_id: int | None
    settings: Mapping[str, Any]
    secret: str | None = field(repr=False)
    cursor: Mapping[str, Any]


class Source(Protocol):
    """One account at its provider."""

    @property
    def label(self) -> str:
        """The provider's name, as people know it."""

    async def authorize(self, http: httpx.AsyncClient) -> str:
        """A bearer token for the calls that follow."""

    async def renew(self, http: httpx.AsyncClient, rejected: str) -> str | None:
        """Another token after the provider refused ``rejected`` (``401``); ``None``
        when another would be refused the same."""

    async def page(
        self, http: httpx.AsyncClient, token: str, *, since: str | None, page: str | None
    ) -> Page:
        """One page of what was written since ``since``; ``page`` continues a list."""

    def check_reply(self, text: str) -> str | None:
        """Why the provider would refuse this reply; ``None`` when it may go."""

    async def reply(
        self, http: httpx.AsyncClient, token: str, *, answered: str, text: str
    ) -> Posted:
        """Post ``text`` in answer to the stored message ``answered`` (its provider id)."""


@dataclass(slots=True)
class Authorized:
    """A source's calls with its token: asked for once, renewed once after a ``401``."""

    source: Source
    http: httpx.AsyncClient
    _token: str | None = field(default=None, repr=False)
    _renewed: bool = False

    async def call(self, make: Callable[[str], Awaitable[_R]]) -> _R:
        """``make(token)``, and once more with another token if the first is refused."""
        if self._token is None:
            self._token = await self.source.authorize(self.http)
        try:
            return await make(self._token)
        except Refused as exc:
            if exc.error.status != 401 or isinstance(exc, CredentialRefused) or self._renewed:
                raise
            self._renewed = True
            fresh = await self.source.renew(self.http, self._token)
            if fresh is None:
                raise
            self._token = fresh
        return await make(self._token)


def source_for(
    account: PublicAccount,
    settings: PublicChannelSettings,
    secret_key: str,
    now: datetime,
    *,
    store: CredentialStore,
) -> Source:
    """The account's source; ``InvalidInput`` when its settings or credential are unusable.
    ``store`` is where a renewed credential (an X refresh) is written."""
    if account.secret is None:
        raise InvalidInput("the account has no credential: set its secret", field="secret")
    if account.provider == x.PROVIDER:
        twitter = _settings(TwitterSettings, account)
        auth = XAuth.open(
            account.id,
            account.secret,
            client_id=twitter.client_id,
            secret_key=secret_key,
            store=store,
            api_base=settings.x_api_base,
            now=now,
        )
        return _X(account, settings, now, twitter, auth)
    secret = open_secret(secret_key, account.secret)
    if account.provider == google_play.PROVIDER:
        return _GooglePlay(account, settings, now, _settings(GooglePlaySettings, account), secret)
    if account.provider == app_store.PROVIDER:
        return _AppStore(account, settings, now, _settings(AppStoreSettings, account), secret)
    raise InvalidInput(f"provider {account.provider!r} is not polled here", field="provider")


def _settings(schema: type[_T], account: PublicAccount) -> _T:
    try:
        return schema.model_validate(dict(account.settings))
    except ValueError as exc:
        raise InvalidInput(
            f"the account's settings are invalid: {exc}".splitlines()[0], field="settings"
        ) from None


@dataclass(frozen=True, slots=True)
class _GooglePlay:
    account: PublicAccount
    settings: PublicChannelSettings
    now: datetime
    play: GooglePlaySettings
    key: str = field(repr=False)
    label: str = "Google Play"

    def _error(self, status: int | None, headers: Mapping[str, str], body: bytes) -> ApiError:
        return google_play.read_error(status, headers, body, now=self.now)

    async def authorize(self, http: httpx.AsyncClient) -> str:
        """The token kept in this process for this account and key, else a new one."""
        kept = GOOGLE_TOKENS.get(self._kept_as(), now=self.now)
        return kept if kept is not None else await self._exchange(http)

    async def renew(self, http: httpx.AsyncClient, rejected: str) -> str | None:
        GOOGLE_TOKENS.drop(self._kept_as(), rejected)
        return await self._exchange(http)

    async def _exchange(self, http: httpx.AsyncClient) -> str:
        request = google_play.token_request(
            google_play.read_service_account(self.key),
            now=self.now,
            token_url=self.settings.google_token_url,
        )
        body = await call_api(http, request, self.label, self._error, refused=CredentialRefused)
        token = google_play.read_token(body)
        GOOGLE_TOKENS.put(self._kept_as(), token, now=self.now)
        return token.token

    def _kept_as(self) -> tuple[int, str]:
        return self.account.id, fingerprint(self.key)

    async def page(
        self, http: httpx.AsyncClient, token: str, *, since: str | None, page: str | None
    ) -> Page:
        request = google_play.reviews_request(
            package_name=self.play.package_name,
            access_token=token,
            page_token=page,
            api_base=self.settings.google_api_base,
        )
        body = await call_api(http, request, self.label, self._error)
        since = since or (self.now - FIRST_POLL_WINDOW).isoformat()
        return google_play.parse_reviews(body, recipient=self.account.address, since=since)

    def check_reply(self, text: str) -> str | None:
        return google_play.check_reply(text)

    async def reply(
        self, http: httpx.AsyncClient, token: str, *, answered: str, text: str
    ) -> Posted:
        review_id = google_play.review_id_of(answered)
        request = google_play.reply_request(
            package_name=self.play.package_name,
            review_id=review_id,
            text=text,
            access_token=token,
            api_base=self.settings.google_api_base,
        )
        body = await call_api(http, request, self.label, self._error)
        return google_play.read_reply(body, review_id=review_id)


@dataclass(frozen=True, slots=True)
class _AppStore:
    account: PublicAccount
    settings: PublicChannelSettings
    now: datetime
    store: AppStoreSettings
    key: str = field(repr=False)
    label: str = "App Store Connect"

    def _error(self, status: int | None, headers: Mapping[str, str], body: bytes) -> ApiError:
        return app_store.read_error(status, headers, body, now=self.now)

    async def authorize(self, http: httpx.AsyncClient) -> str:
        return app_store.api_token(
            self.key, key_id=self.store.key_id, issuer_id=self.store.issuer_id, now=self.now
        )

    async def renew(self, http: httpx.AsyncClient, rejected: str) -> str | None:
        return None  # a JWT signed anew with the same key is refused the same

    async def page(
        self, http: httpx.AsyncClient, token: str, *, since: str | None, page: str | None
    ) -> Page:
        base = self.settings.app_store_api_base
        request = app_store.reviews_request(
            app_id=self.store.app_id, token=token, next_url=page, api_base=base
        )
        body = await call_api(http, request, self.label, self._error)
        since = since or (self.now - FIRST_POLL_WINDOW).isoformat()
        return app_store.parse_reviews(
            body, recipient=self.account.address, since=since, api_base=base
        )

    def check_reply(self, text: str) -> str | None:
        return app_store.check_reply(text)

    async def reply(
        self, http: httpx.AsyncClient, token: str, *, answered: str, text: str
    ) -> Posted:
        request = app_store.reply_request(
            review_id=answered, text=text, token=token, api_base=self.settings.app_store_api_base
        )
        body = await call_api(http, request, self.label, self._error)
        return app_store.read_reply(body, now=self.now)


@dataclass(frozen=True, slots=True)
class _X:
    account: PublicAccount
    settings: PublicChannelSettings
    now: datetime
    twitter: TwitterSettings
    auth: XAuth
    label: str = "X"

    def _error(self, status: int | None, headers: Mapping[str, str], body: bytes) -> ApiError:
        return x.read_error(status, headers, body, now=self.now)

    async def authorize(self, http: httpx.AsyncClient) -> str:
        return await self.auth.token(http)

    async def renew(self, http: httpx.AsyncClient, rejected: str) -> str | None:
        return await self.auth.renew(http, rejected)

    async def page(
        self, http: httpx.AsyncClient, token: str, *, since: str | None, page: str | None
    ) -> Page:
        request = x.mentions_request(
            user_id=self.twitter.user_id,
            access_token=token,
            since_id=since,
            pagination_token=page,
            start_time=None if since else self.now - FIRST_POLL_WINDOW,
            api_base=self.settings.x_api_base,
        )
        body = await call_api(http, request, self.label, self._error)
        return x.parse_mentions(body, user_id=self.twitter.user_id, recipient=self.account.address)

    def check_reply(self, text: str) -> str | None:
        return x.check_reply(text)

    async def reply(
        self, http: httpx.AsyncClient, token: str, *, answered: str, text: str
    ) -> Posted:
        request = x.reply_request(
            text=text, in_reply_to=answered, access_token=token, api_base=self.settings.x_api_base
        )
        return x.read_reply(await call_api(http, request, self.label, self._error))


def oldest_first(item: InboundMessage) -> tuple[datetime, int, str]:
    """Stored oldest first, so an answer finds what it answers already there."""
    return item.sent_at or _EPOCH, len(item.provider_message_id), item.provider_message_id
