"""Messages: one unit of content in a conversation, with its author and attachments.

Channels deliver at least once, so a message carrying the provider's own id is stored
once per ``(channel, provider_message_id)``: posting it again answers the message
already stored (``created`` is false) instead of adding a second row.

An outbound message on a channel OpenCX sends itself (``SENDABLE``) is stored
``queued`` and handed to the sending job (``opencx.features.delivery.outbox``). On
WhatsApp, Messenger and Instagram a free-form one is refused (409) once the customer's
24-hour window is closed (``reply_windows``); a WhatsApp ``template`` (an approved
template: name, language, body parameters) goes out whatever the window, and is kept
in the message's metadata as ``template``, ``template_language`` and
``template_params`` (a JSON list of strings). Where the customer's last WhatsApp
message came through Twilio, a template is refused (422) unless it is named by its
Content SID and carries no file, as Twilio would refuse it.

Integrators find a message by the provider's id for it (``find_messages``): an e-mail's
Message-ID (with or without its angle brackets), a Twilio SID, a wamid; only on the
conversations the caller sees. A message says where it came from and went to
(``sender``, ``recipient``: the customer's address and ours, as the channel names them)
and, for e-mail, its own ``subject``: inbound, as received; outbound, as sent.

An agent's e-mail may be written in light markup (``body_format: "markup"``,
``opencx.core.rich_text``): the server makes its HTML and plain-text parts from it. HTML
a client sends for an outbound message (``body_html``) is rebuilt from an allow-list
before it is stored or sent. An outbound e-mail may copy others in (``cc``, ``bcc``: up
to 20 addresses each), kept in its metadata as ``cc`` and ``bcc`` (comma-separated) and
read back on the message as lists.

A template message naming a template of the catalog of the account it goes through
(``answer_templates``) must fill each of its placeholders; an empty ``body_text`` then
becomes the template's body filled in.

Files go out with a message when it names them in ``attachment_ids``: files uploaded to
the same conversation beforehand and not yet part of another message. They join the
message in the transaction that stores it, so the sending job and the chat visitor
never see the message without them. An outbound message's files must fit its channel
(``opencx.core.outbound_files``); where the provider downloads them (SMS, WhatsApp,
Messenger, Instagram) the server needs its public address (``server.public_url``).

Some automatic e-mails carry words meant for their recipient alone: the code that proves
a chat visitor's address (metadata ``kind`` in ``WITHHELD_KINDS``). Whoever reads one
but an admin reads it without its body (``as_read_by``: ``body_text`` empty,
``body_html`` none, ``metadata.withheld`` set), so an agent cannot pass the code on or
verify an address for the visitor.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, EmailStr, Field, model_validator
from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import AuthorKind, Channel, DeliveryStatus, Direction, Role
from opencx.core.errors import Conflict, InvalidInput, NotFound
from opencx.core.events import EventType
from opencx.core.media import AttachmentStatus
from opencx.core.outbound_files import OutboundFile, fetched_by_provider, file_refusal
from opencx.core.permissions import Permission, Principal, message_permission, require
from opencx.db.models import Attachment, Conversation, Interaction, Message
from opencx.features.common import Page, Schema, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import (
    conversation_visibility,
    ensure_open,
    load_conversation,
    record_conversation_event,
)
from opencx.features.conversations.activity import counts_as_activity
from opencx.features.conversations.answer_content import answer_bodies, copies, template_text
from opencx.features.conversations.reply_windows import answering_provider, check_reply_window
from opencx.features.conversations.snoozes import wake_on_customer_message
from opencx.features.customers.schemas import InputSchema, RefId
from opencx.features.search import add_conversation_texts, message_text
from opencx.providers import twilio

__all__ = [
    "CODE_EMAIL_KIND",
    "MAX_COPIES",
    "SENDABLE",
    "SEND_JOB",
    "WITHHELD_KINDS",
    "AttachmentOut",
    "BodyFormat",
    "MessageCreate",
    "MessageOut",
    "TemplateIn",
    "as_read_by",
    "find_messages",
    "get_message",
    "list_messages",
    "load_message",
    "post_message",
]

_OUTBOUND_AUTHORS = frozenset({AuthorKind.AGENT, AuthorKind.BOT})
#: Channels whose outbound messages OpenCX sends itself; each has its sender in
#: ``opencx.features.delivery.outbox.SENDERS`` (the others stay queued).
SENDABLE = frozenset(
    {
        Channel.EMAIL,
        Channel.SMS,
        Channel.WHATSAPP,
        Channel.MESSENGER,
        Channel.INSTAGRAM,
        Channel.REVIEW,
        Channel.TWITTER,
    }
)
#: The job that sends a queued message (``opencx.jobs.channels``).
SEND_JOB = "send_message"
#: The most addresses an e-mail copies in, in ``cc`` and in ``bcc`` each.
MAX_COPIES = 20

#: ``text``: ``body_text`` is sent as written; ``markup``: it is light markup, from
#: which the server makes the e-mail's HTML and text parts (outbound e-mail only).
BodyFormat = Literal["text", "markup"]


class TemplateIn(InputSchema):
    """An approved WhatsApp template. Through Meta: its ``name`` and ``language`` code
    (``fr``, ``en_US``); through Twilio: its Content SID (``HX…``) as ``name`` (the
    language is the content's own). ``parameters`` fill the body's placeholders in
    order ({{1}}, {{2}}…)."""

    name: str = Field(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9_]+$")
    language: str = Field(min_length=2, max_length=16, pattern=r"^[a-z]{2,3}(_[A-Za-z0-9]{2,8})?$")
    parameters: list[str] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _parameters_are_short(self) -> TemplateIn:
        if any(not value or len(value) > 1024 for value in self.parameters):
            raise ValueError("each template parameter is 1 to 1024 characters")
        return self


class MessageCreate(InputSchema):
    """Customers write inbound; agents and bots outbound; the system either way. An
    agent message is authored by the caller. Only a channel integration
    (``channels.ingest``, admins) writes inbound, customer or system messages or sets
    ``provider_message_id``: agents and supervisors get 403. ``template`` sends an approved WhatsApp
    template (outbound WhatsApp only), allowed outside the 24-hour window; its one file,
    if any, is the template's media header."""

    body_text: str = Field(default="", max_length=100_000)
    body_html: str | None = Field(default=None, max_length=500_000)
    channel: Channel
    direction: Direction
    author_kind: AuthorKind
    interaction_id: RefId | None = None
    provider_message_id: str | None = Field(default=None, min_length=1, max_length=255)
    template: TemplateIn | None = None
    body_format: BodyFormat = "text"
    #: Outbound e-mail only: addresses copied in, openly (``cc``) or not (``bcc``).
    cc: list[EmailStr] = Field(default_factory=list, max_length=MAX_COPIES)
    bcc: list[EmailStr] = Field(default_factory=list, max_length=MAX_COPIES)
    #: Files uploaded to the conversation (``POST /conversations/{id}/attachments``)
    #: that this message carries.
    attachment_ids: list[RefId] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _author_matches_direction(self) -> MessageCreate:
        if self.author_kind is AuthorKind.CUSTOMER and self.direction is not Direction.INBOUND:
            raise ValueError("a customer's message is inbound")
        if self.author_kind in _OUTBOUND_AUTHORS and self.direction is not Direction.OUTBOUND:
            raise ValueError(f"a message by a {self.author_kind.value} is outbound")
        if self.template is not None and (
            self.channel is not Channel.WHATSAPP or self.direction is not Direction.OUTBOUND
        ):
            raise ValueError("a template is for outbound WhatsApp messages only")
        if len(set(self.attachment_ids)) != len(self.attachment_ids):
            raise ValueError("attachment_ids names a file twice")
        email_out = self.channel is Channel.EMAIL and self.direction is Direction.OUTBOUND
        if (self.cc or self.bcc) and not email_out:
            raise ValueError("cc and bcc are for outbound e-mail only")
        if self.body_format == "markup" and not email_out:
            raise ValueError("body_format markup is for outbound e-mail only")
        if self.body_format == "markup" and self.body_html is not None:
            raise ValueError("body_format markup makes the HTML: send body_text only")
        return self


class AttachmentOut(Schema):
    id: int
    conversation_id: int
    message_id: int | None  # None: uploaded, not yet part of a message
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool
    created_at: datetime
    # ``pending``: the provider holds the file and it is being fetched (size 0 until
    # then); ``failed``: it could not be had, ``failure_reason`` says why.
    status: AttachmentStatus = AttachmentStatus.STORED
    failure_reason: str | None = None


class MessageOut(Schema):
    id: int
    conversation_id: int
    interaction_id: int | None
    channel: Channel
    direction: Direction
    author_kind: AuthorKind
    author_user_id: int | None
    body_text: str
    body_html: str | None
    provider_message_id: str | None
    delivery_status: DeliveryStatus
    delivery_error: str | None
    metadata: dict[str, str] = Field(
        default_factory=dict, validation_alias=AliasChoices("metadata_", "metadata")
    )
    created_at: datetime
    attachments: list[AttachmentOut] = Field(default_factory=list)
    #: Where it came from and went to, as the channel names them (an e-mail address, a
    #: phone number, a page-scoped id); ``None`` where the channel does not say.
    sender: str | None = None
    recipient: str | None = None
    #: An e-mail's own subject, which may differ from its conversation's.
    subject: str | None = None
    #: An e-mail's sender authentication as a trusted relay recorded it (``pass``,
    #: ``fail``: the sender is forged, ``none``: nothing proven); ``None`` off e-mail.
    sender_authentication: str | None = None
    #: Reply-To addresses the message named that its customer is not confirmed by:
    #: answers do not go there until an agent confirms one.
    unconfirmed_reply_to: list[str] = Field(default_factory=list)
    #: An e-mail's copies: addresses in its Cc header, and those sent a blind copy.
    cc: list[str] = Field(default_factory=list)
    bcc: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _from_metadata(self) -> MessageOut:
        sender, recipient = message_addresses(self.direction, self.metadata)
        self.sender = self.sender or sender
        self.recipient = self.recipient or recipient
        self.subject = self.subject or self.metadata.get("subject") or None
        if self.direction is Direction.INBOUND:
            self.sender_authentication = self.metadata.get("authentication")
            self.unconfirmed_reply_to = self.metadata.get("reply_to_unconfirmed", "").split()
        self.cc = self.cc or _addresses(self.metadata.get("cc", ""))
        self.bcc = self.bcc or _addresses(self.metadata.get("bcc", ""))
        return self


def _addresses(joined: str) -> list[str]:
    return [address.strip() for address in joined.split(",") if address.strip()]


#: The ``kind`` of the e-mail carrying the code that proves a chat visitor's address.
CODE_EMAIL_KIND = "chat_email_check"
#: Automatic e-mails whose body only their recipient and admins read.
WITHHELD_KINDS = frozenset({CODE_EMAIL_KIND})


def as_read_by(principal: Principal, message: MessageOut) -> MessageOut:
    """``message`` as ``principal`` may read it: a ``WITHHELD_KINDS`` e-mail without its
    body unless they are an admin; ``metadata.withheld`` says it was withheld."""
    if principal.role is Role.ADMIN or message.metadata.get("kind") not in WITHHELD_KINDS:
        return message
    metadata = {**message.metadata, "withheld": "body"}
    return message.model_copy(update={"body_text": "", "body_html": None, "metadata": metadata})


def message_addresses(
    direction: Direction, metadata: dict[str, str]
) -> tuple[str | None, str | None]:
    """``(sender, recipient)`` from what the channel stored: an inbound message keeps
    ``sender`` and ``recipient``; a sent one ``from`` and ``to``."""
    if direction is Direction.INBOUND:
        return metadata.get("sender") or None, metadata.get("recipient") or None
    return metadata.get("from") or None, metadata.get("to") or None


async def post_message(
    ctx: AppContext, principal: Principal, conversation_id: int, data: MessageCreate
) -> tuple[MessageOut, bool]:
    """``(message, created)``; a repeated provider id returns the stored message."""
    require(principal, Permission.CONVERSATIONS_WRITE)
    require(
        principal,
        message_permission(
            direction=data.direction,
            author=data.author_kind,
            provider_id=data.provider_message_id is not None,
        ),
    )
    existing = await _existing(ctx, principal, conversation_id, data)
    if existing is not None:
        return existing, False
    try:
        message = await _insert(ctx, principal, conversation_id, data)
    except IntegrityError:
        # Only the (channel, provider_message_id) index can refuse the row: another
        # request stored the same provider message meanwhile.
        existing = await _existing(ctx, principal, conversation_id, data)
        if existing is None:
            raise
        return existing, False
    if message.delivery_status is DeliveryStatus.QUEUED and message.channel in SENDABLE:
        # The row is the durable record; the job only makes the send immediate.
        await ctx.jobs.defer(
            SEND_JOB, {"message_id": message.id}, queueing_lock=f"send:{message.id}"
        )
    return message, True


async def get_message(ctx: AppContext, principal: Principal, message_id: int) -> MessageOut:
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        message, _ = await load_message(session, principal, message_id)
        out = (await with_attachments(session, [MessageOut.model_validate(message)]))[0]
        return as_read_by(principal, out)


async def list_messages(
    ctx: AppContext,
    principal: Principal,
    conversation_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[MessageOut]:
    """Oldest first, with their attachments' metadata."""
    require(principal, Permission.CONVERSATIONS_READ)
    stmt = select(Message).where(Message.conversation_id == conversation_id)
    async with transaction(ctx) as session:
        await load_conversation(session, principal, conversation_id)
        return await _page_of(session, principal, stmt, cursor=cursor, limit=limit)


async def find_messages(
    ctx: AppContext,
    principal: Principal,
    *,
    provider_message_id: str,
    channel: Channel | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[MessageOut]:
    """The messages stored under the provider's id for them (one per channel at most),
    on the conversations the caller sees."""
    require(principal, Permission.CONVERSATIONS_READ)
    wanted = provider_message_id.strip()
    if wanted.startswith("<") and wanted.endswith(">"):  # a Message-ID as headers write it
        wanted = wanted[1:-1].strip()
    stmt = (
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.provider_message_id == wanted)
    )
    if channel is not None:
        stmt = stmt.where(Message.channel == channel)
    visible = conversation_visibility(principal)
    if visible is not None:
        stmt = stmt.where(visible)
    async with transaction(ctx) as session:
        return await _page_of(session, principal, stmt, cursor=cursor, limit=limit)


async def _page_of(
    session: AsyncSession,
    principal: Principal,
    stmt: Select[Message],
    *,
    cursor: str | None,
    limit: int,
) -> Page[MessageOut]:
    """A page of ``stmt``'s messages, oldest first, with their attachments' metadata, as
    ``principal`` may read them."""
    page = await paginate(
        session,
        stmt,
        id_column=Message.id,
        cursor=cursor,
        limit=limit,
        to_out=MessageOut.model_validate,
    )
    page.items = [as_read_by(principal, m) for m in await with_attachments(session, page.items)]
    return page


async def load_message(
    session: AsyncSession, principal: Principal, message_id: int
) -> tuple[Message, Conversation]:
    """The message and its conversation; hidden with the conversation's site."""
    message = await session.get(Message, message_id)
    if message is not None:
        conversation = await session.get(Conversation, message.conversation_id)
        if conversation is not None and principal.sees_site(conversation.site_id):
            return message, conversation
    raise NotFound(f"message {message_id} does not exist")


async def with_attachments(
    session: AsyncSession, messages: Sequence[MessageOut]
) -> list[MessageOut]:
    ids = [message.id for message in messages]
    rows = await session.scalars(
        select(Attachment).where(Attachment.message_id.in_(ids)).order_by(Attachment.id)
    )
    by_message: dict[int | None, list[AttachmentOut]] = {}
    for row in rows:
        by_message.setdefault(row.message_id, []).append(AttachmentOut.model_validate(row))
    return [m.model_copy(update={"attachments": by_message.get(m.id, [])}) for m in messages]


async def _existing(
    ctx: AppContext, principal: Principal, conversation_id: int, data: MessageCreate
) -> MessageOut | None:
    if data.provider_message_id is None:
        return None
    async with transaction(ctx) as session:
        await load_conversation(session, principal, conversation_id)
        message = await session.scalar(
            select(Message).where(
                Message.channel == data.channel,
                Message.provider_message_id == data.provider_message_id,
            )
        )
        if message is None:
            return None
        if message.conversation_id != conversation_id:
            raise Conflict(
                f"provider message {data.provider_message_id!r} on {data.channel.value} is "
                "already stored in another conversation",
                field="provider_message_id",
            )
        return (await with_attachments(session, [MessageOut.model_validate(message)]))[0]


async def _insert(
    ctx: AppContext, principal: Principal, conversation_id: int, data: MessageCreate
) -> MessageOut:
    async with transaction(ctx) as session:
        conversation = await load_conversation(session, principal, conversation_id)
        ensure_open(conversation)
        if data.interaction_id is not None:
            await _check_interaction(session, conversation, data)
        inbound = data.direction is Direction.INBOUND
        if not inbound and data.template is None and data.channel in SENDABLE:
            await check_reply_window(
                session,
                conversation.id,
                data.channel,
                now=ctx.clock.now(),
                human_agent=data.author_kind is AuthorKind.AGENT
                and ctx.settings.meta.human_agent_tag,
            )
        body_text, body_html = answer_bodies(data)
        if not inbound and data.template is not None:
            await _check_template_route(session, conversation.id, data)
            body_text = await template_text(session, conversation.id, data.template, body_text)
        message = Message(
            **data.model_dump(exclude=_NOT_COLUMNS),
            body_text=body_text,
            body_html=body_html,
            conversation_id=conversation.id,
            author_user_id=principal.user_id if data.author_kind is AuthorKind.AGENT else None,
            delivery_status=DeliveryStatus.RECEIVED if inbound else DeliveryStatus.QUEUED,
            metadata_={**_template_metadata(data.template), **copies(data)},
            created_at=ctx.clock.now(),
        )
        session.add(message)
        await session.flush()
        files = await _claim_files(session, ctx, conversation.id, message, data.attachment_ids)
        conversation.updated_at = ctx.clock.now()
        await _note_in_inbox(session, ctx, conversation, message)
        await record_conversation_event(
            session,
            ctx,
            EventType.MESSAGE_CREATED,
            conversation,
            actor_user_id=principal.user_id,
            payload={
                "channel": message.channel.value,
                "direction": message.direction.value,
                "author_kind": message.author_kind.value,
                "interaction_id": message.interaction_id,
            },
            entity_kind="message",
            entity_id=message.id,
        )
        return MessageOut.model_validate(message).model_copy(update={"attachments": files})


async def _note_in_inbox(
    session: AsyncSession, ctx: AppContext, conversation: Conversation, message: Message
) -> None:
    """What the inbox reads of a new message: its words (searched), the conversation's
    last activity, and its end of snooze when the customer wrote."""
    if not counts_as_activity(message.author_kind):
        return
    conversation.last_activity_at = message.created_at
    subject = message.metadata_.get("subject")
    text = message_text(message.body_text, message.body_html, subject)
    await add_conversation_texts(session, [(conversation.id, text)])
    if message.author_kind is AuthorKind.CUSTOMER and conversation.snoozed_until is not None:
        await wake_on_customer_message(session, ctx, [conversation])


async def _claim_files(
    session: AsyncSession,
    ctx: AppContext,
    conversation_id: int,
    message: Message,
    attachment_ids: Sequence[int],
) -> list[AttachmentOut]:
    """Make the uploaded files ``attachment_ids`` part of ``message``, or refuse."""
    if not attachment_ids:
        return []
    rows = list(
        await session.scalars(
            select(Attachment).where(Attachment.id.in_(attachment_ids)).order_by(Attachment.id)
        )
    )
    found = {row.id for row in rows if row.conversation_id == conversation_id}
    missing = [n for n in attachment_ids if n not in found]
    if missing:
        raise InvalidInput(
            f"no file {missing[0]} was uploaded to conversation {conversation_id}",
            field="attachment_ids",
        )
    taken = [row.id for row in rows if row.message_id is not None]
    if taken:
        raise Conflict(f"file {taken[0]} is already part of a message", field="attachment_ids")
    if message.direction is Direction.OUTBOUND:
        files = [OutboundFile(row.filename, row.content_type, row.size) for row in rows]
        refusal = file_refusal(
            message.channel,
            files,
            text=message.body_text,
            template=bool(message.metadata_.get("template")),
        )
        if refusal is not None:
            raise InvalidInput(refusal, field="attachment_ids")
        if fetched_by_provider(message.channel) and not ctx.settings.server.public_url:
            raise InvalidInput(
                f"{message.channel.value} files are downloaded by the provider from this "
                "server: set its public address (OPENCX_SERVER__PUBLIC_URL) first",
                field="attachment_ids",
            )
    # Only files still waiting are taken, so two messages never share one.
    claimed = await session.execute(
        update(Attachment)
        .where(Attachment.id.in_(attachment_ids), Attachment.message_id.is_(None))
        .values(message_id=message.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", len(rows)) != len(rows):
        raise Conflict("a file named in attachment_ids was just taken by another message")
    return [
        AttachmentOut.model_validate(row).model_copy(update={"message_id": message.id})
        for row in rows
    ]


async def _check_template_route(
    session: AsyncSession, conversation_id: int, data: MessageCreate
) -> None:
    """Refuse now the template that its provider would refuse when it is sent: through
    Twilio, one named otherwise than by its Content SID, or with a file."""
    assert data.template is not None
    if await answering_provider(session, conversation_id, data.channel) != twilio.PROVIDER:
        return
    refusal = twilio.template_refusal(data.template.name, with_file=bool(data.attachment_ids))
    if refusal is not None:
        field, reason = refusal
        raise InvalidInput(reason, field=field)


#: What ``MessageCreate`` holds that is no column of its own.
_NOT_COLUMNS = {"template", "attachment_ids", "body_format", "cc", "bcc", "body_text", "body_html"}


def _template_metadata(template: TemplateIn | None) -> dict[str, str]:
    """The template as the sender reads it from the message's metadata (strings only)."""
    if template is None:
        return {}
    meta = {"template": template.name, "template_language": template.language}
    if template.parameters:
        meta["template_params"] = json.dumps(template.parameters, ensure_ascii=False)
    return meta


async def _check_interaction(
    session: AsyncSession, conversation: Conversation, data: MessageCreate
) -> None:
    interaction = await session.get(Interaction, data.interaction_id)
    if interaction is None or interaction.conversation_id != conversation.id:
        raise InvalidInput(
            f"interaction {data.interaction_id} is not part of conversation {conversation.id}",
            field="interaction_id",
        )
    if interaction.channel is not data.channel:
        raise InvalidInput(
            f"interaction {interaction.id} is on {interaction.channel.value}, "
            f"not {data.channel.value}",
            field="channel",
        )
