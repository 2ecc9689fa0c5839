"""Google Play and App Store reviews and X mentions, polled from doubles of the real
APIs served over HTTP: they become conversations in the account's queue, once; an
edited review joins its conversation; an X thread is one conversation; agents' answers
are posted through the APIs, retried when the provider says "later" and failed with its
words when it says no; failures are kept on the account and never leak a credential."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from opencx.core.enums import ConversationStatus, Role
from opencx.core.permissions import Principal
from opencx.db.models import ChannelAccount
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.conversations import StatusChange, change_conversation_status
from opencx.features.delivery import outbox
from opencx.features.delivery.outbox import queued_message_ids, send_queued_message
from opencx.features.public_channels import (
    PUBLIC_CHANNELS,
    PUBLIC_SENDER,
    PollResult,
    poll_public_channels,
    polling,
)
from opencx.features.transports import SharedHttp
from opencx.jobs.registry import default_registry
from opencx.settings import PublicChannelSettings
from opencx.testing import FakeClock
from tests.conftest import Caller
from tests.integration.public_providers import (
    APP_ID,
    APPLE_KEY_ID,
    ISSUER_ID,
    PACKAGE,
    X_TOKEN,
    X_USER_ID,
    PublicProviders,
    apple_error_body,
    google_error_body,
    public_providers_on,
    serve_public_providers,
)
from tests.integration.test_directory_api import API, list_all, post

pytestmark = pytest.mark.timeout(60)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # FakeClock's start


@pytest.fixture
async def providers(ctx: AppContext) -> AsyncIterator[PublicProviders]:
    async with public_providers_on(ctx) as fake:
        ctx.settings.public_channels = PublicChannelSettings(
            google_api_base=fake.url,
            google_token_url=f"{fake.url}/token",
            app_store_api_base=fake.url,
            x_api_base=fake.url,
            timeout_seconds=5,
            max_attempts=3,
        )
        fake.now = ctx.clock.now  # X's tokens expire on the test's clock
        yield fake


@pytest.fixture
def sending() -> None:
    """The outbound queue sends review and X answers through ``PUBLIC_SENDER``."""
    for channel in PUBLIC_CHANNELS:
        assert outbox.SENDERS[channel] is PUBLIC_SENDER


# --- what the providers hold --------------------------------------------------------------


def play_review(
    review_id: str, author: str, text: str, *, at: datetime, rating: int, language: str = "en"
) -> dict[str, Any]:
    return {
        "reviewId": review_id,
        "authorName": author,
        "comments": [
            {
                "userComment": {
                    "text": text,
                    "lastModified": {"seconds": str(int(at.timestamp())), "nanos": 0},
                    "starRating": rating,
                    "reviewerLanguage": language,
                    "device": "a52q",
                    "androidOsVersion": 34,
                    "appVersionCode": 4120,
                    "appVersionName": "4.12.0",
                    "thumbsUpCount": 0,
                    "thumbsDownCount": 0,
                }
            }
        ],
    }


def edit(review: dict[str, Any], text: str, *, at: datetime, rating: int) -> None:
    comment = review["comments"][0]["userComment"]
    comment.update(text=text, starRating=rating)
    comment["lastModified"] = {"seconds": str(int(at.timestamp())), "nanos": 0}


def app_review(
    review_id: str,
    nickname: str,
    title: str,
    body: str,
    *,
    at: datetime,
    rating: int,
    territory: str = "USA",
) -> dict[str, Any]:
    return {
        "type": "customerReviews",
        "id": review_id,
        "attributes": {
            "rating": rating,
            "title": title,
            "body": body,
            "reviewerNickname": nickname,
            "createdDate": at.astimezone(UTC).isoformat(),
            "territory": territory,
        },
    }


def x_post(
    post_id: str,
    author_id: str,
    text: str,
    *,
    at: datetime,
    conversation_id: str | None = None,
    replied_to: str | None = None,
    retweet_of: str | None = None,
) -> dict[str, Any]:
    post: dict[str, Any] = {
        "id": post_id,
        "text": text,
        "author_id": author_id,
        "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "conversation_id": conversation_id or post_id,
        "lang": "en",
        "edit_history_tweet_ids": [post_id],
        "mentions": [X_USER_ID],
    }
    if replied_to:
        post["referenced_tweets"] = [{"type": "replied_to", "id": replied_to}]
    if retweet_of:
        post["referenced_tweets"] = [{"type": "retweeted", "id": retweet_of}]
    return post


# --- accounts, as an admin creates them ---------------------------------------------------


async def create_account(
    client: httpx.AsyncClient,
    admin: Caller,
    *,
    channel: str,
    provider: str,
    address: str,
    settings: dict[str, str],
    secret: str,
) -> tuple[int, int]:
    queue = await post(
        client, admin, "/queues", {"name": f"{provider} {address}", "channel": channel}
    )
    account = await post(
        client,
        admin,
        "/channel-accounts",
        {
            "channel": channel,
            "provider": provider,
            "address": address,
            "name": f"{provider} {address}",
            "queue_id": queue["id"],
            "settings": settings,
            "secret": secret,
        },
    )
    return account["id"], queue["id"]


async def play_account(
    client: httpx.AsyncClient,
    admin: Caller,
    providers: PublicProviders,
    *,
    secret: str | None = None,
) -> tuple[int, int]:
    return await create_account(
        client,
        admin,
        channel="review",
        provider="google_play",
        address=PACKAGE,
        settings={"package_name": PACKAGE},
        secret=secret or providers.service_account_key(),
    )


async def store_account(
    client: httpx.AsyncClient,
    admin: Caller,
    providers: PublicProviders,
    *,
    secret: str | None = None,
) -> tuple[int, int]:
    return await create_account(
        client,
        admin,
        channel="review",
        provider="app_store",
        address=APP_ID,
        settings={"app_id": APP_ID, "issuer_id": ISSUER_ID, "key_id": APPLE_KEY_ID},
        secret=secret or providers.app_store_key(),
    )


async def x_account(
    client: httpx.AsyncClient,
    admin: Caller,
    *,
    secret: str = X_TOKEN,
    client_id: str | None = None,
) -> tuple[int, int]:
    settings = {"user_id": X_USER_ID} | ({"client_id": client_id} if client_id else {})
    return await create_account(
        client,
        admin,
        channel="twitter",
        provider="twitter",
        address="@AcmeSupport",
        settings=settings,
        secret=secret,
    )


async def conversations(
    client: httpx.AsyncClient, admin: Caller, queue_id: int
) -> list[dict[str, Any]]:
    return await list_all(client, admin, "/conversations", queue_id=queue_id)


async def messages(client: httpx.AsyncClient, admin: Caller, conversation_id: int) -> list[Any]:
    return await list_all(client, admin, f"/conversations/{conversation_id}/messages")


async def cursor(ctx: AppContext, account_id: int) -> dict[str, Any]:
    async with transaction(ctx) as session:
        account = await session.get(ChannelAccount, account_id)
        assert account is not None
        return dict(account.cursor)


async def poll_one(ctx: AppContext) -> PollResult:
    (result,) = await poll_public_channels(ctx)
    return result


async def answer(
    client: httpx.AsyncClient, admin: Caller, conversation_id: int, channel: str, text: str
) -> dict[str, Any]:
    """An agent's answer, written through the conversations API: stored queued."""
    body = {"body_text": text, "channel": channel, "direction": "outbound", "author_kind": "agent"}
    message = await post(client, admin, f"/conversations/{conversation_id}/messages", body)
    assert message["delivery_status"] == "queued"
    return message


async def message(client: httpx.AsyncClient, admin: Caller, message_id: int) -> dict[str, Any]:
    response = await client.get(f"{API}/messages/{message_id}", headers=admin.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


CAMILLE = "gp:AOqpTOFmAVORqfWGcaqfF39ftwFjGkjecjvjXnC3g_uL0NtVGlrrqm8X2XUWx0WydH3C9afZlPUizYVZ"
JANE = "gp:AOqpTOHq0Ue9UfJ3e2bH5x8zNnKmPpQqRrSsTtUuVvWwXxYyZz0123456789abcdefABCDEFghijkl"
OMAR = "gp:AOqpTOEx4mP1eR0vKq3j9QbT7Yc2N8dLwZsA6uHfGiJkLmNoPqRsTuVwXyZ0a1b2c3d4e5f6g7h8i9"


def three_play_reviews() -> list[dict[str, Any]]:
    return [
        play_review(
            CAMILLE,
            "Camille Martin",
            "Plante au démarrage\tDepuis la mise à jour, l'application se ferme à l'ouverture.",
            at=NOW - timedelta(hours=2),
            rating=2,
            language="fr",
        ),
        play_review(JANE, "Jane Bloggs", "Best app ever!", at=NOW - timedelta(days=1), rating=5),
        play_review(OMAR, "Omar K.", "Sync is slow.", at=NOW - timedelta(days=3), rating=3),
    ]


# --- Google Play ------------------------------------------------------------------------------


async def test_play_reviews_become_conversations_in_the_queue_with_their_rating_once(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, providers: PublicProviders
) -> None:
    providers.play_reviews = three_play_reviews()
    account_id, queue_id = await play_account(client, admin, providers)

    first = await poll_one(ctx)

    assert (first.fetched, first.stored, first.error) == (3, 3, None)
    assert providers.refused == []  # the token exchange and every call were accepted
    assert len(providers.calls_to("google")) == 2  # two reviews a page
    found = await conversations(client, admin, queue_id)
    assert sorted(c["subject"] for c in found) == ["", "", "Plante au démarrage"]
    camille = next(c for c in found if c["subject"] == "Plante au démarrage")
    (review,) = await messages(client, admin, camille["id"])
    assert review["channel"] == "review"
    assert review["body_text"] == "Depuis la mise à jour, l'application se ferme à l'ouverture."
    assert review["metadata"]["rating"] == "2"
    assert review["metadata"]["language"] == "fr"
    assert review["metadata"]["app_version"] == "4.12.0"
    assert review["metadata"]["device"] == "a52q"
    ratings = sorted(
        [(await messages(client, admin, c["id"]))[0]["metadata"]["rating"] for c in found]
    )
    assert ratings == ["2", "3", "5"]

    again = await poll_one(ctx)

    assert (again.stored, again.error) == (0, None)
    assert len(await conversations(client, admin, queue_id)) == 3
    assert len(providers.calls_to("google")) == 3  # one page: it reached what was seen
    saved = await cursor(ctx, account_id)
    assert saved["since"] == (NOW - timedelta(hours=2)).isoformat()
    assert "last_error" not in saved


async def test_an_edited_play_review_joins_its_conversation_even_once_resolved(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    providers: PublicProviders,
    clock: FakeClock,
) -> None:
    providers.play_reviews = three_play_reviews()
    _, queue_id = await play_account(client, admin, providers)
    await poll_one(ctx)
    camille = next(
        c
        for c in await conversations(client, admin, queue_id)
        if c["subject"] == "Plante au démarrage"
    )
    principal = Principal(user_id=admin.user.id, role=Role.ADMIN)
    await change_conversation_status(
        ctx, principal, camille["id"], StatusChange(status=ConversationStatus.RESOLVED)
    )
    clock.advance(600)
    edit(providers.play_reviews[0], "Corrigé avec la 4.12.1, merci !", at=clock.now(), rating=5)

    result = await poll_one(ctx)

    assert (result.stored, result.error) == (1, None)
    assert len(await conversations(client, admin, queue_id)) == 3
    original, edited = await messages(client, admin, camille["id"])
    assert edited["body_text"] == "Corrigé avec la 4.12.1, merci !"
    assert edited["metadata"]["rating"] == "5"
    assert original["metadata"]["rating"] == "2"
    reopened = next(
        c for c in await conversations(client, admin, queue_id) if c["id"] == camille["id"]
    )
    assert reopened["status"] == "open"


async def test_an_answer_to_a_play_review_is_posted_as_its_reply_and_marked_sent(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    providers: PublicProviders,
    sending: None,
) -> None:
    providers.play_reviews = three_play_reviews()
    _, queue_id = await play_account(client, admin, providers)
    await poll_one(ctx)
    camille = next(
        c
        for c in await conversations(client, admin, queue_id)
        if c["subject"] == "Plante au démarrage"
    )
    reply = await answer(client, admin, camille["id"], "review", "Merci ! La 4.12.1 corrige cela.")

    assert await send_queued_message(ctx, reply["id"])

    (call,) = providers.calls_to("google", "POST")
    assert call.path == f"/androidpublisher/v3/applications/{PACKAGE}/reviews/{CAMILLE}:reply"
    assert call.json == {"replyText": "Merci ! La 4.12.1 corrige cela."}
    sent = await message(client, admin, reply["id"])
    assert sent["delivery_status"] == "sent"
    assert sent["provider_message_id"].startswith(f"{CAMILLE}#reply@")
    review_seen_at = int((NOW - timedelta(hours=2)).timestamp())
    assert sent["metadata"]["in_reply_to"] == f"{CAMILLE}@{review_seen_at}"  # the version answered


async def test_play_reviews_are_read_and_answered_over_real_http_through_the_shared_pool(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, sending: None
) -> None:
    """The process's own transport, not the test's: the doubles on a local port."""
    async with serve_public_providers() as network:
        ctx.http = SharedHttp()
        ctx.settings.public_channels = PublicChannelSettings(
            google_api_base=network.url, google_token_url=f"{network.url}/token"
        )
        network.play_reviews = three_play_reviews()
        _, queue_id = await play_account(client, admin, network)
        try:
            await poll_one(ctx)
            first, *_ = await conversations(client, admin, queue_id)
            reply = await answer(client, admin, first["id"], "review", "Merci !")
            assert await send_queued_message(ctx, reply["id"])
        finally:
            await ctx.http.aclose()

    assert len(await conversations(client, admin, queue_id)) == 3
    (call,) = network.calls_to("google", "POST")
    assert call.json == {"replyText": "Merci !"}
    assert (await message(client, admin, reply["id"]))["delivery_status"] == "sent"
    assert network.refused == []


async def test_a_server_error_is_retried_later_and_a_refusal_fails_with_googles_words(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    providers: PublicProviders,
    clock: FakeClock,
    sending: None,
) -> None:
    providers.play_reviews = three_play_reviews()
    _, queue_id = await play_account(client, admin, providers)
    await poll_one(ctx)
    camille = next(
        c
        for c in await conversations(client, admin, queue_id)
        if c["subject"] == "Plante au démarrage"
    )
    reply = await answer(client, admin, camille["id"], "review", "Merci !")
    providers.fail_next.append(
        (500, google_error_body(500, "Internal error encountered.", "INTERNAL"), {})
    )

    assert not await send_queued_message(ctx, reply["id"])

    waiting = await message(client, admin, reply["id"])
    assert waiting["delivery_status"] == "queued"
    assert waiting["metadata"]["attempts"] == "1"
    assert "Internal error encountered." in waiting["metadata"]["last_error"]
    assert await queued_message_ids(ctx) == []  # not before its backoff
    clock.advance(30)
    assert await queued_message_ids(ctx) == [reply["id"]]
    assert await send_queued_message(ctx, reply["id"])
    assert (await message(client, admin, reply["id"]))["delivery_status"] == "sent"

    refused = await answer(client, admin, camille["id"], "review", "Encore merci !")
    providers.fail_next.append(
        (
            403,
            google_error_body(403, "The caller does not have permission", "PERMISSION_DENIED"),
            {},
        )
    )
    assert not await send_queued_message(ctx, refused["id"])
    failed = await message(client, admin, refused["id"])
    assert failed["delivery_status"] == "failed"
    assert failed["delivery_error"] == (
        "Google Play: The caller does not have permission (HTTP 403 PERMISSION_DENIED)"
    )


async def test_a_play_reply_google_would_refuse_fails_before_anything_is_sent(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    providers: PublicProviders,
    sending: None,
) -> None:
    providers.play_reviews = three_play_reviews()[:1]
    _, queue_id = await play_account(client, admin, providers)
    await poll_one(ctx)
    (conversation,) = await conversations(client, admin, queue_id)
    reply = await answer(client, admin, conversation["id"], "review", "x" * 351)

    assert not await send_queued_message(ctx, reply["id"])

    failed = await message(client, admin, reply["id"])
    assert failed["delivery_status"] == "failed"
    assert "350 characters" in failed["delivery_error"]
    assert providers.calls_to("google", "POST") == []


# --- App Store --------------------------------------------------------------------------------


LOST = "00000070-3c5e-0043-b6f2-3e1a00000000"
DARK = "00000028-b08c-0014-729e-fbd500000000"
WIDGET = "0000005e-11aa-0022-b3c4-7d8e00000000"


def three_app_reviews() -> list[dict[str, Any]]:
    return [
        app_review(
            LOST,
            "notetaker42",
            "Lost my data",
            "All my notes are gone.",
            at=NOW - timedelta(hours=1),
            rating=1,
        ),
        app_review(
            DARK,
            "Lucie B.",
            "Très pratique",
            "Il manque le mode sombre.",
            at=NOW - timedelta(days=1),
            rating=4,
            territory="FRA",
        ),
        app_review(
            WIDGET,
            "wdgt",
            "Widget please",
            "A home screen widget would be great.",
            at=NOW - timedelta(days=2),
            rating=3,
            territory="GBR",
        ),
    ]


async def test_app_store_reviews_are_read_page_by_page_with_a_signed_token(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, providers: PublicProviders
) -> None:
    providers.app_reviews = three_app_reviews()
    _, queue_id = await store_account(client, admin, providers)

    first = await poll_one(ctx)

    assert (first.stored, first.error) == (3, None)
    assert providers.refused == []  # every JWT verified with the key's public half
    pages = providers.calls_to("apple")
    assert len(pages) == 2
    assert pages[1].params["cursor"] == "2"  # links.next followed
    found = {c["subject"]: c for c in await conversations(client, admin, queue_id)}
    assert set(found) == {"Lost my data", "Très pratique", "Widget please"}
    (review,) = await messages(client, admin, found["Très pratique"]["id"])
    assert review["body_text"] == "Il manque le mode sombre."
    assert review["metadata"]["rating"] == "4"
    assert review["metadata"]["territory"] == "FRA"

    again = await poll_one(ctx)
    assert (again.stored, again.error) == (0, None)
    assert len(providers.calls_to("apple")) == 3


async def test_an_answer_to_an_app_store_review_is_its_response(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    providers: PublicProviders,
    sending: None,
) -> None:
    providers.app_reviews = three_app_reviews()
    _, queue_id = await store_account(client, admin, providers)
    await poll_one(ctx)
    lost = next(
        c for c in await conversations(client, admin, queue_id) if c["subject"] == "Lost my data"
    )
    reply = await answer(client, admin, lost["id"], "review", "Sorry! 3.2.1 restores your notes.")

    assert await send_queued_message(ctx, reply["id"])

    (call,) = providers.calls_to("apple", "POST")
    assert call.json == {
        "data": {
            "type": "customerReviewResponses",
            "attributes": {"responseBody": "Sorry! 3.2.1 restores your notes."},
            "relationships": {"review": {"data": {"type": "customerReviews", "id": LOST}}},
        }
    }
    sent = await message(client, admin, reply["id"])
    assert sent["delivery_status"] == "sent"
    assert sent["provider_message_id"].startswith(f"resp-{LOST}@")

    # A second answer replaces the first at Apple: both are kept here, each with its id.
    second = await answer(client, admin, lost["id"], "review", "Update: 3.2.2 is out.")
    providers.fail_next.append((409, apple_error_body(409, "STATE_ERROR", "Try later"), {}))
    assert not await send_queued_message(ctx, second["id"])
    assert (await message(client, admin, second["id"]))["delivery_error"] == (
        "App Store Connect: Request refused: Try later (HTTP 409 STATE_ERROR)"
    )


async def test_a_key_app_store_connect_does_not_know_is_recorded_on_the_account(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    providers: PublicProviders,
    clock: FakeClock,
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    providers.app_reviews = three_app_reviews()
    account_id, queue_id = await store_account(client, admin, providers, secret=other)

    with capture_logs() as logs:
        result = await poll_one(ctx)

    assert result.stored == 0
    assert result.error is not None
    assert result.error.startswith("App Store Connect: Authentication credentials are missing")
    saved = await cursor(ctx, account_id)
    assert saved["last_error"] == result.error
    assert saved["last_error_at"] == clock.now().isoformat()
    assert "since" not in saved
    assert await conversations(client, admin, queue_id) == []
    assert any(log["event"] == "public_channel_poll_failed" for log in logs)
    assert "PRIVATE KEY" not in repr(logs)
    assert "eyJ" not in repr(logs)  # no JWT either


# --- X ----------------------------------------------------------------------------------------

LEA, SAM, OMAR_X, BOT = "1029384756", "2244994945", "3344556677", "5550001112"
ROOT = "1875990001112223330"


def mention_thread(providers: PublicProviders) -> None:
    providers.users = {
        LEA: {"id": LEA, "name": "Léa Dev", "username": "lea_dev"},
        SAM: {"id": SAM, "name": "Sam Rivera", "username": "samr"},
        OMAR_X: {"id": OMAR_X, "name": "Omar", "username": "omar"},
        BOT: {"id": BOT, "name": "Retweeter", "username": "rt_bot"},
    }
    providers.posts = [
        x_post(
            ROOT, LEA, "@AcmeSupport my login fails with error 503", at=NOW - timedelta(minutes=62)
        ),
        x_post(
            "1875994440001112225",
            BOT,
            "RT @lea_dev: @AcmeSupport my login fails",
            at=NOW - timedelta(minutes=45),
            retweet_of=ROOT,
        ),
        x_post(
            "1875995556667778880",
            LEA,
            "@AcmeSupport any news? Still can't log in",
            at=NOW - timedelta(minutes=41),
            conversation_id=ROOT,
            replied_to=ROOT,
        ),
        x_post(
            "1875997778889990001",
            OMAR_X,
            "@AcmeSupport how do I export my notes?",
            at=NOW - timedelta(minutes=30),
        ),
        x_post(
            "1876001112223334447",
            SAM,
            "@AcmeSupport @lea_dev same here &amp; on iOS",
            at=NOW - timedelta(minutes=19),
            conversation_id=ROOT,
            replied_to="1875995556667778880",
        ),
    ]


async def test_an_x_thread_becomes_one_conversation_and_reposts_are_left_out(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, providers: PublicProviders
) -> None:
    mention_thread(providers)
    account_id, queue_id = await x_account(client, admin)

    first = await poll_one(ctx)

    assert (first.fetched, first.stored, first.error) == (4, 4, None)
    assert len(providers.calls_to("x")) == 3  # two posts a page
    assert providers.calls_to("x")[0].params["start_time"] == "2025-12-29T09:00:00Z"
    found = await conversations(client, admin, queue_id)
    assert len(found) == 2
    thread = [await messages(client, admin, c["id"]) for c in found]
    (posts,) = [m for m in thread if len(m) == 3]
    assert [p["provider_message_id"] for p in posts] == [
        ROOT,
        "1875995556667778880",
        "1876001112223334447",
    ]
    assert posts[2]["body_text"] == "@AcmeSupport @lea_dev same here & on iOS"
    assert posts[2]["metadata"]["username"] == "samr"
    assert (await cursor(ctx, account_id))["since"] == "1876001112223334447"

    again = await poll_one(ctx)
    assert (again.fetched, again.stored) == (0, 0)
    assert providers.calls_to("x")[-1].params["since_id"] == "1876001112223334447"


async def test_an_answer_on_x_replies_to_the_last_post_of_the_thread(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    providers: PublicProviders,
    sending: None,
) -> None:
    mention_thread(providers)
    _, queue_id = await x_account(client, admin)
    await poll_one(ctx)
    threads = [
        c
        for c in await conversations(client, admin, queue_id)
        if len(await messages(client, admin, c["id"])) == 3
    ]
    (thread,) = threads
    reply = await answer(client, admin, thread["id"], "twitter", "Sorry! Logins are back now.")

    assert await send_queued_message(ctx, reply["id"])

    (call,) = providers.calls_to("x", "POST")
    assert call.json == {
        "text": "Sorry! Logins are back now.",
        "reply": {"in_reply_to_tweet_id": "1876001112223334447"},
    }
    sent = await message(client, admin, reply["id"])
    assert sent["delivery_status"] == "sent"
    assert sent["provider_message_id"] == "1876010203040506070"

    duplicate = await answer(client, admin, thread["id"], "twitter", "Sorry! Logins are back now.")
    providers.fail_next.append(
        (
            403,
            {
                "detail": "You are not allowed to create a Tweet with duplicate content.",
                "type": "about:blank",
                "title": "Forbidden",
                "status": 403,
            },
            {},
        )
    )
    assert not await send_queued_message(ctx, duplicate["id"])
    failed = await message(client, admin, duplicate["id"])
    assert failed["delivery_status"] == "failed"
    assert "duplicate content" in failed["delivery_error"]

    too_long = await answer(client, admin, thread["id"], "twitter", "🙏" * 141)
    assert not await send_queued_message(ctx, too_long["id"])
    refused = await message(client, admin, too_long["id"])
    assert refused["delivery_status"] == "failed"
    assert "280" in refused["delivery_error"]
    assert len(providers.calls_to("x", "POST")) == 2  # nothing sent for the long one


async def test_a_long_list_is_read_over_several_polls_without_losing_a_post(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    providers: PublicProviders,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mention_thread(providers)
    providers.page_size = 1
    monkeypatch.setattr(polling, "MAX_PAGES", 2)
    account_id, queue_id = await x_account(client, admin)

    first = await poll_one(ctx)

    assert first.stored == 2  # the two newest: the rest waits
    kept = await cursor(ctx, account_id)
    assert "since" not in kept
    assert kept["pending"] == "1876001112223334447"
    second = await poll_one(ctx)
    assert second.stored == 1
    third = await poll_one(ctx)
    assert third.stored == 1  # the retweet on the way was left out
    done = await cursor(ctx, account_id)
    assert done["since"] == "1876001112223334447"
    assert "page" not in done
    assert "pending" not in done
    assert len(await conversations(client, admin, queue_id)) == 2
    providers.posts.append(x_post("1876005550000000001", OMAR_X, "@AcmeSupport thanks!", at=NOW))
    assert (await poll_one(ctx)).stored == 1
    assert providers.calls_to("x")[-1].params["since_id"] == "1876001112223334447"


async def test_a_kept_page_the_provider_refuses_is_dropped(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    providers: PublicProviders,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mention_thread(providers)
    providers.page_size = 1
    monkeypatch.setattr(polling, "MAX_PAGES", 1)
    account_id, _ = await x_account(client, admin)
    await poll_one(ctx)
    assert "page" in await cursor(ctx, account_id)
    providers.fail_next.append(
        (
            400,
            {
                "title": "Invalid Request",
                "detail": "The pagination token is invalid.",
                "type": "about:blank",
                "status": 400,
            },
            {},
        )
    )

    refused = await poll_one(ctx)

    assert refused.error == "X: Invalid Request: The pagination token is invalid. (HTTP 400)"
    after = await cursor(ctx, account_id)
    assert "page" not in after
    assert "pending" not in after
    assert "pagination_token" not in (await poll_one(ctx), providers.calls_to("x")[-1].params)[1]


async def test_a_rate_limit_rests_the_account_until_x_says_it_ends(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    providers: PublicProviders,
    clock: FakeClock,
) -> None:
    mention_thread(providers)
    account_id, queue_id = await x_account(client, admin)
    reset = NOW + timedelta(minutes=10)
    providers.fail_next.append(
        (
            429,
            {"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
            {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(reset.timestamp()))},
        )
    )

    limited = await poll_one(ctx)

    assert limited.error == "X: Rate limit exceeded (HTTP 429 88)"
    assert (await cursor(ctx, account_id))["backoff_until"] == reset.isoformat()
    clock.advance(300)
    assert (await poll_one(ctx)).skipped
    assert len(providers.calls_to("x")) == 1  # not asked again before the reset
    clock.advance(301)
    resumed = await poll_one(ctx)
    assert (resumed.stored, resumed.error) == (4, None)
    assert "backoff_until" not in await cursor(ctx, account_id)
    assert len(await conversations(client, admin, queue_id)) == 2


async def test_a_revoked_x_token_is_recorded_and_never_logged(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, providers: PublicProviders
) -> None:
    mention_thread(providers)
    revoked = "revoked-user-token-c2VjcmV0"
    account_id, _ = await x_account(client, admin, secret=revoked)

    with capture_logs() as logs:
        result = await poll_one(ctx)

    assert result.error == "X: Unauthorized (HTTP 401)"
    saved = await cursor(ctx, account_id)
    assert saved["last_error"] == result.error
    assert revoked not in repr(logs)
    assert revoked not in repr(saved)


async def test_the_periodic_job_polls_every_account(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, providers: PublicProviders
) -> None:
    providers.play_reviews = three_play_reviews()
    mention_thread(providers)
    _, play_queue = await play_account(client, admin, providers)
    _, x_queue = await x_account(client, admin)
    job = default_registry().get("poll_public_channels")
    assert job.every == timedelta(minutes=5)

    await job.run(ctx, {})

    assert len(await conversations(client, admin, play_queue)) == 3
    assert len(await conversations(client, admin, x_queue)) == 2
