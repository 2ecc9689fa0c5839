"""E-mail answers and acknowledgements, sent through the relay (``smtp_out``).

Rules:
- an answer (and an acknowledgement) answers the customer's last e-mail in the
  conversation, from the mailbox that received it, threaded with In-Reply-To and
  References, and with the conversation's ``[#id]`` token in the subject; it goes to an
  address the conversation's customer is confirmed by (its Reply-To when confirmed, else
  its sender when confirmed, else the customer's first confirmed address:
  ``opencx.core.mail_trust.answer_address``), never to one a message merely named. All
  of it is read from that e-mail's reply route as intake stored it
  (``opencx.core.reply_routes``), never re-parsed; an e-mail stored before routes were
  kept is read from the strings its metadata kept then;
- once sent, the message keeps the addresses it went ``from`` and ``to`` and its
  ``subject`` in its metadata, as the other channels' senders keep theirs;
- the Message-ID is derived from the row (``opencx.<id>@<mailbox domain>``), so a
  repeat reads as one message in the customer's mail client;
- a message we start rather than answer (a chat transcript) names its recipient and
  mailbox in its metadata (``to``, ``mailbox``) and carries the token all the same;
- an agent's e-mail in a conversation the customer never wrote in by e-mail (a chat,
  a call, continued by e-mail) is a first e-mail: to the customer's first confirmed
  address, from the mailbox this conversation last wrote from (a chat's code or
  transcript mailbox), else the only active mailbox of the conversation's site, else
  the only active mailbox; with none, or several to choose from, it fails and says so;
- a relay's refusal or silence is retried (``smtp_out.max_attempts``); an answer with
  no customer e-mail to reply to, or no mailbox to send from, fails at once; without a
  relay configured nothing is attempted, unless a local outbox is (``smtp_out.outbox``):
  each e-mail is then written there whole, as ``<message id>.eml``, and counts as sent;
- the addresses an agent copied in (metadata ``cc``) go in the Cc header and receive
  it; those sent a blind copy (``bcc``) receive it from the relay without any header
  naming them (the local outbox's file names none either);
- the message's files go as MIME parts; an ``inline`` one is an image the HTML body
  shows as ``cid:attachment-<id>``;
- a new e-mail contact (one that starts routed work) on a mailbox with
  ``auto_ack_hours`` gets one automatic acknowledgement (``Auto-Submitted:
  auto-replied``) stating that delay; an automatic message never gets one, so two
  robots cannot loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import AuthorKind, Channel, DeliveryStatus, Direction
from opencx.core.events import EventType
from opencx.core.reply_routes import ReplyRoute
from opencx.db.models import Attachment, ChannelAccount, Conversation, Message, Queue
from opencx.features.contacts.store import Received
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import ConversationRef, record_conversation_event
from opencx.features.conversations.messages import SEND_JOB
from opencx.features.customers.identities import confirmed_emails
from opencx.features.delivery.senders import (
    ChannelSender,
    Delivered,
    Failed,
    Outcome,
    Waiting,
)
from opencx.features.directory.channel_accounts import MAILBOX_PROVIDERS, find_mailbox
from opencx.features.ports import MailNotSent
from opencx.providers.email.composing import (
    Mailbox,
    OutboundAttachment,
    acknowledgement_text,
    compose_reply,
)

__all__ = [
    "EMAIL_SENDER",
    "Acknowledging",
    "acknowledge",
    "queue_system_email",
    "reply_route",
    "send_email",
]


@dataclass(frozen=True, slots=True)
class Acknowledging:
    """A mailbox that acknowledges new contacts (``auto_ack_hours``), as the channel
    that received a message read it: all its acknowledgement needs of it."""

    address: str
    name: str
    hours: int
    locale: str

    @classmethod
    def of(cls, account: ChannelAccount) -> Acknowledging | None:
        """``account``'s acknowledgement, if it sends one."""
        if not account.auto_ack_hours:
            return None
        return cls(account.address, account.name, account.auto_ack_hours, account.locale)


@dataclass(frozen=True, slots=True)
class _ConversationRef:
    id: int
    site_id: int | None


async def acknowledge(ctx: AppContext, received: Received, *, mailbox: Acknowledging) -> int | None:
    """Queue the acknowledgement of a new e-mail contact (one that started routed work:
    an automatic message never does); its message id, if any. Threaded and addressed
    from the contact's reply route when sent, as any answer."""
    if received.task_id is None or received.duplicate:
        return None
    text = acknowledgement_text(
        Mailbox(mailbox.address, mailbox.name),
        conversation_id=received.conversation_id,
        hours=mailbox.hours,
        locale=mailbox.locale,
    )
    async with transaction(ctx) as session:
        message_id = await queue_system_email(
            session,
            ctx,
            _ConversationRef(received.conversation_id, received.site_id),
            body=text.strip(),
            metadata={"automatic": "true", "mailbox": mailbox.address},
            interaction_id=received.interaction_id,
        )
    await ctx.jobs.defer(SEND_JOB, {"message_id": message_id}, queueing_lock=f"send:{message_id}")
    return message_id


async def queue_system_email(
    session: AsyncSession,
    ctx: AppContext,
    conversation: ConversationRef,
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
        await ctx.mail.send(email, recipients=await _recipients(ctx, message_id, email))
    except MailNotSent as exc:
        return Failed(exc.reason, retryable=True, max_attempts=settings.max_attempts)
    return _delivered(email)


def _copied(message: Message, key: str) -> list[str]:
    """The addresses in the message's ``cc`` or ``bcc``, as ``post_message`` kept them."""
    return [a.strip() for a in message.metadata_.get(key, "").split(",") if a.strip()]


async def _recipients(ctx: AppContext, message_id: int, email: EmailMessage) -> list[str] | None:
    """Everyone the relay delivers to when there are blind copies, which no header
    names; ``None`` lets the headers say (To and Cc)."""
    async with transaction(ctx) as session:
        message = await session.get(Message, message_id)
        blind = _copied(message, "bcc") if message is not None else []
    if not blind:
        return None
    named = getaddresses([*email.get_all("To", []), *email.get_all("Cc", [])])
    return list(dict.fromkeys([*(address for _name, address in named if address), *blind]))


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
            return await _compose_first(ctx, session, message, conversation)
        route = reply_route(last)
        to = route.answer_to(await confirmed_emails(session, conversation.customer_id))
        if to is None:
            return Failed("the customer has no confirmed e-mail address to answer")
        account = await _sending_mailbox(session, message, route)
        if account is None:
            address = message.metadata_.get("mailbox") or route.mailbox or ""
            return Failed(f"no mailbox {address!r} to send from")
        return compose_reply(
            Mailbox(account.address, account.name),
            to=to,
            subject=conversation.subject or route.subject,
            conversation_id=conversation.id,
            message_id_part=f"opencx.{message.id}",
            sent_at=ctx.clock.now(),
            text=message.body_text,
            html=message.body_html,
            in_reply_to=route.in_reply_to,
            references=route.references,
            cc=_copied(message, "cc"),
            attachments=await _files(ctx, session, message.id),
            automatic=message.metadata_.get("automatic") == "true",
        )


async def _compose_first(
    ctx: AppContext, session: AsyncSession, message: Message, conversation: Conversation
) -> EmailMessage | Failed:
    """An agent's first e-mail in a conversation that came another way: to the
    customer's confirmed address, with the token so the answer finds the conversation."""
    addresses = await confirmed_emails(session, conversation.customer_id)
    if not addresses:
        return Failed("the customer has no confirmed e-mail address to write to")
    account = await _first_mailbox(session, message, conversation)
    if account is None:
        return Failed(
            "no mailbox to write from: this conversation has not written by e-mail yet, "
            "and its site has no single active mailbox"
        )
    return compose_reply(
        Mailbox(account.address, account.name),
        to=addresses[0],
        subject=conversation.subject,
        conversation_id=conversation.id,
        message_id_part=f"opencx.{message.id}",
        sent_at=ctx.clock.now(),
        text=message.body_text,
        html=message.body_html,
        cc=_copied(message, "cc"),
        attachments=await _files(ctx, session, message.id),
        answering=False,
    )


async def _first_mailbox(
    session: AsyncSession, message: Message, conversation: Conversation
) -> ChannelAccount | None:
    named = message.metadata_.get("mailbox")
    if named:
        return await find_mailbox(session, named)
    earlier = await session.scalar(
        select(Message.metadata_)
        .where(
            Message.conversation_id == conversation.id,
            Message.channel == Channel.EMAIL,
            Message.direction == Direction.OUTBOUND,
            Message.id < message.id,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    for key in ("mailbox", "from"):
        address = (earlier or {}).get(key)
        if address:
            account = await find_mailbox(session, address)
            if account is not None:
                return account
    # A mailbox's site is its queue's.
    rows = (
        await session.execute(
            select(ChannelAccount, Queue.site_id)
            .outerjoin(Queue, Queue.id == ChannelAccount.queue_id)
            .where(
                ChannelAccount.provider.in_(MAILBOX_PROVIDERS),
                ChannelAccount.is_active.is_(True),
            )
        )
    ).all()
    mailboxes = [account for account, _site in rows]
    on_site = [
        account
        for account, site_id in rows
        if site_id is not None and site_id == conversation.site_id
    ]
    for candidates in (on_site, mailboxes):
        if len(candidates) == 1:
            return candidates[0]
    return None


async def _sending_mailbox(
    session: AsyncSession, message: Message, route: ReplyRoute
) -> ChannelAccount | None:
    """The mailbox an answer leaves from: the one the message names (an
    acknowledgement's), else the one that received the customer's e-mail, while it is
    active."""
    named = message.metadata_.get("mailbox")
    if named:
        return await find_mailbox(session, named)
    if route.account_id is not None:
        account = await session.get(ChannelAccount, route.account_id)
        if account is not None and account.is_active and account.provider in MAILBOX_PROVIDERS:
            return account
    return await find_mailbox(session, route.mailbox) if route.mailbox else None


def reply_route(message: Message) -> ReplyRoute:
    """The reply route of a received message, as intake stored it; for one stored
    before routes were kept, read from the strings its metadata kept then."""
    if message.reply_route is not None:
        return ReplyRoute.of_json(message.reply_route)
    meta = message.metadata_
    return ReplyRoute(
        channel=message.channel,
        account_id=None,
        mailbox=meta.get("recipient") or None,
        sender=meta.get("sender", ""),
        reply_to=tuple(meta.get("reply_to", "").split()),
        references=(
            *meta.get("references", "").split(),
            *([message.provider_message_id] if message.provider_message_id else []),
        ),
        subject=meta.get("subject") or None,
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
        cc=_copied(message, "cc"),
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
