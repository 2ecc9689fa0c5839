"""The customer 360 view: who the customer is, how they reached us on every channel,
and what is still waiting, in one read.

Rules:
- the customer is read under the customers' rule (``access``): hidden reads as missing;
- conversations, open tasks and counts cover the conversations the reader sees (a
  partner-site user: those of their sites, as the conversations API shows them);
- conversations come most recent activity first (their ``updated_at``, which every
  message and change moves), at most ``limit``; ``conversations_total`` counts all;
- an open task is one still routed or handled (``LIVE_TASK_STATUSES``), shown to
  anyone who sees its conversation: the 360 view tells what waits, the tasks API who
  may act on it;
- each section costs one query, whatever the number of conversations.
"""

from __future__ import annotations

import functools
from typing import Any
from zoneinfo import available_timezones

from babel.core import get_global
from sqlalchemy import ColumnElement, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import AuthorKind, Channel
from opencx.core.lifecycles import LIVE_TASK_STATUSES
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import (
    Conversation,
    Customer,
    CustomerIdentity,
    Interaction,
    Message,
    Queue,
    RoutingTask,
    User,
)
from opencx.features.context import AppContext, transaction
from opencx.features.customers.access import load_customer
from opencx.features.customers.overview_schemas import (
    CustomerOverview,
    OverviewConversation,
    OverviewIdentity,
    OverviewProfile,
    OverviewTask,
    Ref,
)

__all__ = ["PREVIEW_LENGTH", "customer_overview"]

PREVIEW_LENGTH = 160
_CHANNEL_ORDER = {channel: index for index, channel in enumerate(Channel)}


async def customer_overview(
    ctx: AppContext, principal: Principal, customer_id: int, *, limit: int = 50
) -> CustomerOverview:
    require(principal, Permission.CUSTOMERS_READ)
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        customer = await load_customer(session, principal, customer_id)
        seen = _seen_conversations(principal, customer.id)
        conversations = await _conversations(session, seen, limit)
        return CustomerOverview(
            profile=_profile(customer),
            identities=await _identities(session, customer.id),
            conversations=conversations,
            conversations_total=await session.scalar(
                select(func.count()).select_from(Conversation).where(*seen)
            )
            or 0,
            open_tasks=await _open_tasks(session, seen),
            channel_counts=await _channel_counts(session, seen),
        )


def _seen_conversations(principal: Principal, customer_id: int) -> list[ColumnElement[bool]]:
    """The customer's conversations the reader sees (the conversations API's rule)."""
    where = [Conversation.customer_id == customer_id]
    visible = principal.visible_site_ids
    if visible is not None:
        where.append(Conversation.site_id.in_(visible))
    return where


def _profile(customer: Customer) -> OverviewProfile:
    return OverviewProfile(
        id=customer.id,
        name=customer.display_name,
        locale=customer.language,
        time_zone=_time_zone(customer.attributes, customer.country),
        country=customer.country,
        segment=customer.segment,
        created_at=customer.created_at,
        merged_into_id=customer.merged_into_id,
    )


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _time_zone(attributes: dict[str, Any], country: str | None) -> str | None:
    chosen = attributes.get("time_zone")
    if isinstance(chosen, str) and chosen in _known_zones():
        return chosen
    zones = get_global("territory_zones").get(country or "", ())
    return zones[0] if len(zones) == 1 else None


async def _identities(session: AsyncSession, customer_id: int) -> list[OverviewIdentity]:
    rows = await session.scalars(
        select(CustomerIdentity)
        .where(CustomerIdentity.customer_id == customer_id)
        .order_by(CustomerIdentity.id)
    )
    return [OverviewIdentity.model_validate(row) for row in rows]


async def _conversations(
    session: AsyncSession, seen: list[ColumnElement[bool]], limit: int
) -> list[OverviewConversation]:
    rows = (
        await session.execute(
            select(
                Conversation.id,
                Conversation.status,
                Conversation.subject,
                Conversation.updated_at,
                User.id.label("agent_id"),
                User.display_name,
            )
            .outerjoin(User, User.id == Conversation.assignee_id)
            .where(*seen)
            .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
            .limit(limit)
        )
    ).all()
    ids = [row.id for row in rows]
    channels = await _channels_used(session, ids)
    previews = await _previews(session, ids)
    return [
        OverviewConversation(
            id=row.id,
            status=row.status,
            subject=row.subject,
            preview=previews.get(row.id, ""),
            channels=sorted(channels.get(row.id, set()), key=_CHANNEL_ORDER.__getitem__),
            last_activity_at=row.updated_at,
            assignee=None if row.agent_id is None else Ref(id=row.agent_id, name=row.display_name),
        )
        for row in rows
    ]


async def _channels_used(session: AsyncSession, ids: list[int]) -> dict[int, set[Channel]]:
    """The channels of each conversation's contacts and messages, in one query."""
    if not ids:
        return {}
    used = union(
        select(Interaction.conversation_id, Interaction.channel).where(
            Interaction.conversation_id.in_(ids)
        ),
        select(Message.conversation_id, Message.channel).where(Message.conversation_id.in_(ids)),
    )
    found: dict[int, set[Channel]] = {}
    for conversation_id, channel in await session.execute(used):
        found.setdefault(conversation_id, set()).add(Channel(channel))
    return found


async def _previews(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    """The start of each conversation's latest message, in one query. System messages
    (acknowledgements, the code proving a chat's address) are nobody's words: left out,
    as in the inbox."""
    if not ids:
        return {}
    latest = (
        select(func.max(Message.id))
        .where(Message.conversation_id.in_(ids), Message.author_kind != AuthorKind.SYSTEM)
        .group_by(Message.conversation_id)
    )
    rows = await session.execute(
        select(Message.conversation_id, func.substr(Message.body_text, 1, PREVIEW_LENGTH)).where(
            Message.id.in_(latest)
        )
    )
    return {conversation_id: " ".join(text.split()) for conversation_id, text in rows}


async def _open_tasks(session: AsyncSession, seen: list[ColumnElement[bool]]) -> list[OverviewTask]:
    stmt = (
        select(
            RoutingTask.id,
            RoutingTask.interaction_id,
            RoutingTask.channel,
            RoutingTask.status,
            RoutingTask.created_at,
            Interaction.conversation_id,
            Queue.id.label("queue_id"),
            Queue.name.label("queue_name"),
        )
        .join(Interaction, Interaction.id == RoutingTask.interaction_id)
        .join(Conversation, Conversation.id == Interaction.conversation_id)
        .outerjoin(Queue, Queue.id == RoutingTask.queue_id)
        .where(*seen, RoutingTask.status.in_(LIVE_TASK_STATUSES))
        .order_by(RoutingTask.created_at, RoutingTask.id)
    )
    return [
        OverviewTask(
            id=row.id,
            conversation_id=row.conversation_id,
            interaction_id=row.interaction_id,
            channel=row.channel,
            queue=None if row.queue_id is None else Ref(id=row.queue_id, name=row.queue_name),
            status=row.status,
            since=row.created_at,
        )
        for row in await session.execute(stmt)
    ]


async def _channel_counts(
    session: AsyncSession, seen: list[ColumnElement[bool]]
) -> dict[Channel, int]:
    rows = await session.execute(
        select(Interaction.channel, func.count())
        .join(Conversation, Conversation.id == Interaction.conversation_id)
        .where(*seen)
        .group_by(Interaction.channel)
    )
    counts = {Channel(channel): int(count) for channel, count in rows}
    return dict(sorted(counts.items(), key=lambda item: _CHANNEL_ORDER[item[0]]))
