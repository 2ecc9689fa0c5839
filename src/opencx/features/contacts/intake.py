"""Receiving what customers write, on any channel: one customer, one conversation, one
timeline, and routing.

Rules:
- what a channel adapter read (``InboundMessage``) is committed before the channel
  acknowledges it to the provider: the caller answers only after ``receive`` returns;
- a provider's id is stored once per channel: a retried or duplicated delivery returns
  the message already stored (``duplicate``) and changes nothing;
- the sender's identity finds the customer (created the first time); the message joins
  the conversation it answers (an e-mail's references, or the ticket token in its
  subject, ``subject_token``), else the customer's most recent open conversation seen
  within ``CONTINUE_WITHIN`` (on any channel off e-mail: a Messenger chat continued on
  WhatsApp is one conversation; for e-mail as the mailbox's threading rule says, by
  default only one with the same subject), else a new one. A resolved or closed
  conversation it answers reopens. An e-mail whose sender a trusted relay found forged
  joins no existing conversation (``opencx.core.mail_trust``);
- a message joins the conversation's live interaction on its channel; when there is
  none, a new inbound interaction is created and handed to routing;
- automatic messages (auto-replies, bounces) are stored but never start routing work;
- every distinct sender address is its own identity, normalised by its kind's one rule
  (``normalise_identity``: a phone number in E.164 where it parses, as given
  otherwise); an address that does not read as its kind becomes an external identity
  of its own, and only a message with no address at all is kept under one "Unknown
  sender" customer; both are flagged ``unknown_sender``, never refused;
- the raw bytes (an e-mail) are kept as an attachment ``original.eml``, so a message that
  could not be parsed is still there, flagged ``unparsed``;
- a file the provider holds (an MMS's ``MediaUrl``, a Messenger ``payload.url``, a
  WhatsApp media id) is stored with the message as a ``pending`` attachment, and a job
  deferred after the commit fetches it (``inbound_media``): never silently dropped;
- messages that arrive together are committed together (group commit): one writer per
  process stores what is waiting in one transaction, at most ``BATCH`` messages of
  distinct senders and provider ids, so that each costs a few statements instead of a
  dozen. The writer waits, at most ``GATHER`` seconds, for the messages that were
  already being prepared when it looked (an e-mail being parsed, its files going to the
  blob store: ``arriving``), so that they join its batch; a lone message waits for
  nothing. A batch that fails is stored again message by message, and each caller gets
  its own message's outcome: one bad message never fails or loses another.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import structlog
from sqlalchemy.exc import IntegrityError

from opencx.core.enums import Channel, IdentityKind
from opencx.core.errors import InvalidInput
from opencx.core.identities import MAX_IDENTITY_LENGTH
from opencx.features.contacts.mail_trust import authenticate
from opencx.features.contacts.media import defer_media_fetches
from opencx.features.contacts.store import CONTINUE_WITHIN, Incoming, Received, store
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.attachments import NewFile, PendingFile, store_file
from opencx.features.customers.identities import normalise_identity
from opencx.features.events.record import batched
from opencx.features.routing.commands import wake_router
from opencx.providers.base import InboundAttachment, InboundMessage

__all__ = ["BATCH", "CONTINUE_WITHIN", "Arrival", "Received", "arriving", "prepare", "receive"]

#: The most messages one intake transaction stores.
BATCH = 64
#: The longest the writer waits for messages already being prepared to join its batch.
GATHER = 0.01
#: Tries of a lone message's transaction when concurrent deliveries collide.
ATTEMPTS = 3
#: The customer that messages with no usable sender are kept under.
UNKNOWN_SENDER = "Unknown sender"
_INTAKE = "opencx.intake"

log = structlog.get_logger(__name__)


async def receive(
    ctx: AppContext,
    item: InboundMessage,
    *,
    raw: bytes | None = None,
    queue_id: int | None = None,
    account: str | None = None,
    arrival: Arrival | None = None,
) -> Received:
    """Store ``item`` (once) in its conversation and route it; return once it is
    committed. A message received for a channel account names the account's provider
    (``account``): the account at ``item.recipient`` is read in the message's
    transaction, its queue taking a new conversation (an address no active account
    has: the default queue, see ``store``). A caller with no account names the queue
    of a new conversation itself (``queue_id``: a chat widget's), or none. A caller
    that counted the message as arriving while it parsed it passes its ``arrival``."""
    intake = _intake(ctx)
    arrival = intake.arrive() if arrival is None else arrival
    try:
        incoming = await prepare(ctx, item, raw=raw, queue_id=queue_id, account=account)
    finally:
        arrival.end()
    received = await intake.submit(ctx, incoming)
    if received.task_id is not None:
        wake_router()
    if not received.duplicate and any(isinstance(f, PendingFile) for f in incoming.files):
        try:
            await defer_media_fetches(ctx, received.message_id)
        except Exception:  # the message is stored: the sweep fetches its files in a minute
            log.exception("media_fetch_not_deferred", message_id=received.message_id)
    return received


async def prepare(
    ctx: AppContext,
    item: InboundMessage,
    *,
    raw: bytes | None = None,
    queue_id: int | None = None,
    account: str | None = None,
) -> Incoming:
    """``item`` ready to store (``intake.store``): its sender authenticated (e-mail) and
    normalised, its files in the blob store or pending."""
    item = await authenticate(item, ctx.settings.email_auth, raw)
    kind, value, item = _identity(item)
    files = await _put_files(ctx, item.attachments, raw)
    return Incoming(
        item=item,
        kind=kind,
        value=value,
        display_name=item.sender.display_name or _display(kind),
        files=tuple(files),
        queue_id=queue_id,
        account=account,
    )


@contextlib.contextmanager
def arriving(ctx: AppContext) -> Iterator[Arrival]:
    """Count a message as on its way to intake from now (its parsing starts) until it is
    handed to ``receive`` (``arrival=``) or given up: intake's writer waits for it."""
    arrival = _intake(ctx).arrive()
    try:
        yield arrival
    finally:
        arrival.end()


@dataclass(slots=True)
class Arrival:
    """A message being prepared for intake, counted once until it ends."""

    intake: _Intake
    ended: bool = False

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            self.intake.prepared += 1
            self.intake.progress.set()


@dataclass(slots=True)
class _Waiting:
    incoming: Incoming
    future: asyncio.Future[Received]


@dataclass(slots=True)
class _Intake:
    """The messages waiting to be stored, and the writer storing them (running only
    while some wait), on one event loop."""

    loop: asyncio.AbstractEventLoop
    waiting: list[_Waiting] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None
    # arrivals that started and ended, and a signal of each end
    started: int = 0
    prepared: int = 0
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    def arrive(self) -> Arrival:
        self.started += 1
        return Arrival(self)

    async def submit(self, ctx: AppContext, incoming: Incoming) -> Received:
        waiting = _Waiting(incoming, self.loop.create_future())
        self.waiting.append(waiting)
        if self.writer is None:
            self.writer = self.loop.create_task(self._write(ctx))
        # The writer owns the message from here: a caller that stops waiting (a closed
        # connection) does not take it out of its batch.
        try:
            return await asyncio.shield(waiting.future)
        except asyncio.CancelledError:
            waiting.future.add_done_callback(_outcome_nobody_awaits)
            raise

    async def _write(self, ctx: AppContext) -> None:
        try:
            while self.waiting:
                await self._gather()
                batch = self._next_batch()
                try:
                    await _store_batch(ctx, batch)
                except BaseException as exc:  # cancelled: the process is stopping
                    _fail(batch, exc)
                    raise
        except BaseException as exc:
            _fail(self.waiting, exc)
            self.waiting.clear()
            raise
        finally:
            self.writer = None

    async def _gather(self) -> None:
        """Wait, up to ``GATHER``, until the messages being prepared now are waiting too
        (or failed): those that start later are not waited for."""
        expected = self.started
        deadline = self.loop.time() + GATHER
        while self.prepared < expected and len(self.waiting) < BATCH:
            self.progress.clear()
            try:
                async with asyncio.timeout_at(deadline):
                    await self.progress.wait()
            except TimeoutError:
                return

    def _next_batch(self) -> list[_Waiting]:
        """The oldest waiting messages, up to ``BATCH``, stopping before a second
        message of a sender, a second delivery of a provider id or an answer to a
        message of the batch: that one follows in the next batch and sees the first one
        stored."""
        senders: set[tuple[IdentityKind, str]] = set()
        ids: set[tuple[Channel, str]] = set()
        taken = 0
        for waiting in self.waiting[:BATCH]:
            sender = waiting.incoming.identity_key
            message = waiting.incoming.message_key
            channel = waiting.incoming.item.channel
            answered = {(channel, ref) for ref in waiting.incoming.item.thread_refs}
            if sender in senders or message in ids or answered & ids:
                break
            senders.add(sender)
            ids.add(message)
            taken += 1
        batch = self.waiting[:taken]
        del self.waiting[:taken]
        return batch


def _outcome_nobody_awaits(future: asyncio.Future[Received]) -> None:
    """Log the failure of a message whose caller stopped waiting (else asyncio reports
    an exception never retrieved)."""
    if not future.cancelled() and (exc := future.exception()) is not None:
        log.warning("intake_failed_after_caller_left", error=type(exc).__name__)


def _fail(waiting: list[_Waiting], exc: BaseException) -> None:
    for one in waiting:
        if one.future.done():
            continue
        if isinstance(exc, asyncio.CancelledError):
            one.future.cancel()
        else:
            one.future.set_exception(exc)


def _intake(ctx: AppContext) -> _Intake:
    loop = asyncio.get_running_loop()
    intake = ctx.local.get(_INTAKE)
    if not isinstance(intake, _Intake) or intake.loop is not loop:
        intake = ctx.local[_INTAKE] = _Intake(loop)
    return intake


async def _store_batch(ctx: AppContext, batch: list[_Waiting]) -> None:
    """Store ``batch`` in one transaction; when that fails, each message alone."""
    try:
        async with transaction(ctx) as session, batched(session, ctx):
            outcomes = await store(session, ctx, [w.incoming for w in batch])
    except Exception as exc:
        # Usually a race with another process (the same customer created there first);
        # stored one by one, each message gets its own outcome.
        log.warning("intake_batch_failed", size=len(batch), error=type(exc).__name__)
        for waiting in batch:
            try:
                outcome = await _store_alone(ctx, waiting.incoming)
            except Exception as exc:
                waiting.future.set_exception(exc)
            else:
                waiting.future.set_result(outcome)
        return
    for waiting, outcome in zip(batch, outcomes, strict=True):
        waiting.future.set_result(outcome)


async def _store_alone(ctx: AppContext, incoming: Incoming) -> Received:
    """One message in its own transaction (a batch of one). The unique indexes settle
    races with other processes: a try that collides rolls back and looks again."""
    for attempt in range(ATTEMPTS):
        try:
            async with transaction(ctx) as session, batched(session, ctx):
                (received,) = await store(session, ctx, [incoming])
                return received
        except IntegrityError:
            # A concurrent delivery stored the same message, or created the same
            # customer, first: everything rolled back; look again.
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _identity(item: InboundMessage) -> tuple[IdentityKind, str, InboundMessage]:
    """The sender's identity, normalised. An address that does not read as its kind (a
    damaged e-mail ``From``) is still its own identity, an external one named by the
    provider, the kind and the address as given; only a message with no address at
    all is kept under the one "unknown sender" customer. Both are flagged."""
    try:
        return item.sender.kind, normalise_identity(item.sender.kind, item.sender.value), item
    except InvalidInput:
        flagged = replace(item, flags=item.flags | {"unknown_sender"})
        address = "".join(ch for ch in item.sender.value.strip() if ch.isprintable())
        if not address:
            return IdentityKind.EXTERNAL, f"unknown-sender:{item.provider}", flagged
        handle = f"{item.provider}:{item.sender.kind.value}:{address}"
        return IdentityKind.EXTERNAL, handle[:MAX_IDENTITY_LENGTH], flagged


def _display(kind: IdentityKind) -> str | None:
    return UNKNOWN_SENDER if kind is IdentityKind.EXTERNAL else None


async def _put_files(
    ctx: AppContext, attachments: tuple[InboundAttachment, ...], raw: bytes | None
) -> list[NewFile]:
    """The bytes a payload carried go to the blob store now; a file the provider holds
    (a URL, a WhatsApp media id) is stored pending, fetched by a job after the commit."""
    files: list[NewFile] = []
    for a in attachments:
        if a.data:
            files.append(await store_file(ctx, a.filename, a.content_type, a.data, inline=a.inline))
        elif a.url or a.media_id:
            files.append(PendingFile.of(a.filename, a.content_type, a.url, a.media_id))
    if raw is not None:
        files.append(await store_file(ctx, "original.eml", "message/rfc822", raw, inline=False))
    return files
