"""What became of the messages we sent: providers' delivery statuses on our messages.

Rules:
- an update names the provider's id of a message we sent; an update for a message we
  do not know is ignored (providers also report messages sent from elsewhere);
- statuses only move forward (queued, sent, delivered, read): a late "sent" after
  "delivered" changes nothing, so out-of-order callbacks are harmless and a repeated
  one is a no-op; "failed" is final unless a later update says it was delivered after
  all, and keeps the provider's error for the agent to see;
- each change appends ``message.delivery_changed`` (payload ``status``, ``previous``,
  ``error``), which the agent desktop shows.
"""

from __future__ import annotations

from sqlalchemy import select

from opencx.channels.base import DeliveryUpdate
from opencx.core.enums import DeliveryStatus, Direction
from opencx.core.events import EventType
from opencx.db.models import Conversation, Message
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import record_conversation_event

__all__ = ["apply_delivery"]

_S = DeliveryStatus
_RANK = {_S.QUEUED: 0, _S.SENT: 1, _S.DELIVERED: 2, _S.READ: 3, _S.FAILED: 1, _S.RECEIVED: 0}


async def apply_delivery(ctx: AppContext, update: DeliveryUpdate) -> bool:
    """Apply the update; ``True`` when it changed a message."""
    async with transaction(ctx) as session:
        message = await session.scalar(
            select(Message)
            .where(
                Message.provider_message_id == update.provider_message_id,
                Message.direction == Direction.OUTBOUND,
            )
            .with_for_update()
        )
        if message is None or not _moves_forward(message.delivery_status, update.status):
            return False
        previous = message.delivery_status
        message.delivery_status = update.status
        error = None
        if update.status is _S.FAILED:
            error = " ".join(p for p in (update.error_code, update.error_message) if p) or None
            message.delivery_error = error or "the provider reported a failure"
        conversation = await session.get(Conversation, message.conversation_id)
        assert conversation is not None
        await record_conversation_event(
            session,
            ctx,
            EventType.MESSAGE_DELIVERY_CHANGED,
            conversation,
            actor_user_id=None,
            payload={
                "status": update.status.value,
                "previous": previous.value,
                "error": message.delivery_error if update.status is _S.FAILED else None,
            },
            entity_kind="message",
            entity_id=message.id,
        )
        return True


def _moves_forward(current: DeliveryStatus, new: DeliveryStatus) -> bool:
    if new is current:
        return False
    if current is _S.FAILED:
        return new in (_S.DELIVERED, _S.READ)
    if new is _S.FAILED:
        return current in (_S.QUEUED, _S.SENT)
    return _RANK[new] > _RANK[current]
