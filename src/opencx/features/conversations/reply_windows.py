"""Reply windows: when an answer may be written freely on WhatsApp, Messenger and
Instagram.

Rules:
- those channels accept a free-form message from a business for 24 hours after the
  customer's last message on that channel (``opencx.channels.meta.care_window_open``),
  whichever provider carries it (Twilio or Meta); after that only an approved WhatsApp
  template may be sent, and on Messenger and Instagram nothing until the customer
  writes again;
- the window counts from when the customer's last message on that channel in the
  conversation reached us (our clock, as everywhere): a webhook the provider delivered
  late can make a window look open a little longer than it is, in which case the
  provider refuses the message and the refusal shows on it;
- where the customer never wrote on a channel in the conversation, its window is closed;
- ``check_reply_window`` refuses a free-form message outside the window with a 409
  (``Conflict``) before anything is stored; ``get_reply_windows`` tells the agent
  desktop, per channel, whether the window is open and when it closes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.channels.meta import CARE_WINDOW, care_window_open
from opencx.core.enums import AuthorKind, Channel, Direction
from opencx.core.errors import Conflict
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Message
from opencx.features.common import Schema
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation

__all__ = [
    "WINDOWED",
    "ReplyWindowOut",
    "check_reply_window",
    "get_reply_windows",
    "last_customer_messages",
    "reply_window",
]

#: Channels whose free-form answers need an open customer-care window.
WINDOWED = (Channel.WHATSAPP, Channel.MESSENGER, Channel.INSTAGRAM)
_NAMES = {
    Channel.WHATSAPP: "WhatsApp",
    Channel.MESSENGER: "Messenger",
    Channel.INSTAGRAM: "Instagram",
}


class ReplyWindowOut(Schema):
    """One channel's window: ``closes_at`` is when it closes (or closed); ``null`` when
    the customer never wrote on that channel in this conversation."""

    channel: Channel
    open: bool
    closes_at: datetime | None
    last_customer_message_at: datetime | None


async def get_reply_windows(
    ctx: AppContext, principal: Principal, conversation_id: int
) -> list[ReplyWindowOut]:
    """Every windowed channel's window in the conversation, at the current time."""
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        await load_conversation(session, principal, conversation_id)
        last = await last_customer_messages(session, conversation_id)
    now = ctx.clock.now()
    return [reply_window(channel, last.get(channel), now) for channel in WINDOWED]


async def check_reply_window(
    session: AsyncSession, conversation_id: int, channel: Channel, *, now: datetime
) -> None:
    """Refuse a free-form message on ``channel`` when its window is closed."""
    if channel not in WINDOWED:
        return
    last = (await last_customer_messages(session, conversation_id, channel)).get(channel)
    window = reply_window(channel, last, now)
    if window.open:
        return
    name = _NAMES[channel]
    since = (
        f"the customer last wrote on {name} at {last.isoformat()}"
        if last is not None
        else f"the customer has not written on {name} in this conversation"
    )
    then = (
        "only an approved template may be sent"
        if channel is Channel.WHATSAPP
        else "only an approved template may be sent, and there are none on "
        f"{name}: wait for the customer to write again"
    )
    raise Conflict(
        f"The 24-hour customer-care window on {name} is closed ({since}): {then}.",
        channel=channel.value,
        window_closed_at=window.closes_at.isoformat() if window.closes_at else None,
    )


def reply_window(channel: Channel, last: datetime | None, now: datetime) -> ReplyWindowOut:
    """The window on ``channel`` at ``now``, given the customer's last message there."""
    if last is None:
        return ReplyWindowOut(
            channel=channel, open=False, closes_at=None, last_customer_message_at=None
        )
    return ReplyWindowOut(
        channel=channel,
        open=care_window_open(last, now),
        closes_at=last + CARE_WINDOW,
        last_customer_message_at=last,
    )


async def last_customer_messages(
    session: AsyncSession, conversation_id: int, *channels: Channel
) -> dict[Channel, datetime]:
    """When the customer last wrote on each windowed channel (or on ``channels``)."""
    rows = await session.execute(
        select(Message.channel, func.max(Message.created_at))
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.INBOUND,
            Message.author_kind == AuthorKind.CUSTOMER,
            Message.channel.in_(channels or WINDOWED),
        )
        .group_by(Message.channel)
    )
    return {channel: at for channel, at in rows if at is not None}
