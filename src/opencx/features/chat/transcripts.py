"""Chat transcripts, e-mailed to the visitor on request.

Rules:
- a transcript goes only to the e-mail address the visitor gave when starting the chat,
  once they proved it theirs (``verification``), from the widget's mailbox
  (``offline_mailbox``); a widget without one sends none;
- it is an outbound e-mail of the conversation like any other (queued, sent by the job,
  retried, its status visible to agents), carrying the conversation's token so that a
  reply to it joins the conversation;
- times are written in the visitor's language and time zone (the browser's, else the
  server's default);
- a chat gets at most ``MAX_TRANSCRIPTS`` transcripts, so a widget cannot be used to
  flood a mailbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import AuthorKind, Channel, Direction
from opencx.core.errors import Conflict, InvalidInput
from opencx.db.models import Message
from opencx.features.chat.feed import read_messages
from opencx.features.chat.visitor_mail import queue_visitor_email, send_visitor_email
from opencx.features.chat.visitors import VisitorChat
from opencx.features.context import AppContext, transaction
from opencx.i18n import format_datetime, format_time, get_translations, negotiate_locale

__all__ = ["MAX_TRANSCRIPTS", "send_transcript", "transcript_text"]

MAX_TRANSCRIPTS = 3
_KIND = "chat_transcript"


async def send_transcript(
    ctx: AppContext, chat: VisitorChat, *, language: str | None, timezone: str | None
) -> str:
    """Queue the transcript; the address it goes to."""
    if not chat.email:
        raise InvalidInput("this chat has no e-mail address to send a transcript to", field="email")
    if not chat.verified:
        raise Conflict("confirm the chat's e-mail address with the code sent there first")
    locale = negotiate_locale(None, chosen=language)
    tz_name = _zone(timezone, ctx.settings.server.default_timezone)
    messages = await read_messages(ctx, chat)
    _ = get_translations(locale).gettext
    async with transaction(ctx) as session:
        await _check_count(session, chat)
        message_id = await queue_visitor_email(
            session,
            ctx,
            chat,
            kind=_KIND,
            subject=_("Your chat transcript"),
            body=transcript_text(messages, locale=locale, tz_name=tz_name),
            what="transcripts",
        )
    await send_visitor_email(ctx, message_id)
    return chat.email


def transcript_text(messages: list[dict[str, Any]], *, locale: str, tz_name: str) -> str:
    _ = get_translations(locale).gettext
    lines = []
    if messages:
        first = datetime.fromisoformat(messages[0]["created_at"])
        lines.append(_("Your chat of %(date)s") % {"date": format_datetime(first, locale, tz_name)})
        lines.append("")
    for message in messages:
        name = message["name"] or (_("You") if message["author"] == "visitor" else _("Agent"))
        when = format_time(datetime.fromisoformat(message["created_at"]), locale, tz_name)
        lines.append(f"[{when}] {name}: {message['text']}")
        lines.extend(f"    📎 {file['filename']}" for file in message["files"])
    return "\n".join(lines)


def _zone(name: str | None, default: str) -> str:
    if not name:
        return default
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default
    return name


async def _check_count(session: AsyncSession, chat: VisitorChat) -> None:
    sent = await session.scalars(
        select(Message).where(
            Message.conversation_id == chat.conversation_id,
            Message.channel == Channel.EMAIL,
            Message.direction == Direction.OUTBOUND,
            Message.author_kind == AuthorKind.SYSTEM,
        )
    )
    mine = [
        m
        for m in sent
        if m.metadata_.get("kind") == _KIND and m.metadata_.get("chat_session") == chat.session
    ]
    if len(mine) >= MAX_TRANSCRIPTS:
        raise Conflict(f"a chat gets at most {MAX_TRANSCRIPTS} transcripts")
