"""Sending what we write to customers by e-mail: agents' answers and acknowledgements.

Rules:
- the message row is the durable record: an outbound e-mail is stored ``queued`` when
  written, and sent by a job (deferred at once, and swept every minute, so a lost
  job only delays it); sending is at least once, and the Message-ID is derived from
  the row (``opencx.<id>@<mailbox domain>``), so a repeat reads as one message in the
  customer's mail client;
- an answer goes to the customer's last e-mail in the conversation (its Reply-To, else
  its sender), from the mailbox that received it, threaded with In-Reply-To and
  References, and with the conversation's ``[#id]`` token in the subject;
- a failure is retried with exponential backoff up to ``smtp_out.max_attempts``, then
  the message is ``failed`` with the server's answer, which the agent sees; without a
  relay configured nothing is attempted and messages wait, queued;
- a new e-mail contact (one that starts routed work) on a mailbox with
  ``auto_ack_hours`` gets one automatic acknowledgement (``Auto-Submitted:
  auto-replied``) stating that delay; an automatic message never gets one, so two
  robots cannot loop.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.channels.email.composing import Mailbox, compose_acknowledgement, compose_reply
from opencx.core.enums import AuthorKind, Channel, DeliveryStatus, Direction
from opencx.core.events import EventType
from opencx.db.models import Conversation, Message
from opencx.features.channels.inbound import Received
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import record_conversation_event
from opencx.features.conversations.messages import SEND_JOB
from opencx.features.directory.channel_accounts import find_account

__all__ = [
    "SEND_JOB",
    "acknowledge",
    "queued_email_ids",
    "send_email",
]

log = structlog.get_logger(__name__)

_BACKOFF_SECONDS = 30.0


async def acknowledge(ctx: AppContext, received: Received, *, mailbox: str) -> int | None:
    """Queue the acknowledgement of a new e-mail conversation; its message id, if any."""
    async with transaction(ctx) as session:
        account = await find_account(session, provider="smtp", address=mailbox)
        if account is None or not account.auto_ack_hours:
            return None
        inbound = await session.get(Message, received.message_id)
        conversation = await session.get(Conversation, received.conversation_id)
        if inbound is None or conversation is None:
            return None
        if "flags" in inbound.metadata_ and (
            {"auto_submitted", "bounce"} & set(inbound.metadata_["flags"].split(","))
        ):
            return None
        text = compose_acknowledgement(
            Mailbox(account.address, account.name),
            to=inbound.metadata_.get("sender", ""),
            subject=conversation.subject,
            conversation_id=conversation.id,
            message_id_part="draft",
            sent_at=ctx.clock.now(),
            hours=account.auto_ack_hours,
            locale=account.locale,
        ).get_content()
        message = Message(
            conversation_id=conversation.id,
            interaction_id=inbound.interaction_id,
            channel=Channel.EMAIL,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.SYSTEM,
            body_text=str(text).strip(),
            delivery_status=DeliveryStatus.QUEUED,
            metadata_={"automatic": "true", "mailbox": account.address},
            created_at=ctx.clock.now(),
        )
        session.add(message)
        await session.flush()
        await record_conversation_event(
            session,
            ctx,
            EventType.MESSAGE_CREATED,
            conversation,
            actor_user_id=None,
            payload={
                "channel": "email",
                "direction": "outbound",
                "author_kind": "system",
                "interaction_id": message.interaction_id,
            },
            entity_kind="message",
            entity_id=message.id,
        )
        message_id = message.id
    await ctx.jobs.defer(SEND_JOB, {"message_id": message_id}, queueing_lock=f"send:{message_id}")
    return message_id


async def queued_email_ids(ctx: AppContext, *, limit: int = 100) -> list[int]:
    """Queued outbound e-mails whose next attempt is due (the sweeper sends them)."""
    now = ctx.clock.now()
    async with transaction(ctx) as session:
        rows = await session.scalars(
            select(Message)
            .where(
                Message.direction == Direction.OUTBOUND,
                Message.channel == Channel.EMAIL,
                Message.delivery_status == DeliveryStatus.QUEUED,
            )
            .order_by(Message.id)
            .limit(limit)
        )
        return [row.id for row in rows if _due(row, now)]


async def send_email(ctx: AppContext, message_id: int) -> bool:
    """Send one queued e-mail; ``True`` once the relay accepted it."""
    settings = ctx.settings.smtp_out
    if settings.host is None:
        log.warning("email_not_sent_no_relay", message_id=message_id)
        return False
    email = await _compose(ctx, message_id)
    if email is None:
        return False
    if isinstance(email, str):
        await _give_up(ctx, message_id, email)
        return False
    try:
        await aiosmtplib.send(
            email,
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password.get_secret_value() if settings.password else None,
            start_tls=settings.starttls and not settings.tls,
            use_tls=settings.tls,
            timeout=settings.timeout_seconds,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        await _failed_attempt(ctx, message_id, str(exc))
        return False
    await _sent(ctx, message_id, str(email["Message-ID"]).strip().strip("<>"))
    return True


async def _compose(ctx: AppContext, message_id: int) -> EmailMessage | str | None:
    """The e-mail to send; a reason when it can never be sent; ``None``: nothing to do."""
    async with transaction(ctx) as session:
        message = await session.get(Message, message_id)
        if (
            message is None
            or message.direction is not Direction.OUTBOUND
            or message.channel is not Channel.EMAIL
            or message.delivery_status is not DeliveryStatus.QUEUED
        ):
            return None
        conversation = await session.get(Conversation, message.conversation_id)
        assert conversation is not None
        last = await session.scalar(
            select(Message)
            .where(
                Message.conversation_id == conversation.id,
                Message.channel == Channel.EMAIL,
                Message.direction == Direction.INBOUND,
                Message.id < message.id,
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        if last is None:
            return "no e-mail from the customer to answer in this conversation"
        meta = last.metadata_
        to = meta.get("reply_to", "").split(" ")[0] or meta.get("sender", "")
        address = message.metadata_.get("mailbox") or meta.get("recipient", "")
        account = await find_account(session, provider="smtp", address=address)
        if account is None:
            return f"no mailbox {address!r} to send from"
        references = [r for r in meta.get("references", "").split(" ") if r]
        return compose_reply(
            Mailbox(account.address, account.name),
            to=to,
            subject=conversation.subject or meta.get("subject"),
            conversation_id=conversation.id,
            message_id_part=f"opencx.{message.id}",
            sent_at=ctx.clock.now(),
            text=message.body_text,
            html=message.body_html,
            in_reply_to=last.provider_message_id,
            references=references,
            automatic=message.metadata_.get("automatic") == "true",
        )


async def _sent(ctx: AppContext, message_id: int, provider_id: str) -> None:
    async with transaction(ctx) as session:
        message = await session.get(Message, message_id, with_for_update=True)
        if message is None or message.delivery_status is not DeliveryStatus.QUEUED:
            return
        message.provider_message_id = provider_id
        await _set_status(ctx, session, message, DeliveryStatus.SENT, None)


async def _failed_attempt(ctx: AppContext, message_id: int, error: str) -> None:
    async with transaction(ctx) as session:
        message = await session.get(Message, message_id, with_for_update=True)
        if message is None or message.delivery_status is not DeliveryStatus.QUEUED:
            return
        attempts = int(message.metadata_.get("attempts", "0")) + 1
        meta = dict(message.metadata_, attempts=str(attempts), last_error=error[:500])
        if attempts >= ctx.settings.smtp_out.max_attempts:
            message.metadata_ = meta
            await _set_status(ctx, session, message, DeliveryStatus.FAILED, error[:500])
            return
        delay = timedelta(seconds=_BACKOFF_SECONDS * 2 ** (attempts - 1))
        meta["next_attempt_at"] = (ctx.clock.now() + delay).isoformat()
        message.metadata_ = meta
    log.warning("email_send_failed", message_id=message_id, attempts=attempts, error=error)


async def _give_up(ctx: AppContext, message_id: int, reason: str) -> None:
    async with transaction(ctx) as session:
        stored = await session.get(Message, message_id, with_for_update=True)
        if stored is not None and stored.delivery_status is DeliveryStatus.QUEUED:
            await _set_status(ctx, session, stored, DeliveryStatus.FAILED, reason)


async def _set_status(
    ctx: AppContext,
    session: AsyncSession,
    message: Message,
    status: DeliveryStatus,
    error: str | None,
) -> None:
    previous = message.delivery_status
    message.delivery_status = status
    message.delivery_error = error
    conversation = await session.get(Conversation, message.conversation_id)
    assert conversation is not None
    await record_conversation_event(
        session,
        ctx,
        EventType.MESSAGE_DELIVERY_CHANGED,
        conversation,
        actor_user_id=None,
        payload={"status": status.value, "previous": previous.value, "error": error},
        entity_kind="message",
        entity_id=message.id,
    )


def _due(message: Message, now: datetime) -> bool:
    raw = message.metadata_.get("next_attempt_at")
    if not raw:
        return True
    try:
        return datetime.fromisoformat(raw) <= now
    except ValueError:
        return True
