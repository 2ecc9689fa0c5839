"""Polling existing mailboxes over IMAP: mail that arrives in a folder becomes messages in
conversations, exactly as mail handed to our SMTP server does.

Rules:
- every active channel account with provider ``imap`` is polled by ``poll_mailboxes``
  (the ``poll_imap_mailboxes`` job, every minute), at most ``POLL_CONCURRENCY`` at once
  and each within ``POLL_DEADLINE_SECONDS``; one failing mailbox never stops the others;
- a poll connects as the account's ``settings`` say (``tls``, ``starttls`` or ``none``,
  every command under ``IMAP_TIMEOUT_SECONDS``), logs in with the account's sealed
  ``secret``, selects its ``folder`` and reads at most ``POLL_BATCH`` messages, oldest
  (lowest UID) first;
- the account's ``cursor`` says which: the messages whose UID is above ``last_uid`` in
  the folder whose UIDVALIDITY is ``uidvalidity``. A new account, or a folder whose
  UIDVALIDITY changed (the server renumbered it), starts over from the folder's unseen
  messages (``unseen_only``) until they are all read: mail read before OpenCX took the
  mailbox over is never imported;
- each message is read with ``BODY.PEEK[]`` (nothing marks it read before it is
  stored), parsed off the event loop (``mail_parsing``), stored by ``receive``
  (committed), acknowledged when the account has ``auto_ack_hours``, then marked
  ``\\Seen`` and, when the account has a ``processed_folder``, moved there (the folder
  is created when missing); only then does the cursor move past it. A crash in between
  reads it again next time and ``receive`` stores it once: by its Message-ID or, when it has
  none, by the digest of its bytes (``parse_email``), which a renumbered folder does not
  change either;
- a message the parser cannot fully read is stored all the same, raw, flagged
  ``unparsed``; one that cannot be marked or moved is stored, the cursor moves on and
  the failure becomes the poll's error; one that cannot be stored (a database failure)
  ends the poll there, to be read again next time;
- a failure (connection, TLS, login, an unreadable credential, a missing folder) is
  logged, never with the password, and kept in the cursor as ``last_error`` and
  ``last_error_at``; a poll without one clears them; every poll sets ``last_poll_at``;
- the cursor column is the poller's alone, written by its own short UPDATE of that
  column (``updated_at`` untouched), so a poll and an admin's change of the account
  never overwrite each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import structlog
from pydantic import ValidationError

from opencx.core.errors import InvalidInput, NotFound, OpenCXError
from opencx.db.models import ChannelAccount
from opencx.features.contacts.intake import Received, arriving, receive
from opencx.features.context import AppContext, transaction
from opencx.features.delivery.outbox import Acknowledging, acknowledge
from opencx.features.directory.provider_settings import ImapAccountSettings, open_secret
from opencx.features.sources.imap_client import ImapMailbox, MailboxError
from opencx.features.sources.mail_parsing import parse_received
from opencx.features.sources.pollers import active_account_ids, poll_each, save_cursor

__all__ = [
    "IMAP_TIMEOUT_SECONDS",
    "POLL_BATCH",
    "POLL_CONCURRENCY",
    "POLL_DEADLINE_SECONDS",
    "PROVIDER",
    "PollResult",
    "Position",
    "poll_mailbox",
    "poll_mailboxes",
]

log = structlog.get_logger(__name__)

PROVIDER = "imap"
#: Messages read from one mailbox per poll; the rest wait for the next poll.
POLL_BATCH = 50
#: Mailboxes polled at the same time.
POLL_CONCURRENCY = 4
#: The longest one mailbox's poll may take; it resumes where it stopped next time.
POLL_DEADLINE_SECONDS = 120.0
#: The longest any one IMAP command (connecting included) may take.
IMAP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of one mailbox did: messages read, newly stored, already stored."""

    account_id: int
    address: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """Where the poller is in a folder: past ``last_uid`` of ``uidvalidity``."""

    uidvalidity: int | None = None
    last_uid: int = 0
    unseen_only: bool = True

    @classmethod
    def of(cls, cursor: Mapping[str, Any]) -> Position:
        uidvalidity, last_uid = cursor.get("uidvalidity"), cursor.get("last_uid")
        return cls(
            uidvalidity if isinstance(uidvalidity, int) else None,
            last_uid if isinstance(last_uid, int) else 0,
            cursor.get("unseen_only") is not False,
        )

    def in_folder(self, uidvalidity: int) -> Position:
        """The position in a folder with this UIDVALIDITY: another one starts over."""
        return self if uidvalidity == self.uidvalidity else Position(uidvalidity)

    def past(self, uid: int) -> Position:
        return replace(self, last_uid=max(self.last_uid, uid))

    def caught_up(self, uidnext: int | None) -> Position:
        """Every unseen message is read: from now on, whatever arrives after them."""
        if not self.unseen_only:
            return self
        ceiling = self.last_uid if uidnext is None else max(self.last_uid, uidnext - 1)
        return Position(self.uidvalidity, ceiling, unseen_only=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "uidvalidity": self.uidvalidity,
            "last_uid": self.last_uid,
            "unseen_only": self.unseen_only,
        }


@dataclass(frozen=True, slots=True)
class _Account:
    id: int
    address: str
    acknowledging: Acknowledging | None
    settings: Mapping[str, Any]
    secret: str | None
    cursor: Mapping[str, Any]


@dataclass(slots=True)
class _Poll:
    """One poll in progress."""

    account: _Account
    position: Position
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    filing_error: str | None = None

    def cursor(self) -> dict[str, Any]:
        return {**self.account.cursor, **self.position.to_json()}

    def count(self, received: Received) -> None:
        self.fetched += 1
        if received.duplicate:
            self.duplicates += 1
        else:
            self.stored += 1

    def result(self, error: str | None) -> PollResult:
        return PollResult(
            self.account.id,
            self.account.address,
            self.fetched,
            self.stored,
            self.duplicates,
            error,
        )


async def poll_mailboxes(ctx: AppContext) -> list[PollResult]:
    """Poll every active IMAP account once; one result per account, in id order."""
    ids = await active_account_ids(ctx, [PROVIDER])
    return await poll_each(
        ids, lambda account_id: poll_mailbox(ctx, account_id), concurrency=POLL_CONCURRENCY
    )


async def poll_mailbox(ctx: AppContext, account_id: int) -> PollResult:
    """Poll one active IMAP account once; its failure is in the result and the cursor."""
    account = await _load(ctx, account_id)
    if account is None:
        raise NotFound(f"there is no active imap channel account {account_id}")
    poll = _Poll(account, Position.of(account.cursor))
    error = await _run(ctx, poll)
    await _finish(ctx, poll, error)
    return poll.result(error)


async def _load(ctx: AppContext, account_id: int) -> _Account | None:
    async with transaction(ctx) as session:
        row = await session.get(ChannelAccount, account_id)
        if row is None or row.provider != PROVIDER or not row.is_active:
            return None
        return _Account(
            row.id,
            row.address,
            Acknowledging.of(row),
            dict(row.settings),
            row.secret,
            dict(row.cursor),
        )


async def _run(ctx: AppContext, poll: _Poll) -> str | None:
    """The poll's failure, if any, in words for an admin (never the password)."""
    try:
        async with asyncio.timeout(POLL_DEADLINE_SECONDS):
            await _poll(ctx, poll)
    except OpenCXError as exc:
        return exc.detail
    except TimeoutError:
        return f"the poll took over {POLL_DEADLINE_SECONDS:g} s; it goes on from there next time"
    except Exception as exc:  # the database: this message is read again next time
        log.exception("imap_message_not_stored", account_id=poll.account.id)
        return f"a message could not be stored ({type(exc).__name__}); it is read again next time"
    return poll.filing_error


async def _poll(ctx: AppContext, poll: _Poll) -> None:
    settings = _settings(poll.account)
    password = _password(ctx, poll.account)
    mailbox = await ImapMailbox.open(
        settings,
        password,
        socket_timeout=IMAP_TIMEOUT_SECONDS,
        allow_private=ctx.settings.network.allow_private_destinations,
    )
    try:
        await _read_folder(ctx, poll, mailbox, settings)
    finally:
        await mailbox.close()


def _settings(account: _Account) -> ImapAccountSettings:
    try:
        return ImapAccountSettings.model_validate(account.settings)
    except ValidationError as exc:
        reason = exc.errors()[0]
        where = ".".join(str(part) for part in reason["loc"])
        raise InvalidInput(
            f"the account's settings are invalid: {where}: {reason['msg']}", field="settings"
        ) from None


def _password(ctx: AppContext, account: _Account) -> str:
    if account.secret is None:
        raise InvalidInput("the account has no password: set its secret", field="secret")
    return open_secret(ctx.settings.security.secret_key.get_secret_value(), account.secret)


async def _read_folder(
    ctx: AppContext, poll: _Poll, mailbox: ImapMailbox, settings: ImapAccountSettings
) -> None:
    selected = await mailbox.select(settings.folder)
    position = poll.position.in_folder(selected.uidvalidity)
    if position.uidvalidity != poll.position.uidvalidity and poll.position.uidvalidity:
        log.info("imap_folder_renumbered", account_id=poll.account.id, folder=settings.folder)
    poll.position = position
    found = await mailbox.search(after_uid=position.last_uid, unseen_only=position.unseen_only)
    for uid in found[:POLL_BATCH]:
        await _take(ctx, poll, mailbox, uid, settings.processed_folder)
    if len(found) <= POLL_BATCH:
        poll.position = poll.position.caught_up(selected.uidnext)


async def _take(
    ctx: AppContext, poll: _Poll, mailbox: ImapMailbox, uid: int, processed: str | None
) -> None:
    """Store one message, then mark or move it, then move the cursor past it."""
    raw = await mailbox.fetch(uid)
    if raw:
        with arriving(ctx) as arrival:  # other mailboxes' messages wait for it
            item = await parse_received(ctx, raw, recipient=poll.account.address)
            item = replace(item, provider=PROVIDER)
            received = await receive(ctx, item, raw=raw, account=PROVIDER, arrival=arrival)
        poll.count(received)
        await _acknowledge(ctx, poll.account, received)
        await _file(poll, mailbox, uid, processed)
    else:  # gone since the search, or empty: nothing to store
        log.warning("imap_message_skipped", account_id=poll.account.id, uid=uid)
    poll.position = poll.position.past(uid)
    await save_cursor(ctx, poll.account.id, poll.cursor())


async def _acknowledge(ctx: AppContext, account: _Account, received: Received) -> None:
    if account.acknowledging is None:
        return
    try:
        await acknowledge(ctx, received, mailbox=account.acknowledging)
    except Exception:  # the message is stored: the acknowledgement is a courtesy
        log.exception("imap_acknowledgement_failed", message_id=received.message_id)


async def _file(poll: _Poll, mailbox: ImapMailbox, uid: int, processed: str | None) -> None:
    """Mark the stored message read, and move it away if asked; a refusal is the poll's
    error."""
    try:
        await mailbox.mark_seen(uid)
        if processed is not None:
            await mailbox.move(uid, processed)
    except MailboxError as exc:
        done = "marked read" if processed is None else f"moved to {processed!r}"
        poll.filing_error = f"message UID {uid} is stored but could not be {done}: {exc.detail}"
        log.warning("imap_message_not_filed", account_id=poll.account.id, uid=uid)


async def _finish(ctx: AppContext, poll: _Poll, error: str | None) -> None:
    now = ctx.clock.now().isoformat()
    cursor = {**poll.cursor(), "last_poll_at": now}
    if error is None:
        cursor.pop("last_error", None)
        cursor.pop("last_error_at", None)
    else:
        cursor.update(last_error=error, last_error_at=now)
        log.warning(
            "imap_poll_failed",
            account_id=poll.account.id,
            address=poll.account.address,
            error=error,
        )
    await save_cursor(ctx, poll.account.id, cursor)
    if poll.fetched:
        log.info(
            "imap_mailbox_polled",
            account_id=poll.account.id,
            fetched=poll.fetched,
            stored=poll.stored,
            duplicates=poll.duplicates,
        )
