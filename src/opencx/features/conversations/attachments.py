"""Attachments: files on a message, their bytes in the blob store.

Rules:
- an upload larger than ``settings.storage.max_upload_bytes`` is refused (413) before
  anything is stored; at most one byte past the limit is ever read;
- the filename is reduced to its last path segment, stripped of control characters
  and bounded, so that it is safe to echo in a ``Content-Disposition`` header;
- a content type that is not a plain ``type/subtype`` becomes
  ``application/octet-stream``;
- attachments are seen by whoever sees their conversation;
- a file a provider holds (MMS, WhatsApp, Messenger media) is a ``PendingFile``: its row
  is stored ``pending`` with the message and has no content until a job fetches it
  (``opencx.features.contacts.media``): then ``stored``, or ``failed`` with
  its reason;
- a file for an answer is uploaded to the conversation first (``upload_file``) and
  named in the answer's ``attachment_ids``, so it is part of the message before the
  message is queued for sending or shown in the chat; adding a file afterwards
  (``add_attachment``) is for messages nobody is sent: inbound ones, and outbound ones
  on channels OpenCX does not deliver itself (voice).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel, Direction
from opencx.core.errors import Conflict, NotFound, TooLarge
from opencx.core.media import AttachmentStatus
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Attachment, Conversation, Message
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation
from opencx.features.conversations.messages import SENDABLE, AttachmentOut, load_message

__all__ = [
    "PENDING_GRACE",
    "AttachmentContent",
    "NewFile",
    "PendingFile",
    "StoredFile",
    "add_attachment",
    "attachment_and_message",
    "content_of",
    "read_attachment",
    "safe_content_type",
    "safe_filename",
    "store_file",
    "upload_file",
]

MAX_FILENAME = 255
#: How long the job deferred for a new pending file has before the sweep may take it.
PENDING_GRACE = timedelta(minutes=1)
FALLBACK_NAME = "attachment"
OCTET_STREAM = "application/octet-stream"
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")

#: Reads at most ``n`` bytes (``UploadFile.read`` fits).
Reader = Callable[[int], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class AttachmentContent:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file whose bytes are in the blob store, ready to become an attachment row."""

    filename: str
    content_type: str
    size: int
    sha256: str
    key: str
    inline: bool = False

    def row(
        self,
        *,
        conversation_id: int,
        message_id: int | None,
        created_at: datetime,
        uploaded_by_user_id: int | None = None,
    ) -> dict[str, Any]:
        """The ``Attachment`` row's values (attribute names)."""
        return {
            "conversation_id": conversation_id,
            "message_id": message_id,
            "uploaded_by_user_id": uploaded_by_user_id,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "storage_key": self.key,
            "inline": self.inline,
            "created_at": created_at,
            # The same keys as a pending file's row: a batch inserts both in one go.
            "status": AttachmentStatus.STORED,
            "source_url": None,
            "media_id": None,
            "next_fetch_at": None,
        }


@dataclass(frozen=True, slots=True)
class PendingFile:
    """A file a provider holds (``source_url``, or a WhatsApp ``media_id``): its row is
    stored ``pending`` with its message, and a job fetches it (``inbound_media``)."""

    filename: str
    content_type: str
    source_url: str | None
    media_id: str | None

    @classmethod
    def of(
        cls, filename: str | None, content_type: str | None, url: str | None, media_id: str | None
    ) -> PendingFile:
        return cls(safe_filename(filename), safe_content_type(content_type), url, media_id)

    def row(
        self,
        *,
        conversation_id: int,
        message_id: int | None,
        created_at: datetime,
        uploaded_by_user_id: int | None = None,
    ) -> dict[str, Any]:
        """The ``Attachment`` row's values: no bytes yet (size 0, no key), and a first
        fetch due at once (the job deferred after the commit; the sweep, should it be
        lost, one ``PENDING_GRACE`` later)."""
        return {
            "conversation_id": conversation_id,
            "message_id": message_id,
            "uploaded_by_user_id": uploaded_by_user_id,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": 0,
            "sha256": "",
            "storage_key": "",
            "inline": False,
            "created_at": created_at,
            "status": AttachmentStatus.PENDING,
            "source_url": self.source_url,
            "media_id": self.media_id,
            "next_fetch_at": created_at + PENDING_GRACE,
        }


#: A file ready to become an attachment row with its message.
NewFile = StoredFile | PendingFile


async def store_file(
    ctx: AppContext, filename: str | None, content_type: str | None, data: bytes, *, inline: bool
) -> StoredFile:
    """Put ``data`` in the blob store under a safe name and type. Blobs go first: a
    blob without its row is harmless, a row without its blob is not."""
    media_type = safe_content_type(content_type)
    key = await ctx.blobs.put(data, content_type=media_type)
    # hashing a received e-mail's tens of MB takes tens of ms: not on the event loop
    large = len(data) > 1024 * 1024
    digest = await asyncio.to_thread(_sha256, data) if large else _sha256(data)
    return StoredFile(safe_filename(filename), media_type, len(data), digest, key, inline)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_filename(raw: str | None) -> str:
    """``'../../etc/pa\\x00sswd'`` -> ``'passwd'``; empty names become ``attachment``."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".").strip() or FALLBACK_NAME
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = f"{stem[: MAX_FILENAME - len(ext) - 1]}.{ext}"
        else:
            name = name[:MAX_FILENAME]
    return name


def safe_content_type(raw: str | None) -> str:
    value = (raw or "").split(";", 1)[0].strip().lower()
    return value if _CONTENT_TYPE.match(value) else OCTET_STREAM


async def upload_file(
    ctx: AppContext,
    principal: Principal,
    conversation_id: int,
    *,
    filename: str | None,
    content_type: str | None,
    read: Reader,
    inline: bool = False,
) -> AttachmentOut:
    """A file for a message not yet written: it waits, with no message, until an
    answer names it in ``attachment_ids``."""
    require(principal, Permission.CONVERSATIONS_WRITE)
    async with transaction(ctx) as session:
        await load_conversation(session, principal, conversation_id)
    stored = await _store(ctx, filename, content_type, read, inline)
    async with transaction(ctx) as session:
        await load_conversation(session, principal, conversation_id)
        return await _record(session, ctx, principal, stored, conversation_id, message_id=None)


async def add_attachment(
    ctx: AppContext,
    principal: Principal,
    message_id: int,
    *,
    filename: str | None,
    content_type: str | None,
    read: Reader,
    inline: bool = False,
) -> AttachmentOut:
    """A file added to a message already stored (see the module rules)."""
    require(principal, Permission.CONVERSATIONS_WRITE)
    async with transaction(ctx) as session:
        message, _ = await load_message(session, principal, message_id)
        _check_unsent(message)
    stored = await _store(ctx, filename, content_type, read, inline)
    async with transaction(ctx) as session:
        message, conversation = await load_message(session, principal, message_id)
        return await _record(
            session, ctx, principal, stored, conversation.id, message_id=message.id
        )


async def _store(
    ctx: AppContext, filename: str | None, content_type: str | None, read: Reader, inline: bool
) -> StoredFile:
    limit = ctx.settings.storage.max_upload_bytes
    data = await read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"the file is larger than {limit} bytes", limit=limit)
    return await store_file(ctx, filename, content_type, data, inline=inline)


async def _record(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    stored: StoredFile,
    conversation_id: int,
    *,
    message_id: int | None,
) -> AttachmentOut:
    attachment = Attachment(
        **stored.row(
            conversation_id=conversation_id,
            message_id=message_id,
            created_at=ctx.clock.now(),
            uploaded_by_user_id=principal.user_id,
        )
    )
    session.add(attachment)
    await session.flush()
    return AttachmentOut.model_validate(attachment)


def _check_unsent(message: Message) -> None:
    if message.direction is Direction.OUTBOUND and (
        message.channel in SENDABLE or message.channel is Channel.CHAT
    ):
        raise Conflict(
            f"message {message.id} is already on its way to the customer: upload the file "
            f"to the conversation first (POST /api/v1/conversations/{message.conversation_id}"
            "/attachments) and name it in the answer's attachment_ids"
        )


async def read_attachment(
    ctx: AppContext, principal: Principal, attachment_id: int
) -> AttachmentContent:
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        attachment = await _load(session, principal, attachment_id)
    return await content_of(ctx, attachment)


async def attachment_and_message(
    session: AsyncSession, attachment_id: int
) -> tuple[Attachment, Message] | None:
    """The attachment and the message it is part of; ``None`` when either is missing
    (a file still waiting for its message has none)."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or attachment.message_id is None:
        return None
    message = await session.get(Message, attachment.message_id)
    return None if message is None else (attachment, message)


async def content_of(ctx: AppContext, attachment: Attachment) -> AttachmentContent:
    """The file's name, type and bytes (read from the blob store); ``NotFound`` for a
    file a provider holds that is not fetched (yet)."""
    if attachment.status is not AttachmentStatus.STORED:
        why = attachment.failure_reason or "it is still being fetched from the provider"
        raise NotFound(f"attachment {attachment.id} has no content: {why}")
    filename, content_type, key = (
        attachment.filename,
        attachment.content_type,
        attachment.storage_key,
    )
    return AttachmentContent(filename, content_type, await ctx.blobs.get(key))


async def _load(session: AsyncSession, principal: Principal, attachment_id: int) -> Attachment:
    attachment = await session.get(Attachment, attachment_id)
    if attachment is not None:
        conversation = await session.get(Conversation, attachment.conversation_id)
        if conversation is not None and principal.sees_site(conversation.site_id):
            return attachment
    raise NotFound(f"attachment {attachment_id} does not exist")
