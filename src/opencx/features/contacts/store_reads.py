"""What storing a batch of received messages reads (``opencx.features.contacts.store``),
one query for the whole batch each: the conversations its messages answer, name by
token or continue, the live interactions of those, the sites of new conversations'
queues."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel, ConversationStatus, InteractionState
from opencx.db.models import Conversation, Interaction, Message, Queue
from opencx.providers.base import InboundMessage

__all__ = [
    "CONTINUE_WITHIN",
    "SUBJECT_CANDIDATES",
    "Joined",
    "answered",
    "conversations",
    "live_interactions",
    "queue_sites",
    "recent",
]

#: How recent a customer's open conversation must be for a new contact to continue it.
CONTINUE_WITHIN = timedelta(days=7)
#: How many of a customer's recent conversations a new subject is compared with.
SUBJECT_CANDIDATES = 20
_ENDED = (InteractionState.ENDED, InteractionState.ABANDONED)
_JOINABLE = (ConversationStatus.OPEN, ConversationStatus.PENDING)


@dataclass(slots=True)
class Joined:
    """A conversation a message of a batch joins or starts (``id`` 0 until inserted):
    what its rows and events need of it."""

    id: int
    customer_id: int
    subject: str | None
    status: ConversationStatus
    queue_id: int | None
    site_id: int | None
    #: Until when it is snoozed, if it is (a message from the customer wakes it).
    snoozed_until: datetime | None = None
    new: bool = False


_SITES = select(Queue.id, Queue.site_id).where(Queue.id.in_(bindparam("ids", expanding=True)))

_ANSWERED = select(
    Message.channel, Message.provider_message_id, Message.id, Message.conversation_id
).where(
    Message.channel.in_(bindparam("channels", expanding=True)),
    Message.provider_message_id.in_(bindparam("ids", expanding=True)),
)


async def queue_sites(session: AsyncSession, queue_ids: set[int]) -> dict[int, int | None]:
    if not queue_ids:
        return {}
    rows = await session.execute(_SITES, {"ids": sorted(queue_ids)})
    return {row.id: row.site_id for row in rows}


async def answered(session: AsyncSession, items: Mapping[int, InboundMessage]) -> dict[int, int]:
    """The conversation each of ``items`` answers (that of the latest stored message
    among its references), by the items' keys."""
    asking = {n: item for n, item in items.items() if item.thread_refs}
    if not asking:
        return {}
    rows = await session.execute(
        _ANSWERED,
        {
            "channels": sorted({item.channel for item in asking.values()}),
            "ids": sorted({ref for item in asking.values() for ref in item.thread_refs}),
        },
    )
    stored = {(row.channel, row.provider_message_id): (row.id, row.conversation_id) for row in rows}
    found: dict[int, int] = {}
    for n, item in asking.items():
        hits = [stored[key] for ref in item.thread_refs if (key := (item.channel, ref)) in stored]
        if hits:
            found[n] = max(hits)[1]
    return found


_COLUMNS = (
    Conversation.id,
    Conversation.customer_id,
    Conversation.subject,
    Conversation.status,
    Conversation.queue_id,
    Conversation.site_id,
    Conversation.snoozed_until,
)
_CONVERSATIONS = select(*_COLUMNS).where(Conversation.id.in_(bindparam("ids", expanding=True)))


async def conversations(session: AsyncSession, ids: set[int]) -> dict[int, Joined]:
    if not ids:
        return {}
    rows = await session.execute(_CONVERSATIONS, {"ids": sorted(ids)})
    return {row.id: Joined(*row) for row in rows}


_RANKED = (
    select(
        *_COLUMNS,
        func.row_number()
        .over(
            partition_by=Conversation.customer_id,
            order_by=(Conversation.updated_at.desc(), Conversation.id.desc()),
        )
        .label("rank"),
    )
    .where(
        Conversation.customer_id.in_(bindparam("customers", expanding=True)),
        Conversation.status.in_(_JOINABLE),
        Conversation.updated_at >= bindparam("since"),
    )
    .subquery()
)
_RECENT = (
    select(*(_RANKED.c[column.key] for column in _COLUMNS))
    .where(_RANKED.c.rank <= SUBJECT_CANDIDATES)
    .order_by(_RANKED.c.customer_id, _RANKED.c.rank)
)


async def recent(
    session: AsyncSession, customer_ids: set[int], now: datetime
) -> dict[int, list[Joined]]:
    """Each customer's open conversations updated within ``CONTINUE_WITHIN`` (our
    clock, not the message's date: a sender's clock can say anything), latest first."""
    if not customer_ids:
        return {}
    rows = await session.execute(
        _RECENT, {"customers": sorted(customer_ids), "since": now - CONTINUE_WITHIN}
    )
    recent: dict[int, list[Joined]] = {}
    for row in rows:
        recent.setdefault(row.customer_id, []).append(Joined(*row))
    return recent


_LIVE = (
    select(Interaction.conversation_id, Interaction.channel, Interaction.id)
    .where(
        Interaction.conversation_id.in_(bindparam("ids", expanding=True)),
        Interaction.state.not_in(_ENDED),
    )
    .order_by(Interaction.id)
)


async def live_interactions(
    session: AsyncSession, conversation_ids: set[int]
) -> dict[tuple[int, Channel], int]:
    """The latest live interaction of each conversation on each channel."""
    if not conversation_ids:
        return {}
    rows = await session.execute(_LIVE, {"ids": sorted(conversation_ids)})
    return {(row.conversation_id, row.channel): row.id for row in rows}
