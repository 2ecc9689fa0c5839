"""Web chat visitors: starting a chat, writing in it, files, receipts and typing.

Rules:
- a chat starts from the pre-chat form (name, e-mail, what it is about) and is one
  inbound message through the inbound service, like every channel's, routed to the
  widget's queue; the visitor is a web visitor of their own until they prove the
  e-mail address they gave with the code sent there (``verification``): only then does
  the chat join that address's customer and history;
- the visitor then holds a signed token naming their chat, kept by their browser so a
  reload or a lost connection resumes the same chat; a token is good for
  ``TOKEN_DAYS`` days and only ever shows the chat's own messages;
- each message the visitor writes carries an id of the browser's making, so a message
  resent after a lost connection is stored once;
- when nobody can chat (the widget is offline) and the widget has an offline mailbox,
  the form becomes an e-mail conversation in that mailbox's queue: agents answer it by
  e-mail;
- receipts (``delivered`` when the browser has a message, ``read`` when the visitor saw
  it) only move our messages forward, as providers' receipts do;
- typing is not stored: it is published to whoever watches the conversation, at most
  once every ``TYPING_EVERY`` seconds per chat.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import EmailStr, Field
from sqlalchemy import select

from opencx.core.enums import Channel, DeliveryStatus, Direction, IdentityKind
from opencx.core.errors import InvalidInput, NotFound, Unauthenticated
from opencx.core.events import DomainEvent, EventType
from opencx.db.models import Conversation, Message
from opencx.features.chat.widgets import PROVIDER, Widget, availability, load_widget
from opencx.features.common import InputSchema, Schema
from opencx.features.contacts.intake import Received, receive
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.attachments import (
    AttachmentContent,
    attachment_and_message,
    content_of,
)
from opencx.features.delivery.statuses import set_delivery_status
from opencx.features.directory.channel_accounts import find_mailbox
from opencx.providers.base import SIMULATED_FLAG, InboundAttachment, InboundMessage, Sender

__all__ = [
    "MAX_UPLOAD_BYTES",
    "TOKEN_DAYS",
    "ChatStart",
    "ChatStarted",
    "VisitorChat",
    "chat_token",
    "mark_messages",
    "open_chat",
    "post_visitor_file",
    "post_visitor_message",
    "publish_typing",
    "read_visitor_file",
    "start_chat",
]

TOKEN_DAYS = 30
TYPING_EVERY = 2.0
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
_SALT = "opencx.chat.visitor"
_CLIENT_ID = r"^[A-Za-z0-9_-]{1,64}$"


class ChatStart(InputSchema):
    """The pre-chat form."""

    name: str = Field(min_length=1, max_length=120)
    email: EmailStr | None = None
    intent: str = Field(min_length=1, max_length=2000)
    page_url: str | None = Field(default=None, max_length=2000)
    locale: str | None = Field(default=None, max_length=16)


class ChatStarted(Schema):
    """A chat, or (``mode`` ``email``) a message left for an answer by e-mail."""

    mode: str
    token: str | None
    conversation_id: int


@dataclass(frozen=True, slots=True)
class VisitorChat:
    """What a visitor's token names: their chat and where it began."""

    widget_key: str
    session: str
    conversation_id: int
    customer_id: int
    first_message_id: int
    name: str
    email: str | None
    #: The visitor proved ``email`` is theirs (``opencx.features.chat.verification``);
    #: until then the chat is a web visitor's of its own, whatever address it gave.
    verified: bool = False
    #: A simulated visitor of the demo (``opencx demo``): their messages say so.
    simulated: bool = False

    @property
    def flags(self) -> frozenset[str]:
        return frozenset({SIMULATED_FLAG}) if self.simulated else frozenset()

    @property
    def sender(self) -> Sender:
        if self.email and self.verified:
            return Sender(IdentityKind.EMAIL, self.email, self.name)
        return Sender(IdentityKind.WEB, f"chat:{self.session}", self.name)

    @property
    def start_id(self) -> str:
        return f"chat:{self.session}:start"


def _serializer(ctx: AppContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.security.secret_key.get_secret_value(), salt=_SALT)


def chat_token(ctx: AppContext, chat: VisitorChat) -> str:
    """The signed token naming ``chat``, kept by the visitor's browser."""
    return _serializer(ctx).dumps(
        [
            chat.widget_key,
            chat.session,
            chat.conversation_id,
            chat.customer_id,
            chat.first_message_id,
            chat.name,
            chat.email,
            chat.verified,
            chat.simulated,
        ]
    )


def open_chat(ctx: AppContext, token: str | None) -> VisitorChat:
    """The chat a visitor's token names; ``Unauthenticated`` when it is forged or old."""
    if not token:
        raise Unauthenticated("this chat needs its token")
    try:
        fields: Any = _serializer(ctx).loads(token, max_age=TOKEN_DAYS * 24 * 3600)
        return VisitorChat(*fields)
    except SignatureExpired:
        raise Unauthenticated("this chat is too old: start a new one") from None
    except (BadSignature, TypeError, ValueError):
        raise Unauthenticated("this chat token is not valid") from None


async def start_chat(
    ctx: AppContext, key: str, form: ChatStart, *, origin: str | None, simulated: bool = False
) -> ChatStarted:
    """The visitor's first message (``simulated``: the demo's simulation writes it)."""
    async with transaction(ctx) as session:
        widget = await load_widget(session, key, origin=origin)
        online, _ = await availability(session, widget, ctx.clock.now())
        mailbox = None
        if not online and widget.settings.offline_mailbox:
            mailbox = await find_mailbox(session, widget.settings.offline_mailbox)
    if mailbox is not None:
        if form.email is None:
            raise InvalidInput(
                "nobody can chat now: an e-mail address is needed to answer", field="email"
            )
        received = await _leave_email(
            ctx, form, mailbox.address, mailbox.queue_id, simulated=simulated
        )
        return ChatStarted(mode="email", token=None, conversation_id=received.conversation_id)
    chat_session = uuid.uuid4().hex
    email = form.email.lower() if form.email else None
    # An address typed in a form proves nothing: the chat joins that customer's history
    # only once the visitor shows the code sent there.
    sender = Sender(IdentityKind.WEB, f"chat:{chat_session}", form.name)
    received = await receive(
        ctx,
        InboundMessage(
            channel=Channel.CHAT,
            provider=PROVIDER,
            provider_message_id=f"chat:{chat_session}:start",
            sender=sender,
            recipient=widget.key,
            text=form.intent,
            subject=_subject(form.intent),
            sent_at=ctx.clock.now(),
            flags=frozenset({SIMULATED_FLAG}) if simulated else frozenset(),
            metadata=_start_metadata(widget, form, chat_session, email),
        ),
        queue_id=widget.queue_id,
    )
    chat = VisitorChat(
        widget_key=widget.key,
        session=chat_session,
        conversation_id=received.conversation_id,
        customer_id=received.customer_id,
        first_message_id=received.message_id,
        name=form.name,
        email=email,
        simulated=simulated,
    )
    return ChatStarted(
        mode="chat", token=chat_token(ctx, chat), conversation_id=received.conversation_id
    )


def _subject(intent: str) -> str:
    first = intent.strip().splitlines()[0] if intent.strip() else ""
    return first[:120]


def _start_metadata(
    widget: Widget, form: ChatStart, chat_session: str, email: str | None
) -> dict[str, str]:
    metadata = {"widget": widget.key, "chat_session": chat_session}
    if email:
        metadata |= {"email": email, "email_verified": "false"}
    if form.page_url:
        metadata["page_url"] = form.page_url
    if form.locale:
        metadata["locale"] = form.locale
    return metadata


async def _leave_email(
    ctx: AppContext, form: ChatStart, mailbox: str, queue_id: int | None, *, simulated: bool
) -> Received:
    """The offline form, as an e-mail the mailbox received: answered by e-mail."""
    assert form.email is not None
    domain = mailbox.rpartition("@")[2]
    return await receive(
        ctx,
        InboundMessage(
            channel=Channel.EMAIL,
            provider=PROVIDER,
            provider_message_id=f"opencx.chat.{uuid.uuid4().hex}@{domain}",
            sender=Sender(IdentityKind.EMAIL, form.email.lower(), form.name),
            recipient=mailbox,
            text=form.intent,
            subject=_subject(form.intent),
            sent_at=ctx.clock.now(),
            flags=frozenset({SIMULATED_FLAG}) if simulated else frozenset(),
            metadata={
                "sender": form.email.lower(),
                "recipient": mailbox,
                "subject": _subject(form.intent),
                **({"page_url": form.page_url} if form.page_url else {}),
                "via": "chat_offline",
            },
        ),
        queue_id=queue_id,
    )


async def post_visitor_message(
    ctx: AppContext, chat: VisitorChat, *, text: str, client_id: str
) -> Received:
    """Store what the visitor wrote (once per ``client_id``) in their chat."""
    body = text.strip()
    if not body:
        raise InvalidInput("a message needs some text", field="text")
    if len(body) > 10_000:
        raise InvalidInput("a chat message holds at most 10,000 characters", field="text")
    return await receive(ctx, _visitor_item(ctx, chat, client_id, text=body))


async def post_visitor_file(
    ctx: AppContext,
    chat: VisitorChat,
    *,
    filename: str,
    content_type: str,
    data: bytes,
    client_id: str,
) -> Received:
    if not data:
        raise InvalidInput("the file is empty", field="file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput("a file holds at most 10 MB", field="file")
    attachment = InboundAttachment(
        filename=filename or "file", content_type=content_type, data=data
    )
    item = _visitor_item(ctx, chat, client_id, text=filename or "file")
    return await receive(ctx, replace(item, attachments=(attachment,)))


async def read_visitor_file(
    ctx: AppContext, chat: VisitorChat, attachment_id: int
) -> AttachmentContent:
    """A file of the visitor's chat (theirs, or one an agent sent them); any other
    attachment does not exist for them."""
    async with transaction(ctx) as session:
        found = await attachment_and_message(session, attachment_id)
    if found is None:
        raise NotFound(f"file {attachment_id} does not exist")
    attachment, message = found
    if (
        message.conversation_id != chat.conversation_id
        or message.channel is not Channel.CHAT
        or message.id < chat.first_message_id
    ):
        raise NotFound(f"file {attachment_id} does not exist")
    return await content_of(ctx, attachment)


def _visitor_item(
    ctx: AppContext, chat: VisitorChat, client_id: str, *, text: str
) -> InboundMessage:
    _check_client_id(client_id)
    return InboundMessage(
        channel=Channel.CHAT,
        provider=PROVIDER,
        provider_message_id=f"chat:{chat.session}:{client_id}",
        sender=chat.sender,
        recipient=chat.widget_key,
        text=text,
        sent_at=ctx.clock.now(),
        thread_refs=(chat.start_id,),
        flags=chat.flags,
        metadata={"widget": chat.widget_key, "chat_session": chat.session},
    )


def _check_client_id(client_id: str) -> None:
    if re.fullmatch(_CLIENT_ID, client_id) is None:
        raise InvalidInput("client_id: 1 to 64 letters, digits, '-' or '_'", field="client_id")


_FORWARD = {
    DeliveryStatus.DELIVERED: (DeliveryStatus.QUEUED, DeliveryStatus.SENT),
    DeliveryStatus.READ: (DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED),
}


async def mark_messages(
    ctx: AppContext, chat: VisitorChat, *, up_to: int, status: DeliveryStatus
) -> int:
    """Move our chat messages up to ``up_to`` forward to ``status``; how many moved."""
    behind = _FORWARD.get(status)
    if behind is None:
        raise InvalidInput("a receipt is 'delivered' or 'read'", field="status")
    async with transaction(ctx) as session:
        conversation = await session.get(Conversation, chat.conversation_id)
        if conversation is None:
            return 0
        rows = (
            await session.scalars(
                select(Message).where(
                    Message.conversation_id == chat.conversation_id,
                    Message.channel == Channel.CHAT,
                    Message.direction == Direction.OUTBOUND,
                    Message.id >= chat.first_message_id,
                    Message.id <= up_to,
                    Message.delivery_status.in_(behind),
                )
            )
        ).all()
        for message in rows:
            await set_delivery_status(session, ctx, message, status)
        return len(rows)


async def publish_typing(
    ctx: AppContext, conversation_id: int, *, who: str, name: str, user_id: int | None = None
) -> None:
    """Tell whoever watches the conversation that someone is typing (not stored)."""
    await ctx.publisher.publish(
        [
            DomainEvent(
                type=EventType.CHAT_TYPING,
                entity_kind="conversation",
                entity_id=conversation_id,
                occurred_at=ctx.clock.now(),
                payload={"conversation_id": conversation_id, "who": who, "name": name},
                actor_user_id=user_id,
            )
        ]
    )
