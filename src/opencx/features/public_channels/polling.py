"""Polling public channels: Google Play and App Store reviews and X mentions become
messages in conversations, as a webhook's would.

Rules:
- every active account of ``google_play``, ``app_store`` and ``twitter`` is polled by
  ``poll_public_channels`` (the ``poll_public_channels`` job, every five minutes), at
  most ``POLL_CONCURRENCY`` at once, each within ``POLL_DEADLINE_SECONDS``; one failing
  account never stops the others;
- a poll reads at most ``MAX_PAGES`` pages, newest first, down to what the last poll
  saw (``cursor["since"]``: the newest review date or post id); an account polled for
  the first time looks back ``FIRST_POLL_WINDOW`` (a week). Items are stored by
  ``receive`` (each committed), oldest first, in the account's queue; a review or a
  post stored before is stored once: polling again changes nothing;
- when the pages run out before reaching what the last poll saw, the cursor keeps the
  next page (``page``) and the newest position of this run (``pending``): the next poll
  goes on from there, and only when the list is done does ``since`` move;
- what the adapter read (rating, app version, device, territory, username…) is kept
  on the message by ``receive``;
- an edited Google Play review is a new message (its id carries its ``lastModified``)
  threaded to the review's earlier versions, so it joins their conversation (reopened
  if it was closed); an X post joins the posts of its X conversation (``thread_refs``,
  else a stored post with the same ``conversation_id``), so a thread is one
  conversation whatever order its posts were read in;
- the cursor moves only after everything read is stored; a failure (no answer, a
  refusal, an unreadable page or credential) leaves it where it was (but a kept page
  the provider refuses for good is dropped, the next poll starting over), and is kept in
  ``last_error`` / ``last_error_at`` (cleared by a poll without one), logged with the
  provider's words, never a token; a rate limit (``429``) also sets ``backoff_until``,
  the reset time the provider gave (else ``RATE_LIMIT_BACKOFF`` from now), and the
  account is not polled before it;
- the account's token comes from its source (``_sources``): an X access token about to
  expire, or refused once with ``401``, is refreshed and the new credential stored
  (``_x_auth``); a Google token is kept for the hour it lives (``_google_tokens``). A
  credential the provider refuses is a failure like the others, but never drops a kept
  page: the page was not at fault;
- the cursor column is the poller's alone, written by its own UPDATE of that column.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel, Direction
from opencx.core.errors import NotFound, OpenCXError
from opencx.db.models import ChannelAccount, Message
from opencx.features.contacts.intake import Received, receive
from opencx.features.context import AppContext, transaction
from opencx.features.public_channels._credentials import AccountSecrets
from opencx.features.public_channels._sources import (
    PUBLIC_PROVIDERS,
    Authorized,
    CredentialRefused,
    PublicAccount,
    Refused,
    Source,
    oldest_first,
    source_for,
)
from opencx.features.sources.pollers import active_account_ids, poll_each, save_cursor
from opencx.features.transports import http_client
from opencx.providers import google_play, x
from opencx.providers.base import InboundMessage

__all__ = [
    "MAX_PAGES",
    "POLL_CONCURRENCY",
    "POLL_DEADLINE_SECONDS",
    "RATE_LIMIT_BACKOFF",
    "PollResult",
    "load_public_account",
    "poll_public_account",
    "poll_public_channels",
]

log = structlog.get_logger(__name__)

#: Pages read from one account per poll; the rest wait for the next poll.
MAX_PAGES = 5
POLL_CONCURRENCY = 4
POLL_DEADLINE_SECONDS = 120.0
#: How long an account rests after a rate limit whose end the provider did not give.
RATE_LIMIT_BACKOFF = timedelta(minutes=15)
_POSITION = ("since", "page", "pending")


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of one account did; ``skipped`` while a rate limit lasts."""

    account_id: int
    provider: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    error: str | None = None
    skipped: bool = False


@dataclass(slots=True)
class _Poll:
    account: PublicAccount
    items: list[InboundMessage] = field(default_factory=list)
    next_page: str | None = None
    newest: str | None = None
    complete: bool = False  # every page read, and every item stored
    restart: bool = False  # the page kept from the last poll was refused: start over
    stored: int = 0
    duplicates: int = 0

    def count(self, received: Received) -> None:
        if received.duplicate:
            self.duplicates += 1
        else:
            self.stored += 1


async def poll_public_channels(ctx: AppContext) -> list[PollResult]:
    """Poll every active review and X account once; one result each, in id order."""
    ids = await active_account_ids(ctx, PUBLIC_PROVIDERS)
    return await poll_each(
        ids, lambda account_id: poll_public_account(ctx, account_id), concurrency=POLL_CONCURRENCY
    )


async def poll_public_account(ctx: AppContext, account_id: int) -> PollResult:
    """Poll one active account once; its failure is in the result and the cursor."""
    account = await load_public_account(ctx, account_id)
    if account is None:
        raise NotFound(f"there is no active review or X channel account {account_id}")
    now = ctx.clock.now()
    if _resting(account.cursor, now):
        return PollResult(account.id, account.provider, skipped=True)
    poll = _Poll(account)
    error, rest_until = await _run(ctx, poll)
    await save_cursor(ctx, account.id, _cursor(poll, error, rest_until, now))
    _log(poll, error)
    return PollResult(
        account.id, account.provider, len(poll.items), poll.stored, poll.duplicates, error
    )


async def load_public_account(ctx: AppContext, account_id: int) -> PublicAccount | None:
    async with transaction(ctx) as session:
        row = await session.get(ChannelAccount, account_id)
        if row is None or row.provider not in PUBLIC_PROVIDERS or not row.is_active:
            return None
        return PublicAccount(
            row.id,
            row.provider,
            row.address,
            row.queue_id,
            dict(row.settings),
            row.secret,
            dict(row.cursor),
        )


def _resting(cursor: Mapping[str, Any], now: datetime) -> bool:
    raw = cursor.get("backoff_until")
    if not isinstance(raw, str):
        return False
    try:
        return now < datetime.fromisoformat(raw)
    except ValueError:
        return False


async def _run(ctx: AppContext, poll: _Poll) -> tuple[str | None, datetime | None]:
    """The poll's failure in words for an admin, and until when to rest after a rate
    limit. What was read before a failure is stored all the same."""
    try:
        async with asyncio.timeout(POLL_DEADLINE_SECONDS):
            failure = await _fetch(ctx, poll)
            await _store(ctx, poll)
    except TimeoutError:
        return f"the poll took over {POLL_DEADLINE_SECONDS:g} s; it goes on from there", None
    except Exception as exc:  # the database: read again next time
        log.exception("public_channel_not_stored", account_id=poll.account.id)
        return f"an item could not be stored ({type(exc).__name__}); it is read again", None
    poll.complete = failure is None
    return failure or (None, None)


async def _fetch(ctx: AppContext, poll: _Poll) -> tuple[str, datetime | None] | None:
    now = ctx.clock.now()
    try:
        await _read(ctx, poll, now)
    except Refused as exc:
        # A page token the provider no longer takes would fail every poll: drop it.
        kept_page = bool(_text(poll.account.cursor, "page"))
        poll.restart = kept_page and not (exc.error.retryable or isinstance(exc, CredentialRefused))
        rest = None
        if exc.error.status == 429:
            rest = exc.error.retry_at or now + RATE_LIMIT_BACKOFF
        return exc.error.describe(), rest if rest is not None and rest > now else None
    except OpenCXError as exc:  # an unreadable credential, settings or page
        return exc.detail, None
    return None


async def _read(ctx: AppContext, poll: _Poll, now: datetime) -> None:
    settings = ctx.settings.public_channels
    secret_key = ctx.settings.security.secret_key.get_secret_value()
    source = source_for(poll.account, settings, secret_key, now, store=AccountSecrets(ctx))
    cursor = poll.account.cursor
    since, page = _text(cursor, "since"), _text(cursor, "page")
    poll.newest = _text(cursor, "pending") if page else None
    async with http_client(ctx.http, timeout=settings.timeout_seconds) as http:
        calls = Authorized(source, http)
        for _ in range(MAX_PAGES):
            page = await _page(source, calls, since, page, poll)
            if page is None:
                break
    poll.next_page = page


async def _page(
    source: Source, calls: Authorized, since: str | None, page: str | None, poll: _Poll
) -> str | None:
    read = await calls.call(lambda token: source.page(calls.http, token, since=since, page=page))
    poll.items.extend(read.items)
    poll.newest = poll.newest or read.newest  # the first page holds the newest
    return read.next_page


async def _store(ctx: AppContext, poll: _Poll) -> None:
    for item in sorted(poll.items, key=oldest_first):
        threaded = await _with_thread(ctx, item)
        received = await receive(ctx, threaded, account=poll.account.provider)
        poll.count(received)


async def _with_thread(ctx: AppContext, item: InboundMessage) -> InboundMessage:
    """The stored messages this item belongs with, added to its ``thread_refs``: a
    Google Play review's earlier versions (``{reviewId}@…``); for an X post whose
    thread was read in another order (over several polls), a post of the same X
    conversation already stored."""
    async with transaction(ctx) as session:
        if item.provider == google_play.PROVIDER:
            found = await _earlier_versions(session, item)
        elif item.provider == x.PROVIDER:
            found = await _same_x_conversation(session, item)
        else:
            found = []
    refs = tuple(ref for ref in found if ref and ref not in item.thread_refs)
    return replace(item, thread_refs=item.thread_refs + refs) if refs else item


async def _earlier_versions(session: AsyncSession, item: InboundMessage) -> list[str | None]:
    review_id = str(item.metadata.get("review_id", ""))
    if not review_id:
        return []
    pattern = _escape_like(review_id) + "@%"
    return list(
        await session.scalars(
            select(Message.provider_message_id)
            .where(
                Message.channel == Channel.REVIEW,
                Message.provider_message_id.like(pattern, escape="\\"),
                Message.provider_message_id != item.provider_message_id,
            )
            .order_by(Message.id)
        )
    )


async def _same_x_conversation(session: AsyncSession, item: InboundMessage) -> list[str | None]:
    conversation_id = item.metadata.get("conversation_id")
    if not isinstance(conversation_id, str):
        return []
    stored = select(Message.id).where(
        Message.channel == Channel.TWITTER, Message.provider_message_id.in_(item.thread_refs)
    )
    if item.thread_refs and await session.scalar(stored.limit(1)) is not None:
        return []  # what it answers is there: threading needs nothing more
    return list(
        await session.scalars(
            select(Message.provider_message_id)
            .where(
                Message.channel == Channel.TWITTER,
                Message.direction == Direction.INBOUND,
                Message.metadata_["conversation_id"].as_string() == conversation_id,
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
    )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _cursor(
    poll: _Poll, error: str | None, rest_until: datetime | None, now: datetime
) -> dict[str, Any]:
    cursor = dict(poll.account.cursor)
    cursor["last_poll_at"] = now.isoformat()
    if poll.complete:
        cursor.update(_advanced(cursor, poll))
    elif poll.restart:
        cursor.update(page=None, pending=None)
    if error is None:
        for key in ("last_error", "last_error_at", "backoff_until"):
            cursor.pop(key, None)
    else:
        cursor.update(last_error=error[:1000], last_error_at=now.isoformat())
        if rest_until is not None:
            cursor["backoff_until"] = rest_until.isoformat()
    return {key: value for key, value in cursor.items() if value is not None}


def _advanced(cursor: dict[str, Any], poll: _Poll) -> dict[str, Any]:
    """Where the next poll starts: on, in an unfinished list; from the newest, after."""
    if poll.next_page is not None:
        return {"page": poll.next_page, "pending": poll.newest}
    return {"since": poll.newest or cursor.get("since"), "page": None, "pending": None}


def _text(cursor: Mapping[str, Any], key: str) -> str | None:
    value = cursor.get(key)
    return value if isinstance(value, str) and value else None


def _log(poll: _Poll, error: str | None) -> None:
    if error is not None:
        log.warning(
            "public_channel_poll_failed",
            account_id=poll.account.id,
            provider=poll.account.provider,
            error=error,
        )
    if poll.items:
        log.info(
            "public_channel_polled",
            account_id=poll.account.id,
            provider=poll.account.provider,
            fetched=len(poll.items),
            stored=poll.stored,
            duplicates=poll.duplicates,
        )
