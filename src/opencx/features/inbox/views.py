"""The agent's inbox: lists of conversations (mine, my team's, waiting, snoozed, all),
filtered and searched, a page at a time.

Rules (``docs/inbox.md``):
- a conversation is **handled** by the agent its live task is assigned to; with no
  live task assigned, while it is open or pending, by its assignee, else by the agent
  who answered its latest answered interaction;
- ``mine``: handled by the caller and not snoozed; ``team``: handled by an agent of the
  caller's team and not snoozed; ``snoozed``: snoozed, by the caller or while handled
  by them; ``waiting``: with a task waiting in a queue the caller serves
  (``eligibility``); ``all``: every conversation;
- every list holds only the conversations the caller sees (site visibility, exactly as
  ``GET /conversations``); newest activity first, but ``waiting``: longest wait first;
- a page costs the same statements whatever its size: one for its lines (everything
  they show but their channels), one for their channels; ``waiting`` also reads the
  caller's routing profile and the queues. No statement runs per line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Select,
    and_,
    asc,
    case,
    desc,
    exists,
    func,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from opencx.core.enums import AuthorKind, Channel, ConversationStatus, TaskStatus
from opencx.core.ids import MAX_ID
from opencx.core.inbox import InboxView, is_snoozed, preview
from opencx.core.keyset import decode_position, encode_position
from opencx.core.permissions import Permission, Principal, require
from opencx.core.search import Query, parse_query
from opencx.db.models import (
    Conversation,
    Customer,
    Interaction,
    Message,
    Queue,
    RoutingTask,
    User,
)
from opencx.features.common import Page
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import conversation_visibility
from opencx.features.inbox.eligibility import served_queues
from opencx.features.inbox.schemas import InboxItem
from opencx.features.search import search_clause

__all__ = ["list_inbox"]

_C = Conversation
_OPEN = (ConversationStatus.OPEN, ConversationStatus.PENDING)
#: A condition on a column of user ids: whether the user is one of "ours".
Ours = Callable[[Any], ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class _Order:
    """A view's conversations (``id``) with the instant they are ordered by (``key``)."""

    rows: Any  # a SELECT of (id, key)
    key: ColumnElement[datetime] | InstrumentedAttribute[datetime]
    ascending: bool = False


async def list_inbox(
    ctx: AppContext,
    principal: Principal,
    *,
    view: InboxView = InboxView.MINE,
    channel: Channel | None = None,
    status: ConversationStatus | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[InboxItem]:
    require(principal, Permission.CONVERSATIONS_READ)
    query = parse_query(q) if q is not None and q.strip() else None
    after = decode_position(cursor) if cursor else None
    now = ctx.clock.now()
    if query is not None and query.empty:
        return Page[InboxItem](items=[])
    async with transaction(ctx) as session:
        order = await _order(session, ctx, principal, view, now)
        if order is None:
            return Page[InboxItem](items=[])
        conditions = _filters(principal, channel=channel, status=status, query=query)
        rows = (await session.execute(_lines(order, conditions, after, limit))).all()
        lines = rows[:limit]
        channels = await _channels(session, [row.id for row in lines])
    items = [_item(row, channels.get(row.id, set()), principal, now) for row in lines]
    last = lines[-1] if len(rows) > limit else None
    next_cursor = encode_position(last.key, last.id) if last is not None else None
    return Page[InboxItem](items=items, next_cursor=next_cursor)


# --- which conversations, in which order ---------------------------------------------


async def _order(
    session: AsyncSession, ctx: AppContext, principal: Principal, view: InboxView, now: datetime
) -> _Order | None:
    """The view's conversations; ``None`` when it can hold none."""
    me = principal.user_id
    if view is InboxView.WAITING:
        queues = await served_queues(session, ctx.settings.routing, principal)
        return None if queues == [] else _waiting(queues)
    awake = or_(_C.snoozed_until.is_(None), _C.snoozed_until <= now)
    conditions: dict[InboxView, ColumnElement[bool]] = {
        InboxView.MINE: and_(_handled_by(lambda user: user == me), awake),
        InboxView.TEAM: and_(_handled_by(_team_of(me)), awake),
        InboxView.SNOOZED: and_(
            _C.snoozed_until > now,
            or_(_C.snoozed_by_id == me, _handled_by(lambda user: user == me)),
        ),
        InboxView.ALL: true(),
    }
    rows = select(_C.id.label("id"), _C.last_activity_at.label("key")).where(conditions[view])
    return _Order(rows, _C.last_activity_at)


def _handled_by(ours: Ours) -> ColumnElement[bool]:
    """Conversations handled by one of ``ours`` (the rule in the module's header)."""
    assigned = select(Interaction.conversation_id).join(
        RoutingTask, RoutingTask.interaction_id == Interaction.id
    )
    live = assigned.where(RoutingTask.status == TaskStatus.ASSIGNED)
    later = aliased(Interaction)
    answered_last = select(Interaction.conversation_id).where(
        ours(Interaction.agent_id),
        Interaction.answered_at.is_not(None),
        ~exists().where(
            later.conversation_id == Interaction.conversation_id,
            later.id > Interaction.id,
            later.answered_at.is_not(None),
            later.agent_id.is_not(None),
        ),
    )
    live_ours = live.where(ours(RoutingTask.worker_id))
    # The few conversations that may be ours, each found through an index, so the rule
    # below is checked on them rather than on every conversation.
    assigned_to = aliased(Conversation)
    candidates = union(
        live_ours, select(assigned_to.id).where(ours(assigned_to.assignee_id)), answered_last
    ).subquery("candidates")
    return and_(
        _C.id.in_(select(candidates.c[0])),
        or_(
            _C.id.in_(live_ours),
            and_(
                _C.status.in_(_OPEN),
                _C.id.not_in(live),
                or_(
                    ours(_C.assignee_id),
                    and_(_C.assignee_id.is_(None), _C.id.in_(answered_last)),
                ),
            ),
        ),
    )


def _team_of(user_id: int) -> Ours:
    caller = aliased(User)
    team = select(caller.team_id).where(caller.id == user_id).scalar_subquery()
    members = select(User.id).where(User.team_id == team)
    return lambda user: user.in_(members)


def _waiting(queues: Sequence[int] | None) -> _Order:
    """Conversations with a task waiting in one of ``queues`` (any, if ``None``), by
    when their oldest such task entered routing."""
    waits = (
        select(
            Interaction.conversation_id.label("conversation_id"),
            func.min(RoutingTask.created_at).label("since"),
        )
        .join(Interaction, Interaction.id == RoutingTask.interaction_id)
        .where(RoutingTask.status == TaskStatus.WAITING)
        .group_by(Interaction.conversation_id)
    )
    if queues is not None:
        waits = waits.where(RoutingTask.queue_id.in_(queues))
    waiting = waits.subquery("waits")
    rows = select(_C.id.label("id"), waiting.c.since.label("key")).join(
        waiting, waiting.c.conversation_id == _C.id
    )
    return _Order(rows, waiting.c.since, ascending=True)


def _filters(
    principal: Principal,
    *,
    channel: Channel | None,
    status: ConversationStatus | None,
    query: Query | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    visible = conversation_visibility(principal)
    if visible is not None:
        conditions.append(visible)
    if status is not None:
        conditions.append(_C.status == status)
    if channel is not None:
        conditions.append(
            or_(
                exists().where(
                    Interaction.conversation_id == _C.id, Interaction.channel == channel
                ),
                exists().where(Message.conversation_id == _C.id, Message.channel == channel),
            )
        )
    if query is not None:
        conditions.append(search_clause(query))
    return conditions


# --- one statement for the page's lines --------------------------------------------------


def _lines(
    order: _Order,
    conditions: list[ColumnElement[bool]],
    after: tuple[datetime, int] | None,
    limit: int,
) -> Select[Any]:
    """The page (one line more, to know whether another follows), with everything a
    line shows but its channels."""
    rows = order.rows.where(*conditions)
    if after is not None:
        at, last_id = after[0], min(after[1], MAX_ID)
        if order.ascending:
            rows = rows.where(or_(order.key > at, and_(order.key == at, _C.id > last_id)))
        else:
            rows = rows.where(or_(order.key < at, and_(order.key == at, _C.id < last_id)))
    way = asc if order.ascending else desc
    page = rows.order_by(way(order.key), way(_C.id)).limit(limit + 1).subquery("page")
    described = (
        select(
            page.c.id,
            page.c.key,
            _C.customer_id,
            _C.status,
            _C.subject,
            _C.last_activity_at,
            _C.queue_id,
            _C.snoozed_until,
            _handler().label("handler_id"),
            _last_message().label("message_id"),
            (page.c.key if order.ascending else _waiting_since()).label("waiting_since"),
        )
        .join(_C, _C.id == page.c.id)
        .subquery("lines")
    )
    handler = aliased(User)
    return (
        select(
            described,
            Customer.display_name.label("customer_name"),
            Queue.name.label("queue_name"),
            handler.display_name.label("handler_name"),
            handler.site_id.label("handler_site_id"),
            Message.author_kind,
            Message.body_text,
            Message.body_html,
        )
        .join(Customer, Customer.id == described.c.customer_id)
        .outerjoin(Queue, Queue.id == described.c.queue_id)
        .outerjoin(handler, handler.id == described.c.handler_id)
        .outerjoin(Message, Message.id == described.c.message_id)
        .order_by(way(described.c.key), way(described.c.id))
    )


def _handler() -> ColumnElement[int | None]:
    """Who handles the conversation (the rule of ``_handled_by``, for one row)."""
    live = (
        select(RoutingTask.worker_id)
        .join(Interaction, Interaction.id == RoutingTask.interaction_id)
        .where(Interaction.conversation_id == _C.id, RoutingTask.status == TaskStatus.ASSIGNED)
        .order_by(RoutingTask.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    answered_last = (
        select(Interaction.agent_id)
        .where(
            Interaction.conversation_id == _C.id,
            Interaction.answered_at.is_not(None),
            Interaction.agent_id.is_not(None),
        )
        .order_by(Interaction.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(
        live, case((_C.status.in_(_OPEN), func.coalesce(_C.assignee_id, answered_last)))
    )


def _last_message() -> ScalarSelect[int]:
    return (
        select(Message.id)
        .where(Message.conversation_id == _C.id, Message.author_kind != AuthorKind.SYSTEM)
        .order_by(Message.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _waiting_since() -> ScalarSelect[datetime]:
    return (
        select(func.min(RoutingTask.created_at))
        .join(Interaction, Interaction.id == RoutingTask.interaction_id)
        .where(Interaction.conversation_id == _C.id, RoutingTask.status == TaskStatus.WAITING)
        .scalar_subquery()
    )


async def _channels(session: AsyncSession, conversation_ids: list[int]) -> dict[int, set[Channel]]:
    """The channels of each conversation's interactions and messages, in one statement."""
    if not conversation_ids:
        return {}
    rows = await session.execute(
        union(
            select(Interaction.conversation_id, Interaction.channel).where(
                Interaction.conversation_id.in_(conversation_ids)
            ),
            select(Message.conversation_id, Message.channel).where(
                Message.conversation_id.in_(conversation_ids)
            ),
        )
    )
    found: dict[int, set[Channel]] = {}
    for conversation_id, channel in rows:
        found.setdefault(conversation_id, set()).add(Channel(channel))
    return found


def _item(row: Any, channels: set[Channel], principal: Principal, now: datetime) -> InboxItem:
    has_message = row.message_id is not None
    # The name of an agent of a site the caller does not see is not theirs to read.
    handler_name = row.handler_name if principal.sees_site(row.handler_site_id) else None
    return InboxItem(
        conversation_id=row.id,
        customer_id=row.customer_id,
        customer_name=row.customer_name,
        channels=[channel for channel in Channel if channel in channels],
        status=row.status,
        subject=row.subject,
        preview=preview(row.body_text or "", row.body_html) if has_message else "",
        last_activity_at=row.last_activity_at,
        last_author_kind=row.author_kind if has_message else None,
        assignee_id=row.handler_id,
        assignee_name=handler_name,
        queue_id=row.queue_id,
        queue_name=row.queue_name,
        snoozed_until=row.snoozed_until if is_snoozed(row.snoozed_until, now=now) else None,
        waiting_since=row.waiting_since,
    )
