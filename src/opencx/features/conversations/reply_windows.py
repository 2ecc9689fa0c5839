"""Reply windows: when an answer may be written freely on WhatsApp, Messenger and
Instagram.

Rules:
- those channels accept a free-form message from a business for 24 hours after the
  customer's last message on that channel (``opencx.providers.meta.care_window_open``),
  whichever provider carries it (Twilio or Meta); after that only an approved WhatsApp
  template may be sent, and on Messenger and Instagram nothing until the customer
  writes again;
- the window counts from when the customer's last message on that channel in the
  conversation reached us (our clock, as everywhere): a webhook the provider delivered
  late can make a window look open a little longer than it is, in which case the
  provider refuses the message and the refusal shows on it;
- on Messenger and Instagram, when the app holds Meta's Human Agent permission
  (``meta.human_agent_tag``), an agent (never a bot or the system) may still answer for
  7 days after the customer's last message; the answer goes with the ``HUMAN_AGENT``
  tag;
- where the customer never wrote on a channel in the conversation, its window is closed;
- ``check_reply_window`` refuses a free-form message outside the window with a 409
  (``Conflict``) before anything is stored; ``get_reply_windows`` tells the agent
  desktop, per channel, whether the window is open and when it closes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import AuthorKind, Channel, Direction
from opencx.core.errors import Conflict
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Message
from opencx.features.common import Schema
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation
from opencx.providers.meta import (
    CARE_WINDOW,
    HUMAN_AGENT_WINDOW,
    care_window_open,
    human_agent_window_open,
)

__all__ = [
    "HUMAN_AGENT_CHANNELS",
    "WINDOWED",
    "ReplyWindowOut",
    "answering_provider",
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


#: Channels where an agent may answer after the window with the human-agent tag.
HUMAN_AGENT_CHANNELS = frozenset({Channel.MESSENGER, Channel.INSTAGRAM})


class ReplyWindowOut(Schema):
    """One channel's window: ``closes_at`` is when it closes (or closed); ``null`` when
    the customer never wrote on that channel in this conversation. On Messenger and
    Instagram with the human-agent tag, ``human_agent_open`` tells whether an agent may
    still answer, until ``human_agent_closes_at``; elsewhere they are false and null."""

    channel: Channel
    open: bool
    closes_at: datetime | None
    last_customer_message_at: datetime | None
    human_agent_open: bool = False
    human_agent_closes_at: datetime | None = None


async def get_reply_windows(
    ctx: AppContext, principal: Principal, conversation_id: int
) -> list[ReplyWindowOut]:
    """Every windowed channel's window in the conversation, at the current time."""
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        await load_conversation(session, principal, conversation_id)
        last = await last_customer_messages(session, conversation_id)
    now = ctx.clock.now()
    tag = ctx.settings.meta.human_agent_tag
    return [
        reply_window(channel, last.get(channel), now, human_agent_tag=tag) for channel in WINDOWED
    ]


async def check_reply_window(
    session: AsyncSession,
    conversation_id: int,
    channel: Channel,
    *,
    now: datetime,
    human_agent: bool = False,
) -> None:
    """Refuse a free-form message on ``channel`` when its window is closed;
    ``human_agent``: an agent writes and the human-agent tag may be used."""
    if channel not in WINDOWED:
        return
    last = (await last_customer_messages(session, conversation_id, channel)).get(channel)
    window = reply_window(channel, last, now, human_agent_tag=human_agent)
    if window.open or window.human_agent_open:
        return
    name = _NAMES[channel]
    if human_agent and last is not None and window.human_agent_closes_at is not None:
        raise Conflict(
            f"The 7-day human-agent window on {name} is closed (the customer last wrote "
            f"on {name} at {last.isoformat()}): wait for the customer to write again.",
            channel=channel.value,
            window_closed_at=window.human_agent_closes_at.isoformat(),
        )
    since = (
        f"the customer last wrote on {name} at {last.isoformat()}"
        if last is not None
        else f"the customer has not written on {name} in this conversation"
    )
    then = (
        "only an approved template may be sent"
        if channel is Channel.WHATSAPP
        else "only an approved template may be sent, and there are none on "
        f"{name}: wait for the customer to write again (an agent may answer for 7 days "
        "with Meta's human-agent tag where the app holds that permission: "
        "OPENCX_META__HUMAN_AGENT_TAG)"
    )
    raise Conflict(
        f"The 24-hour customer-care window on {name} is closed ({since}): {then}.",
        channel=channel.value,
        window_closed_at=window.closes_at.isoformat() if window.closes_at else None,
    )


def reply_window(
    channel: Channel, last: datetime | None, now: datetime, *, human_agent_tag: bool = False
) -> ReplyWindowOut:
    """The window on ``channel`` at ``now``, given the customer's last message there;
    ``human_agent_tag``: the app may use the human-agent tag."""
    if last is None:
        return ReplyWindowOut(
            channel=channel, open=False, closes_at=None, last_customer_message_at=None
        )
    tagged = human_agent_tag and channel in HUMAN_AGENT_CHANNELS
    return ReplyWindowOut(
        channel=channel,
        open=care_window_open(last, now),
        closes_at=last + CARE_WINDOW,
        last_customer_message_at=last,
        human_agent_open=tagged and human_agent_window_open(last, now),
        human_agent_closes_at=last + HUMAN_AGENT_WINDOW if tagged else None,
    )


async def answering_provider(
    session: AsyncSession, conversation_id: int, channel: Channel
) -> str | None:
    """The provider of the customer's last ``channel`` message in the conversation, the
    one an answer on ``channel`` goes through; ``None`` when there is none."""
    metadata = await session.scalar(
        select(Message.metadata_)
        .where(
            Message.conversation_id == conversation_id,
            Message.channel == channel,
            Message.direction == Direction.INBOUND,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    provider = (metadata or {}).get("provider")
    return provider if isinstance(provider, str) else None


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
