"""Loading conversations and the rows they point at, under the site-visibility rule.

Rules:
- a conversation belongs to the site of its queue (or, with no queue, to its creator's
  site); a partner-site user sees it only when that site is one they see;
- references given in a request body (queue, agent, contact reason) must exist, be
  usable and be visible, else ``InvalidInput`` names the field (422); hidden rows read
  as missing ones;
- every event about a conversation, its interactions or messages carries the
  conversation's site, so the event log can be filtered per site.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import ConversationStatus, ReasonAxis
from opencx.core.errors import Conflict, InvalidInput, NotFound
from opencx.core.events import EventType
from opencx.core.permissions import Principal
from opencx.db.models import ContactReason, Conversation, Queue, User
from opencx.features.context import AppContext
from opencx.features.events.record import record_event

__all__ = [
    "ConversationRef",
    "check_agent",
    "check_queue",
    "check_reason",
    "conversation_visibility",
    "ensure_open",
    "load_conversation",
    "record_conversation_event",
]


class ConversationRef(Protocol):
    """What a conversation's events read of it."""

    @property
    def id(self) -> int: ...

    @property
    def site_id(self) -> int | None: ...


def conversation_visibility(principal: Principal) -> ColumnElement[bool] | None:
    """A WHERE clause over ``Conversation``; ``None`` when every site is visible."""
    visible = principal.visible_site_ids
    if visible is None:
        return None
    return Conversation.site_id.in_(visible)


async def load_conversation(
    session: AsyncSession,
    principal: Principal,
    conversation_id: int,
    *,
    for_update: bool = False,
) -> Conversation:
    conversation = await session.get(
        Conversation, conversation_id, with_for_update=for_update or None
    )
    if conversation is None or not principal.sees_site(conversation.site_id):
        raise NotFound(f"conversation {conversation_id} does not exist")
    return conversation


def ensure_open(conversation: Conversation) -> None:
    """New contacts and messages go to conversations that are not closed."""
    if conversation.status is ConversationStatus.CLOSED:
        raise Conflict(
            f"conversation {conversation.id} is closed; reopen it first",
            status=conversation.status.value,
        )


async def check_queue(session: AsyncSession, principal: Principal, queue_id: int) -> Queue:
    queue = await session.get(Queue, queue_id)
    if queue is None or (queue.site_id is not None and not principal.sees_site(queue.site_id)):
        raise InvalidInput(f"queue {queue_id} does not exist", field="queue_id")
    return queue


async def check_agent(
    session: AsyncSession, principal: Principal, user_id: int, *, field: str
) -> User:
    user = await session.get(User, user_id)
    if user is None or not principal.sees_site(user.site_id):
        raise InvalidInput(f"user {user_id} does not exist", field=field)
    if not user.is_active:
        raise InvalidInput(f"user {user_id} is deactivated", field=field)
    return user


async def check_reason(session: AsyncSession, reason_id: int, axis: ReasonAxis) -> ContactReason:
    field = f"{axis.value}_reason_id"
    reason = await session.get(ContactReason, reason_id)
    if reason is None:
        raise InvalidInput(f"contact reason {reason_id} does not exist", field=field)
    if reason.axis is not axis:
        raise InvalidInput(
            f"contact reason {reason_id} is on the {reason.axis.value} axis, not {axis.value}",
            field=field,
        )
    if not reason.is_active:
        raise InvalidInput(f"contact reason {reason_id} is retired", field=field)
    return reason


async def record_conversation_event(
    session: AsyncSession,
    ctx: AppContext,
    type_: EventType,
    conversation: ConversationRef,
    *,
    actor_user_id: int | None,
    payload: dict[str, Any],
    entity_kind: str = "conversation",
    entity_id: int | None = None,
) -> None:
    await record_event(
        session,
        ctx,
        type_,
        entity_kind=entity_kind,
        entity_id=conversation.id if entity_id is None else entity_id,
        payload={"conversation_id": conversation.id, **payload},
        actor_user_id=actor_user_id,
        site_id=conversation.site_id,
    )
