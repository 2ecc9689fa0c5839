"""E-mail answers and acknowledgements, sent through the relay (``smtp_out``).

Rules:
- an answer (and an acknowledgement) answers the customer's last e-mail in the
  conversation, from the mailbox that received it, threaded with In-Reply-To and
  References, and with the conversation's ``[#id]`` token in the subject; it goes to an
  address the conversation's customer is confirmed by (its Reply-To when confirmed, else
  its sender when confirmed, else the customer's first confirmed address:
  ``opencx.core.mail_trust.answer_address``), never to one a message merely named;
- once sent, the message keeps the addresses it went ``from`` and ``to`` and its
  ``subject`` in its metadata, as the other channels' senders keep theirs;
- the Message-ID is derived from the row (``opencx.<id>@<mailbox domain>``), so a
  repeat reads as one message in the customer's mail client;
- a message we start rather than answer (a chat transcript) names its recipient and
  mailbox in its metadata (``to``, ``mailbox``) and carries the token all the same;
- a relay's refusal or silence is retried (``smtp_out.max_attempts``); an answer with
  no customer e-mail to reply to, or no mailbox to send from, fails at once; without a
  relay configured nothing is attempted, unless a local outbox is (``smtp_out.outbox``):
  each e-mail is then written there whole, as ``<message id>.eml``, and counts as sent;
- the message's files go as MIME parts; an ``inline`` one is an image the HTML body
  shows as ``cid:attachment-<id>``;
- a new e-mail contact (one that starts routed work) on a mailbox with
  ``auto_ack_hours`` gets one automatic acknowledgement (``Auto-Submitted:
  auto-replied``) stating that delay; an automatic message never gets one, so two
  robots cannot loop.
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path

import aiosmtplib
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.channels.email.composing import (
    Mailbox,
    OutboundAttachment,
    compose_acknowledgement,
    compose_reply,
)
from opencx.core.enums import AuthorKind, Channel, DeliveryStatus, Direction
from opencx.core.events import EventType
from opencx.core.mail_trust import answer_address
from opencx.db.models import Attachment, Conversation, Message
from opencx.features.channels.inbound import Received
from opencx.features.channels.outbound_base import (
    ChannelSender,
    Delivered,
    Failed,
    Outcome,
    Waiting,
)
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import record_conversation_event
from opencx.features.conversations.messages import SEND_JOB
from opencx.features.customers.identities import confirmed_emails
from opencx.features.directory.channel_accounts import find_mailbox

__all__ = ["EMAIL_SENDER", "acknowledge", "queue_system_email", "send_email"]


async def acknowledge(ctx: AppContext, received: Received, *, mailbox: str) -> int | None:
    """Queue the acknowledgement of a new e-mail conversation; its message id, if any."""
    async with transaction(ctx) as session:
        account = await find_mailbox(session, mailbox)
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
        message_id = await queue_system_email(
            session,
            ctx,
            conversation,
            body=str(text).strip(),
            metadata={"automatic": "true", "mailbox": account.address},
            interaction_id=inbound.interaction_id,
        )
    await ctx.jobs.defer(SEND_JOB, {"message_id": message_id}, queueing_lock=f"send:{message_id}")
    return message_id


async def queue_system_email(
    session: AsyncSession,
    ctx: AppContext,
    conversation: Conversation,
    *,
    body: str,
    metadata: dict[str, str],
    interaction_id: int | None = None,
) -> int:
    """Store an e-mail we write ourselves (an acknowledgement, a transcript) ``queued``,
    with its event; the caller defers ``SEND_JOB`` once the transaction is committed."""
    message = Message(
        conversation_id=conversation.id,
        interaction_id=interaction_id,
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.SYSTEM,
        body_text=body,
        delivery_status=DeliveryStatus.QUEUED,
        metadata_=metadata,
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
            "interaction_id": interaction_id,
        },
        entity_kind="message",
        entity_id=message.id,
    )
    return message.id


async def send_email(ctx: AppContext, message_id: int) -> Outcome:
    """One attempt at sending a queued e-mail through the relay (or to the outbox)."""
    settings = ctx.settings.smtp_out
    if settings.host is None and settings.outbox is None:
        return Waiting("no relay configured: set OPENCX_SMTP_OUT__HOST")
    email = await _compose(ctx, message_id)
    if not isinstance(email, EmailMessage):
        return email
    if settings.host is None:
        assert settings.outbox is not None
        try:
            await asyncio.to_thread(_write_to_outbox, settings.outbox, message_id, email)
        except OSError as exc:
            return Failed(f"the outbox cannot be written: {exc}", retryable=True, max_attempts=3)
        return _delivered(email)
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
        error = str(exc) or type(exc).__name__
        return Failed(error, retryable=True, max_attempts=settings.max_attempts)
    return _delivered(email)


def _delivered(email: EmailMessage) -> Delivered:
    """The Message-ID, and what the message resource shows of the e-mail as it left:
    the addresses it went from and to, and its own subject."""
    return Delivered(
        str(email["Message-ID"]).strip().strip("<>"),
        {
            "from": parseaddr(str(email["From"]))[1],
            "to": ", ".join(address for _name, address in getaddresses(email.get_all("To", []))),
            "subject": str(email["Subject"] or ""),
        },
    )


def _write_to_outbox(folder: Path, message_id: int, email: EmailMessage) -> None:
    """The whole e-mail as it would leave, renamed into place so a reader never sees
    half a file; a repeated attempt writes the same file again."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{message_id}.eml"
    partial = folder / f".{message_id}.eml.part"
    partial.write_bytes(email.as_bytes())
    partial.replace(final)


#: E-mail in the outbound queue's ``SENDERS``.
EMAIL_SENDER = ChannelSender(
    name="email",
    ready=lambda settings: (
        settings.smtp_out.host is not None or settings.smtp_out.outbox is not None
    ),
    timeout_seconds=lambda settings: settings.smtp_out.timeout_seconds,
    send=send_email,
)


async def _compose(ctx: AppContext, message_id: int) -> EmailMessage | Failed | Waiting:
    """The e-mail to send, or why there is none."""
    async with transaction(ctx) as session:
        message = await session.get(Message, message_id)
        if (
            message is None
            or message.channel is not Channel.EMAIL
            or message.delivery_status is not DeliveryStatus.QUEUED
        ):
            return Waiting("the message is no longer queued")
        conversation = await session.get(Conversation, message.conversation_id)
        assert conversation is not None
        if message.metadata_.get("to"):
            return await _compose_addressed(ctx, session, message, conversation)
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
            return Failed("no e-mail from the customer to answer in this conversation")
        meta = last.metadata_
        to = answer_address(
            reply_to=meta.get("reply_to", "").split(),
            sender=meta.get("sender", ""),
            confirmed=await confirmed_emails(session, conversation.customer_id),
        )
        if to is None:
            return Failed("the customer has no confirmed e-mail address to answer")
        address = message.metadata_.get("mailbox") or meta.get("recipient", "")
        account = await find_mailbox(session, address)
        if account is None:
            return Failed(f"no mailbox {address!r} to send from")
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
            attachments=await _files(ctx, session, message.id),
            automatic=message.metadata_.get("automatic") == "true",
        )


async def _compose_addressed(
    ctx: AppContext, session: AsyncSession, message: Message, conversation: Conversation
) -> EmailMessage | Failed:
    """A message we start rather than answer (a chat transcript): to its ``to``, from its
    ``mailbox``, with the conversation's token so a reply still finds the conversation."""
    address = message.metadata_.get("mailbox", "")
    account = await find_mailbox(session, address)
    if account is None:
        return Failed(f"no mailbox {address!r} to send from")
    return compose_reply(
        Mailbox(account.address, account.name),
        to=message.metadata_["to"],
        subject=message.metadata_.get("subject") or conversation.subject,
        conversation_id=conversation.id,
        message_id_part=f"opencx.{message.id}",
        sent_at=ctx.clock.now(),
        text=message.body_text,
        html=message.body_html,
        attachments=await _files(ctx, session, message.id),
        automatic=message.metadata_.get("automatic") == "true",
    )


async def _files(
    ctx: AppContext, session: AsyncSession, message_id: int
) -> list[OutboundAttachment]:
    rows = await session.scalars(
        select(Attachment).where(Attachment.message_id == message_id).order_by(Attachment.id)
    )
    return [
        OutboundAttachment(
            filename=row.filename,
            content_type=row.content_type,
            data=await ctx.blobs.get(row.storage_key),
            content_id=f"attachment-{row.id}" if row.inline else None,
        )
        for row in rows
    ]
