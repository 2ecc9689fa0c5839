"""Access tokens of the public channels, against doubles of X and Google over HTTP: an
X token about to expire, or refused once, is refreshed and the rotated credential
stored sealed; a refresh token is never sent twice, even when two workers refresh the
same account at once; a refresh X refuses asks the admin to reconnect the account, and
is not retried. A Google token is kept for the hour it lives, and replaced once when
the API refuses it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from opencx.db.models import ChannelAccount
from opencx.features.context import AppContext, transaction
from opencx.features.delivery.outbox import send_queued_message
from opencx.features.directory.provider_settings import open_secret, seal_secret
from opencx.features.public_channels import polling
from opencx.features.public_channels._credentials import AccountSecrets
from opencx.features.public_channels._sources import Source, source_for
from opencx.features.public_channels._x_auth import XAuth
from opencx.features.transports import http_client
from opencx.settings import PublicChannelSettings
from opencx.testing import FakeClock
from tests.conftest import Caller
from tests.integration.public_providers import (
    X_CLIENT_ID,
    X_TOKEN_LIFETIME,
    PublicProviders,
    google_error_body,
    public_providers_on,
)
from tests.integration.test_directory_api import list_all
from tests.integration.test_public_channels import (
    answer,
    cursor,
    mention_thread,
    message,
    play_account,
    poll_one,
    three_play_reviews,
    x_account,
)

pytestmark = pytest.mark.timeout(60)

EXPIRED = X_TOKEN_LIFETIME.total_seconds() + 1


@pytest.fixture
async def fake(ctx: AppContext) -> AsyncIterator[PublicProviders]:
    async with public_providers_on(ctx) as providers:
        ctx.settings.public_channels = PublicChannelSettings(
            google_api_base=providers.url,
            google_token_url=f"{providers.url}/token",
            x_api_base=providers.url,
            timeout_seconds=5,
            max_attempts=3,
        )
        providers.now = ctx.clock.now
        yield providers


async def connected(
    client: httpx.AsyncClient, admin: Caller, fake: PublicProviders
) -> tuple[int, dict[str, str]]:
    """An X account connected with a refresh token: its id and the credential entered."""
    credential = fake.x_connect()
    account_id, _ = await x_account(
        client, admin, secret=json.dumps(credential), client_id=X_CLIENT_ID
    )
    return account_id, credential


async def stored_secret(ctx: AppContext, account_id: int) -> str:
    async with transaction(ctx) as session:
        account = await session.get(ChannelAccount, account_id)
        assert account is not None
        assert account.secret is not None
        return account.secret


async def stored_credential(ctx: AppContext, account_id: int) -> dict[str, Any]:
    key = ctx.settings.security.secret_key.get_secret_value()
    opened: dict[str, Any] = json.loads(open_secret(key, await stored_secret(ctx, account_id)))
    return opened


def refreshes(fake: PublicProviders) -> int:
    return len(fake.calls_to("x-oauth", "POST"))


async def thread_reply(client: httpx.AsyncClient, admin: Caller, text: str) -> dict[str, Any]:
    """An agent's queued answer to a mention."""
    conversation = (await list_all(client, admin, "/conversations"))[0]
    return await answer(client, admin, conversation["id"], "twitter", text)


# --- X: refreshing ------------------------------------------------------------------------


async def test_an_expired_x_token_is_refreshed_and_the_poll_succeeds(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    fake: PublicProviders,
    clock: FakeClock,
) -> None:
    mention_thread(fake)
    account_id, entered = await connected(client, admin, fake)
    clock.advance(EXPIRED)

    with capture_logs() as logs:
        result = await poll_one(ctx)

    assert (result.stored, result.error) == (4, None)
    assert refreshes(fake) == 1
    assert fake.refused == []  # X never saw an expired token or a used refresh token
    sealed = await stored_secret(ctx, account_id)
    stored = await stored_credential(ctx, account_id)
    assert stored["access_token"] != entered["access_token"]
    assert stored["refresh_token"] != entered["refresh_token"]  # rotated
    assert stored["expires_at"] == (clock.now() + X_TOKEN_LIFETIME).isoformat()
    assert stored["client_secret"] == entered["client_secret"]
    for secret in (stored["access_token"], stored["refresh_token"], "client_secret"):
        assert secret not in sealed  # stored sealed
        assert secret not in repr(logs)
    assert any(log["event"] == "x_token_refreshed" for log in logs)

    clock.advance(EXPIRED)  # two hours on: the new refresh token, never the first one
    fake.posts.append(mention_thread_post(fake))
    again = await poll_one(ctx)
    assert (again.stored, again.error) == (1, None)
    assert refreshes(fake) == 2
    assert fake.refused == []


def mention_thread_post(fake: PublicProviders) -> dict[str, Any]:
    newest = max(fake.posts, key=lambda post: int(post["id"]))
    return newest | {"id": str(int(newest["id"]) + 1), "edit_history_tweet_ids": []}


async def test_a_fresh_token_is_used_without_refreshing(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    fake: PublicProviders,
    clock: FakeClock,
) -> None:
    mention_thread(fake)
    account_id, entered = await connected(client, admin, fake)
    clock.advance(X_TOKEN_LIFETIME.total_seconds() - 301)  # 5 min 1 s left

    assert (await poll_one(ctx)).error is None
    assert refreshes(fake) == 0
    assert (await stored_credential(ctx, account_id))["access_token"] == entered["access_token"]

    clock.advance(2)  # within five minutes of its expiry: refreshed before the call
    assert (await poll_one(ctx)).error is None
    assert refreshes(fake) == 1
    assert fake.refused == []


async def test_a_token_x_refuses_is_refreshed_once_and_the_reply_posted(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    fake: PublicProviders,
) -> None:
    mention_thread(fake)
    account_id, entered = await connected(client, admin, fake)
    await poll_one(ctx)
    reply = await thread_reply(client, admin, "Logins are back, sorry!")
    del fake.x_access[entered["access_token"]]  # X ended it before its time

    assert await send_queued_message(ctx, reply["id"])

    assert (await message(client, admin, reply["id"]))["delivery_status"] == "sent"
    assert refreshes(fake) == 1
    assert fake.refused == ["x: token"]  # the one refusal that led to the refresh
    assert (await stored_credential(ctx, account_id))["access_token"] in fake.x_access


async def test_a_public_client_refreshes_with_its_id_and_no_secret(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    fake: PublicProviders,
    clock: FakeClock,
) -> None:
    fake.x_public_client = True
    mention_thread(fake)
    account_id, entered = await connected(client, admin, fake)
    assert "client_secret" not in entered
    clock.advance(EXPIRED)

    assert (await poll_one(ctx)).error is None
    assert refreshes(fake) == 1
    assert "client_secret" not in await stored_credential(ctx, account_id)


async def test_a_refresh_without_the_apps_client_id_says_which_setting_is_missing(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    fake: PublicProviders,
    clock: FakeClock,
) -> None:
    mention_thread(fake)
    await x_account(client, admin, secret=json.dumps(fake.x_connect()))
    clock.advance(EXPIRED)

    result = await poll_one(ctx)

    assert result.error is not None
    assert "settings.client_id" in result.error
    assert refreshes(fake) == 0


# --- X: refreshes that meet -----------------------------------------------------------------


async def test_a_poll_and_a_reply_refreshing_at_once_make_one_refresh(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    fake: PublicProviders,
    clock: FakeClock,
) -> None:
    mention_thread(fake)
    await connected(client, admin, fake)
    await poll_one(ctx)
    reply = await thread_reply(client, admin, "Looking into it.")
    clock.advance(EXPIRED)
    fake.posts.append(mention_thread_post(fake))

    polled, sent = await asyncio.gather(poll_one(ctx), send_queued_message(ctx, reply["id"]))

    assert (polled.stored, polled.error) == (1, None)
    assert sent
    assert refreshes(fake) == 1
    assert fake.refused == []


async def test_two_workers_holding_the_old_credential_share_one_refresh(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    fake: PublicProviders,
    clock: FakeClock,
) -> None:
    mention_thread(fake)
    account_id, _ = await connected(client, admin, fake)
    clock.advance(EXPIRED)
    first, second = [await source(ctx, account_id) for _ in range(2)]  # both read it now
    fake.x_token_gate = asyncio.Event()

    async with http_client(ctx.http, timeout=5) as http:
        both = asyncio.gather(first.authorize(http), second.authorize(http))
        await fake.x_token_waiting.wait()  # one refresh is under way, held at X
        fake.x_token_gate.set()
        tokens = await both

    assert tokens[0] == tokens[1]
    assert tokens[0] == (await stored_credential(ctx, account_id))["access_token"]
    assert refreshes(fake) == 1
    assert fake.refused == []


async def source(ctx: AppContext, account_id: int) -> Source:
    account = await polling.load_public_account(ctx, account_id)
    assert account is not None
    return source_for(
        account,
        ctx.settings.public_channels,
        ctx.settings.security.secret_key.get_secret_value(),
        ctx.clock.now(),
        store=AccountSecrets(ctx),
    )


@dataclass
class RacingSecrets:
    """The account's secret as another process, refreshing at the same instant, leaves
    it: ``elsewhere`` is stored just after this process reads it (``after_reads``)."""

    stored: str
    elsewhere: str
    after_reads: int
    reads: int = 0
    swaps: list[str] = field(default_factory=list)

    async def current(self, account_id: int) -> str | None:
        self.reads += 1
        value = self.stored
        if self.reads == self.after_reads:
            self.stored = self.elsewhere
        return value

    async def swap(self, account_id: int, *, old: str, new: str) -> bool:
        self.swaps.append(new)
        if self.stored != old:
            return False
        self.stored = new
        return True


def racing(
    ctx: AppContext, fake: PublicProviders, *, after_reads: int
) -> tuple[Callable[[], XAuth], RacingSecrets, dict[str, str]]:
    key = ctx.settings.security.secret_key.get_secret_value()
    ours, theirs = fake.x_connect(expires_in=-timedelta(seconds=1)), fake.x_connect()
    secrets = RacingSecrets(
        seal_secret(key, json.dumps(ours)), seal_secret(key, json.dumps(theirs)), after_reads
    )

    def auth() -> XAuth:
        return XAuth.open(
            1,
            secrets.stored,
            client_id=X_CLIENT_ID,
            secret_key=key,
            store=secrets,
            api_base=fake.url,
            now=ctx.clock.now(),
        )

    return auth, secrets, theirs


async def test_a_refresh_stored_first_by_another_process_is_the_one_used(
    ctx: AppContext, fake: PublicProviders
) -> None:
    make, secrets, theirs = racing(ctx, fake, after_reads=1)  # they store theirs as we call X
    auth = make()

    with capture_logs() as logs:
        async with http_client(ctx.http, timeout=5) as http:
            token = await auth.token(http)

    assert token == theirs["access_token"]
    assert len(secrets.swaps) == 1  # ours was refused by the compare-and-set
    assert secrets.stored == secrets.elsewhere
    assert any(log["event"] == "x_token_refreshed_elsewhere" for log in logs)


async def test_a_refresh_x_refuses_because_another_process_rotated_it_uses_theirs(
    ctx: AppContext, fake: PublicProviders
) -> None:
    make, secrets, theirs = racing(ctx, fake, after_reads=1)
    auth = make()
    fake.x_refresh.clear()  # the other process has used our refresh token already

    async with http_client(ctx.http, timeout=5) as http:
        token = await auth.token(http)

    assert token == theirs["access_token"]
    assert secrets.swaps == []
    assert fake.refused == ["x token: refresh token"]  # X's refusal, answered by theirs


# --- X: a refresh refused -------------------------------------------------------------------


async def test_a_revoked_refresh_token_asks_to_reconnect_and_is_not_retried(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    fake: PublicProviders,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mention_thread(fake)
    fake.page_size = 1
    monkeypatch.setattr(polling, "MAX_PAGES", 1)
    account_id, entered = await connected(client, admin, fake)
    await poll_one(ctx)
    reply = await thread_reply(client, admin, "On it.")
    kept_page = (await cursor(ctx, account_id))["page"]
    fake.x_revoke()
    clock.advance(EXPIRED)

    with capture_logs() as logs:
        result = await poll_one(ctx)
        assert not await send_queued_message(ctx, reply["id"])

    assert result.error is not None
    assert result.error.startswith("X: the access token could not be refreshed (Value passed")
    assert "reconnect the X account" in result.error
    assert result.error.endswith("(HTTP 400 invalid_request)")
    saved = await cursor(ctx, account_id)
    assert saved["last_error"] == result.error
    assert saved["page"] == kept_page  # the page was not at fault: kept
    failed = await message(client, admin, reply["id"])
    assert failed["delivery_status"] == "failed"  # final: another attempt would fail the same
    assert "reconnect the X account" in failed["delivery_error"]
    assert await stored_credential(ctx, account_id) == entered  # nothing stored
    for secret in entered.values():
        assert secret not in repr(logs)
        assert secret not in repr(saved)


async def test_a_refresh_x_cannot_answer_is_tried_again_later(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    fake: PublicProviders,
    clock: FakeClock,
) -> None:
    mention_thread(fake)
    account_id, entered = await connected(client, admin, fake)
    await poll_one(ctx)
    reply = await thread_reply(client, admin, "On it.")
    clock.advance(EXPIRED)
    unavailable = {"title": "Service Unavailable", "detail": "Try again later.", "status": 503}
    fake.fail_next.extend([(503, unavailable, {}), (503, unavailable, {})])

    failed_poll = await poll_one(ctx)
    assert not await send_queued_message(ctx, reply["id"])

    assert failed_poll.error == "X: Service Unavailable: Try again later. (HTTP 503)"
    waiting = await message(client, admin, reply["id"])
    assert waiting["delivery_status"] == "queued"  # tried again after its backoff
    assert await stored_credential(ctx, account_id) == entered
    assert (await poll_one(ctx)).error is None  # the refresh token still works
    assert refreshes(fake) == 3
    assert fake.refused == []


# --- Google: one token an hour ---------------------------------------------------------------


async def test_two_polls_in_a_row_exchange_one_google_token(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    fake: PublicProviders,
    clock: FakeClock,
) -> None:
    fake.play_reviews = three_play_reviews()
    await play_account(client, admin, fake)

    assert (await poll_one(ctx)).error is None
    assert (await poll_one(ctx)).error is None
    assert len(fake.issued) == 1  # the token endpoint was asked once

    clock.advance(3599 - 60)  # its last minute: a new one
    assert (await poll_one(ctx)).error is None
    assert len(fake.issued) == 2


async def test_a_google_token_the_api_refuses_is_replaced_once(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    fake: PublicProviders,
) -> None:
    fake.play_reviews = three_play_reviews()
    await play_account(client, admin, fake)
    await poll_one(ctx)
    fake.issued.clear()  # Google forgot the token it gave

    renewed = await poll_one(ctx)

    assert renewed.error is None
    assert len(fake.issued) == 1
    assert fake.refused == ["google: bearer"]

    unauthenticated = google_error_body(401, "Invalid Credentials", "UNAUTHENTICATED")
    fake.fail_next.extend([(401, unauthenticated, {}), (401, unauthenticated, {})])
    refused = await poll_one(ctx)
    assert refused.error == "Google Play: Invalid Credentials (HTTP 401 UNAUTHENTICATED)"
    assert len(fake.issued) == 2  # renewed once, not again
