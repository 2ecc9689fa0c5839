"""Sending what we write to customers, on every channel OpenCX sends itself.

Rules:
- the message row is the durable record: an outbound message is stored ``queued``
  when written, and sent by a job (deferred at once, and swept every minute, so a lost
  job only delays it);
- ``SENDERS`` is the one dispatch point from a channel to its sender: e-mail
  (``email``), SMS, WhatsApp, Messenger and Instagram through Twilio or Meta
  (``messaging``), review replies and X posts (``opencx.features.public_channels``). A channel
  missing from it keeps its messages queued;
- one attempt at a time: before talking to the provider a worker claims the message
  (``metadata["sending_since"]``, committed under the row lock) and the result
  releases the claim. Another worker, a repeated job or the sweep leaves a claimed
  message alone until the claim is older than ``claim_timeout`` (well beyond the
  longest attempt: the worker is presumed dead), and then tries again, counting the
  unfinished attempt;
- sending is at least once: a request that reached the provider but whose answer was
  lost (a timeout after the request left, a crash) is sent again. Twilio's Messages
  API and Meta's Graph API offer no idempotency key for these calls; an e-mail's
  Message-ID, derived from the row, makes a repeat read as one message;
- on success the provider's id for the message is stored (``provider_message_id``) so
  its status reports apply; a failure the provider calls temporary (no answer, rate
  limit, 5xx) is retried with backoff (30 s × 2^n) up to the provider's
  ``max_attempts``; one it calls final fails the message at once. A failed message
  keeps the reason, in the provider's words, in ``delivery_error``; each status change
  appends ``message.delivery_changed``;
- without the channel's provider configured nothing is attempted and messages wait,
  queued (a warning is logged each time the sweep finds one).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel, DeliveryStatus, Direction
from opencx.db.models import Message
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.messages import SEND_JOB
from opencx.features.delivery.email import EMAIL_SENDER, Acknowledging, acknowledge
from opencx.features.delivery.messaging import MESSAGING_SENDER
from opencx.features.delivery.senders import (
    ChannelSender,
    Delivered,
    Failed,
    Outcome,
    Waiting,
)
from opencx.features.delivery.statuses import set_delivery_status
from opencx.features.public_channels import PUBLIC_SENDER
from opencx.settings import Settings

__all__ = [
    "CLAIM",
    "SENDERS",
    "SEND_JOB",
    "Acknowledging",
    "acknowledge",
    "claim_timeout",
    "queued_message_ids",
    "send_queued_message",
]

log = structlog.get_logger(__name__)

#: The sender of each channel OpenCX sends itself (see the module docstring).
SENDERS: Mapping[Channel, ChannelSender] = {
    Channel.EMAIL: EMAIL_SENDER,
    Channel.SMS: MESSAGING_SENDER,
    Channel.WHATSAPP: MESSAGING_SENDER,
    Channel.MESSENGER: MESSAGING_SENDER,
    Channel.INSTAGRAM: MESSAGING_SENDER,
    Channel.REVIEW: PUBLIC_SENDER,
    Channel.TWITTER: PUBLIC_SENDER,
}
#: The metadata key of a claim: when the attempt began.
CLAIM = "sending_since"
_BACKOFF_SECONDS = 30.0
_MIN_CLAIM = timedelta(minutes=5)


async def send_queued_message(ctx: AppContext, message_id: int) -> bool:
    """Make one attempt at sending a queued message; ``True`` once the provider took it.

    Nothing happens to a message that is not queued, not due, claimed by another
    attempt, or on a channel whose provider is not configured.
    """
    claimed = await _claim(ctx, message_id)
    if claimed is None:
        return False
    sender, claim = claimed
    outcome = await sender.send(ctx, message_id)
    await _settle(ctx, message_id, claim, outcome)
    return isinstance(outcome, Delivered)


async def queued_message_ids(ctx: AppContext, *, limit: int = 100) -> list[int]:
    """Queued outbound messages whose next attempt is due and that no live attempt
    holds (the sweeper sends them), on the channels in ``SENDERS``."""
    now = ctx.clock.now()
    timeout = claim_timeout(ctx.settings)
    async with transaction(ctx) as session:
        rows = await session.scalars(
            select(Message)
            .where(
                Message.direction == Direction.OUTBOUND,
                Message.channel.in_(list(SENDERS)),
                Message.delivery_status == DeliveryStatus.QUEUED,
            )
            .order_by(Message.id)
            .limit(limit)
        )
        return [row.id for row in rows if _due(row, now) and not _held(row, now, timeout)]


def claim_timeout(settings: Settings) -> timedelta:
    """How old a claim must be before its attempt is presumed dead: at least five
    minutes, and four times the longest attempt any sender may take."""
    longest = max(sender.timeout_seconds(settings) for sender in SENDERS.values())
    return max(_MIN_CLAIM, timedelta(seconds=4 * longest))


async def _claim(ctx: AppContext, message_id: int) -> tuple[ChannelSender, str] | None:
    now = ctx.clock.now()
    async with transaction(ctx) as session:
        message = await session.get(Message, message_id, with_for_update=True)
        if (
            message is None
            or message.direction is not Direction.OUTBOUND
            or message.delivery_status is not DeliveryStatus.QUEUED
        ):
            return None
        sender = SENDERS.get(message.channel)
        if sender is None or not _due(message, now):
            return None
        if _held(message, now, claim_timeout(ctx.settings)):
            return None
        if not sender.ready(ctx.settings):
            log.warning(
                "message_not_sent_not_configured",
                message_id=message_id,
                channel=message.channel.value,
            )
            return None
        meta = dict(message.metadata_)
        if CLAIM in meta:  # a stale claim: that attempt never finished
            meta["attempts"] = str(_attempts(meta) + 1)
            meta["last_error"] = "an earlier attempt did not finish; sending again"
        claim = now.isoformat()
        meta[CLAIM] = claim
        message.metadata_ = meta
    return sender, claim


async def _settle(ctx: AppContext, message_id: int, claim: str, outcome: Outcome) -> None:
    async with transaction(ctx) as session:
        message = await session.get(Message, message_id, with_for_update=True)
        if message is None or message.delivery_status is not DeliveryStatus.QUEUED:
            return
        meta = dict(message.metadata_)
        if meta.get(CLAIM) != claim and not isinstance(outcome, Delivered):
            return  # presumed dead and taken over: the newer attempt decides
        meta.pop(CLAIM, None)
        if isinstance(outcome, Delivered):
            meta.pop("next_attempt_at", None)
            message.metadata_ = {**meta, **outcome.details}
            message.provider_message_id = outcome.provider_message_id
            await set_delivery_status(session, ctx, message, DeliveryStatus.SENT, error=None)
        elif isinstance(outcome, Waiting):
            message.metadata_ = meta
        else:
            await _failed_attempt(ctx, session, message, meta, outcome)


async def _failed_attempt(
    ctx: AppContext,
    session: AsyncSession,
    message: Message,
    meta: dict[str, str],
    failure: Failed,
) -> None:
    error = failure.error[:500]
    attempts = _attempts(meta) + 1
    meta.update(attempts=str(attempts), last_error=error)
    if not failure.retryable or attempts >= failure.max_attempts:
        meta.pop("next_attempt_at", None)
        message.metadata_ = meta
        await set_delivery_status(session, ctx, message, DeliveryStatus.FAILED, error=error)
        log.warning("message_send_failed", message_id=message.id, attempts=attempts, error=error)
        return
    delay = timedelta(seconds=_BACKOFF_SECONDS * 2 ** (attempts - 1))
    meta["next_attempt_at"] = (ctx.clock.now() + delay).isoformat()
    message.metadata_ = meta
    log.warning("message_send_retried", message_id=message.id, attempts=attempts, error=error)


def _attempts(meta: Mapping[str, str]) -> int:
    raw = meta.get("attempts", "0")
    return int(raw) if raw.isascii() and raw.isdigit() else 0


def _due(message: Message, now: datetime) -> bool:
    return _at_or_before(message.metadata_.get("next_attempt_at"), now, default=True)


def _held(message: Message, now: datetime, timeout: timedelta) -> bool:
    """Whether a live attempt holds the message (a claim younger than ``timeout``)."""
    raw = message.metadata_.get(CLAIM)
    return bool(raw) and not _at_or_before(raw, now - timeout, default=True)


def _at_or_before(raw: str | None, when: datetime, *, default: bool) -> bool:
    if not raw:
        return default
    try:
        return datetime.fromisoformat(raw) <= when
    except ValueError:
        return default
