"""Snoozing a conversation: it leaves its handlers' inbox until a given instant, then
comes back by itself.

Rules (the instant's bounds are ``core.inbox.check_snooze``):
- whoever may write a conversation they see may snooze it while it is open or pending
  (a resolved or closed one is a 409); snoozing it again moves the instant;
- it wakes when due: a job (``WAKE_JOB``) is deferred for that instant, and a sweep
  every minute wakes any whose job was lost; both are no-ops for a conversation no
  longer due, so a snooze moved later is not cut short;
- it wakes at once when the customer writes (``wake_on_customer_message``, called by
  the writers of customers' messages), and when a person ends the snooze;
- every change is audited and records ``conversation.updated`` with
  ``fields: ["snoozed_until"]``; a conversation that wakes by itself says
  ``woke: true`` and why (``reason``: ``due``, ``customer_wrote``), one a person woke
  ``woke: false``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import AwareDatetime
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import ConversationStatus
from opencx.core.errors import Conflict
from opencx.core.events import EventType
from opencx.core.inbox import check_snooze
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Conversation
from opencx.features.common import InputSchema, Schema
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation, record_conversation_event
from opencx.features.events.record import record_audit, table_of

__all__ = [
    "WAKE_JOB",
    "SnoozeIn",
    "SnoozeOut",
    "end_snooze",
    "snooze_conversation",
    "wake_due_conversations",
    "wake_on_customer_message",
]

#: The job that wakes one conversation when its snooze is due (``opencx.jobs.inbox``).
WAKE_JOB = "wake_snoozed_conversation"
#: The most conversations one sweep wakes; the next sweep takes the rest.
WAKE_BATCH = 500
_SNOOZABLE = (ConversationStatus.OPEN, ConversationStatus.PENDING)
_CONVERSATIONS = table_of(Conversation)


class SnoozeIn(InputSchema):
    """Until when the conversation sleeps: after now, at most 90 days ahead."""

    until: AwareDatetime


class SnoozeOut(Schema):
    conversation_id: int
    #: ``None``: not snoozed.
    snoozed_until: datetime | None
    snoozed_by_id: int | None


class _Snoozed(Protocol):
    """What waking a conversation reads of it."""

    @property
    def id(self) -> int: ...

    @property
    def site_id(self) -> int | None: ...


async def snooze_conversation(
    ctx: AppContext, principal: Principal, conversation_id: int, data: SnoozeIn
) -> SnoozeOut:
    require(principal, Permission.CONVERSATIONS_WRITE)
    now = ctx.clock.now()
    until = check_snooze(data.until, now=now)
    async with transaction(ctx) as session:
        conversation = await load_conversation(session, principal, conversation_id, for_update=True)
        if conversation.status not in _SNOOZABLE:
            raise Conflict(
                f"conversation {conversation_id} is {conversation.status.value}: only an "
                "open or pending conversation is snoozed",
                status=conversation.status.value,
            )
        conversation.snoozed_until = until
        conversation.snoozed_by_id = principal.user_id
        conversation.updated_at = now
        await session.flush()
        changes = {"snoozed_until": until.isoformat()}
        _audit(session, ctx, principal.user_id, "snooze", conversation.id, changes)
        await _event(
            session,
            ctx,
            conversation,
            actor_user_id=principal.user_id,
            extra={**changes, "snoozed_by": principal.user_id},
        )
        out = _out(conversation)
    await ctx.jobs.defer(WAKE_JOB, {"conversation_id": conversation_id}, run_at=until)
    return out


async def end_snooze(ctx: AppContext, principal: Principal, conversation_id: int) -> SnoozeOut:
    """Wake the conversation now; one that is not snoozed is left as it is."""
    require(principal, Permission.CONVERSATIONS_WRITE)
    async with transaction(ctx) as session:
        conversation = await load_conversation(session, principal, conversation_id, for_update=True)
        if conversation.snoozed_until is None:
            return _out(conversation)
        conversation.snoozed_until = None
        conversation.snoozed_by_id = None
        conversation.updated_at = ctx.clock.now()
        await session.flush()
        _audit(session, ctx, principal.user_id, "unsnooze", conversation.id, {})
        await _event(
            session,
            ctx,
            conversation,
            actor_user_id=principal.user_id,
            extra={"snoozed_until": None, "woke": False},
        )
        return _out(conversation)


async def wake_due_conversations(ctx: AppContext, *, conversation_id: int | None = None) -> int:
    """Wake the conversations whose snooze is due (only ``conversation_id``, if given);
    how many woke. Run by the wake-up job and the sweep."""
    now = ctx.clock.now()
    due = (
        select(Conversation)
        .where(Conversation.snoozed_until <= now)
        .order_by(Conversation.snoozed_until, Conversation.id)
        .limit(WAKE_BATCH)
        .with_for_update(skip_locked=True)
    )
    if conversation_id is not None:
        due = due.where(Conversation.id == conversation_id)
    async with transaction(ctx) as session:
        rows = list(await session.scalars(due))
        await _wake(session, ctx, rows, reason="due")
    return len(rows)


async def wake_on_customer_message(
    session: AsyncSession, ctx: AppContext, conversations: Sequence[_Snoozed]
) -> None:
    """Wake ``conversations``, snoozed ones a customer just wrote in, in the caller's
    transaction (one statement for all)."""
    await _wake(session, ctx, conversations, reason="customer_wrote")


async def _wake(
    session: AsyncSession, ctx: AppContext, conversations: Sequence[_Snoozed], *, reason: str
) -> None:
    if not conversations:
        return
    await session.execute(
        update(_CONVERSATIONS)
        .where(_CONVERSATIONS.c.id.in_(sorted({c.id for c in conversations})))
        .values(snoozed_until=None, snoozed_by_id=None, updated_at=ctx.clock.now())
        .execution_options(synchronize_session=False)
    )
    for conversation in conversations:
        _audit(session, ctx, None, "wake", conversation.id, {"reason": reason})
        await _event(
            session,
            ctx,
            conversation,
            actor_user_id=None,
            extra={"snoozed_until": None, "woke": True, "reason": reason},
        )


def _out(conversation: Conversation) -> SnoozeOut:
    return SnoozeOut(
        conversation_id=conversation.id,
        snoozed_until=conversation.snoozed_until,
        snoozed_by_id=conversation.snoozed_by_id,
    )


def _audit(
    session: AsyncSession,
    ctx: AppContext,
    actor_user_id: int | None,
    action: str,
    conversation_id: int,
    changes: dict[str, Any],
) -> None:
    record_audit(
        session,
        ctx,
        actor_user_id=actor_user_id,
        action=f"conversation.{action}",
        entity_kind="conversation",
        entity_id=conversation_id,
        changes=changes,
    )


async def _event(
    session: AsyncSession,
    ctx: AppContext,
    conversation: _Snoozed,
    *,
    actor_user_id: int | None,
    extra: dict[str, Any],
) -> None:
    await record_conversation_event(
        session,
        ctx,
        EventType.CONVERSATION_UPDATED,
        conversation,
        actor_user_id=actor_user_id,
        payload={"fields": ["snoozed_until"], **extra},
    )
