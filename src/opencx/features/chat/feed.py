"""What a chat visitor sees, read from the database: their chat's messages and where
their chat stands (waiting in the queue, with whom, or ended).

Rules:
- a visitor sees only their chat: chat messages of their conversation from the one that
  started the chat on, never the conversation's other channels nor the customer's
  other conversations;
- the queue position counts the tasks waiting in the same queue that the router serves
  first (higher priority, then earlier); the estimated wait is the queue's figure for
  that position (``opencx.core.routing.wait_time``), ``None`` while nobody who serves
  the queue is logged in;
- an agent is named by their display name only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import AuthorKind, Channel, Direction, InteractionState
from opencx.core.routing.wait_time import wait_at_position
from opencx.db.models import (
    Attachment,
    Interaction,
    Message,
    Queue,
    QueueStats,
    RoutingTask,
    User,
)
from opencx.features.chat.visitors import VisitorChat
from opencx.features.context import AppContext, transaction

__all__ = ["read_messages", "read_news", "read_status"]

_WAITING = frozenset({InteractionState.CREATED, InteractionState.QUEUED, InteractionState.OFFERED})
_WITH_AGENT = frozenset({InteractionState.ACTIVE, InteractionState.HELD})


async def read_messages(
    ctx: AppContext, chat: VisitorChat, *, after: int = 0
) -> list[dict[str, Any]]:
    """The chat's messages after id ``after``, oldest first, as the widget shows them."""
    async with transaction(ctx) as session:
        return await _messages(session, chat, after)


async def read_status(ctx: AppContext, chat: VisitorChat) -> dict[str, Any]:
    """Where the chat stands: ``waiting`` (position, estimated wait), ``connected``
    (agent) or ``ended``."""
    async with transaction(ctx) as session:
        return await _status(session, chat)


async def read_news(
    ctx: AppContext, chat: VisitorChat, *, after: int, status: bool
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """``read_messages`` and, when ``status`` is asked for or there are new messages,
    ``read_status`` (else ``None``), in one transaction."""
    async with transaction(ctx) as session:
        messages = await _messages(session, chat, after)
        current = await _status(session, chat) if status or messages else None
    return messages, current


async def _messages(session: AsyncSession, chat: VisitorChat, after: int) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(
            select(Message)
            .where(
                Message.conversation_id == chat.conversation_id,
                Message.channel == Channel.CHAT,
                Message.id >= chat.first_message_id,
                Message.id > after,
            )
            .order_by(Message.id)
            .limit(500)
        )
    ).all()
    names = await _agent_names(session, {m.author_user_id for m in rows if m.author_user_id})
    files = await _files(session, [m.id for m in rows])
    return [_message_json(m, chat, names, files.get(m.id, [])) for m in rows]


async def _status(session: AsyncSession, chat: VisitorChat) -> dict[str, Any]:
    row = (await session.execute(_STATUS, {"conversation_id": chat.conversation_id})).first()
    if row is None or row.state not in _WAITING | _WITH_AGENT:
        return {"state": "ended"}
    if row.state in _WITH_AGENT and row.agent_id is not None:
        return {"state": "connected", "agent": row.agent_name or ""}
    if row.task_id is None or row.queue_id is None:
        return {"state": "waiting", "position": None, "estimated_wait_seconds": None}
    priority = row.priority if row.priority is not None else row.base_priority
    ahead = await session.scalar(
        _AHEAD,
        {
            "queue_id": row.queue_id,
            "task_id": row.task_id,
            "priority": priority,
            "created_at": row.created_at,
        },
    )
    position = int(ahead or 0) + 1
    wait = None
    if row.slots is not None and row.expected_handle_seconds is not None:
        aht = row.average_handle_seconds or float(row.expected_handle_seconds)
        wait = wait_at_position(position, free=row.free_agents, slots=row.slots, aht=aht)
    return {"state": "waiting", "position": position, "estimated_wait_seconds": wait}


#: The chat's latest interaction with its agent's name, its latest routing task, and
#: that task's queue figures: a visitor's status is read several times a chat, so it is
#: one query, built once.
_LATEST_TASK = (
    select(func.max(RoutingTask.id))
    .where(RoutingTask.interaction_id == Interaction.id)
    .correlate(Interaction)
    .scalar_subquery()
)
_STATUS = (
    select(
        Interaction.state,
        Interaction.agent_id,
        User.display_name.label("agent_name"),
        RoutingTask.id.label("task_id"),
        RoutingTask.queue_id,
        RoutingTask.priority,
        RoutingTask.base_priority,
        RoutingTask.created_at,
        Queue.expected_handle_seconds,
        QueueStats.free_agents,
        QueueStats.slots,
        QueueStats.average_handle_seconds,
    )
    .outerjoin(User, User.id == Interaction.agent_id)
    .outerjoin(RoutingTask, RoutingTask.id == _LATEST_TASK)
    .outerjoin(Queue, Queue.id == RoutingTask.queue_id)
    .outerjoin(QueueStats, QueueStats.queue_id == RoutingTask.queue_id)
    .where(
        Interaction.conversation_id == bindparam("conversation_id"),
        Interaction.channel == Channel.CHAT,
    )
    .order_by(Interaction.id.desc())
    .limit(1)
)
#: The tasks the router serves before the visitor's in the same queue: higher priority,
#: then earlier.
_THEIR_PRIORITY = func.coalesce(RoutingTask.priority, RoutingTask.base_priority)
_AHEAD = (
    select(func.count())
    .select_from(RoutingTask)
    .where(
        RoutingTask.queue_id == bindparam("queue_id"),
        RoutingTask.status == "waiting",
        RoutingTask.id != bindparam("task_id"),
        or_(
            bindparam("priority") < _THEIR_PRIORITY,
            and_(
                bindparam("priority") == _THEIR_PRIORITY,
                or_(
                    RoutingTask.created_at < bindparam("created_at"),
                    and_(
                        RoutingTask.created_at == bindparam("created_at"),
                        RoutingTask.id < bindparam("task_id"),
                    ),
                ),
            ),
        ),
    )
)


async def _agent_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return dict(rows.all())


async def _files(session: AsyncSession, message_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not message_ids:
        return {}
    rows = await session.scalars(select(Attachment).where(Attachment.message_id.in_(message_ids)))
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        assert row.message_id is not None  # selected by message
        found.setdefault(row.message_id, []).append(
            {
                "id": row.id,
                "filename": row.filename,
                "size": row.size,
                "content_type": row.content_type,
            }
        )
    return found


def _message_json(
    message: Message,
    chat: VisitorChat,
    names: dict[int, str],
    files: list[dict[str, Any]],
) -> dict[str, Any]:
    mine = message.direction is Direction.INBOUND
    prefix = f"chat:{chat.session}:"
    provider_id = message.provider_message_id or ""
    client_id = (
        provider_id.removeprefix(prefix) if mine and provider_id.startswith(prefix) else None
    )
    author = (
        "visitor" if mine else ("agent" if message.author_kind is AuthorKind.AGENT else "system")
    )
    return {
        "id": message.id,
        "author": author,
        "name": chat.name if mine else names.get(message.author_user_id or 0, ""),
        "text": message.body_text,
        "client_id": client_id,
        "files": files,
        "status": message.delivery_status.value,
        "created_at": _iso(message.created_at),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat()
