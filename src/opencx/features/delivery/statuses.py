"""What became of the messages we sent: providers' delivery statuses on our messages.

Rules:
- an update names the provider's id of a message we sent; an update for a message we
  do not know is ignored (providers also report messages sent from elsewhere);
- statuses only move forward (queued, sent, delivered, read): a late "sent" after
  "delivered" changes nothing, so out-of-order callbacks are harmless and a repeated
  one is a no-op; "failed" is final unless a later update says it was delivered after
  all, and keeps the provider's error for the agent to see;
- a receipt that names no message (Messenger's watermark: "everything sent before this
  instant was read") moves every message we sent to that customer on that channel,
  created at or before the watermark, that was sent and is behind: ``sent`` (and
  ``delivered``, for a read) become ``read``; ``sent`` becomes ``delivered``. A queued or
  failed message was never sent, so no receipt can cover it; a message whose row names
  another recipient (``psid``) or page (``page_id``) in its metadata is not touched;
- each change appends ``message.delivery_changed`` (payload ``status``, ``previous``,
  ``error``), which the agent desktop shows.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import DeliveryStatus, Direction
from opencx.core.errors import InvalidInput
from opencx.core.events import EventType
from opencx.db.models import Conversation, CustomerIdentity, Message
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import record_conversation_event
from opencx.features.customers.identities import normalise_identity
from opencx.providers.base import DeliveryUpdate
from opencx.providers.meta import WatermarkUpdate

__all__ = ["apply_delivery", "apply_watermark", "set_delivery_status"]

_S = DeliveryStatus
_RANK = {_S.QUEUED: 0, _S.SENT: 1, _S.DELIVERED: 2, _S.READ: 3, _S.FAILED: 1, _S.RECEIVED: 0}
#: The statuses a watermark moves forward: only messages the provider accepted.
_BEHIND = {_S.READ: (_S.SENT, _S.DELIVERED), _S.DELIVERED: (_S.SENT,)}


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
        error = None
        if update.status is _S.FAILED:
            error = " ".join(p for p in (update.error_code, update.error_message) if p)
            error = error or "the provider reported a failure"
        await set_delivery_status(session, ctx, message, update.status, error=error)
        return True


async def apply_watermark(ctx: AppContext, update: WatermarkUpdate) -> int:
    """Apply a receipt that covers every message sent up to ``update.watermark`` to
    ``update.customer`` on ``update.channel``; how many messages changed."""
    behind = _BEHIND.get(update.status)
    if behind is None:
        return 0
    try:
        value = normalise_identity(update.customer.kind, update.customer.value)
    except InvalidInput:
        return 0
    async with transaction(ctx) as session:
        rows = await session.scalars(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(CustomerIdentity, CustomerIdentity.customer_id == Conversation.customer_id)
            .where(
                CustomerIdentity.kind == update.customer.kind,
                CustomerIdentity.value == value,
                Message.channel == update.channel,
                Message.direction == Direction.OUTBOUND,
                Message.delivery_status.in_(behind),
                Message.created_at <= update.watermark,
            )
            .order_by(Message.id)
            .with_for_update(of=Message)
        )
        changed = 0
        for message in rows.all():
            if _sent_elsewhere(message, psid=value, page=update.recipient):
                continue
            await set_delivery_status(session, ctx, message, update.status)
            changed += 1
        return changed


def _sent_elsewhere(message: Message, *, psid: str, page: str) -> bool:
    """The row says it went to another page-scoped id, or from another page (a customer
    merged from two pages has two ids, each covered by its own page's receipts)."""
    meta = message.metadata_
    return meta.get("psid", psid) != psid or meta.get("page_id", page) != page


async def set_delivery_status(
    session: AsyncSession,
    ctx: AppContext,
    message: Message,
    status: DeliveryStatus,
    *,
    error: str | None = None,
) -> None:
    """Set a message's delivery status (and its error: the reason it failed, none
    otherwise) and append ``message.delivery_changed``; every change of status goes
    through here, whoever learnt of it (a provider, the outbound queue, a browser)."""
    previous = message.delivery_status
    message.delivery_status = status
    message.delivery_error = error
    conversation = await session.get(Conversation, message.conversation_id)
    assert conversation is not None
    await record_conversation_event(
        session,
        ctx,
        EventType.MESSAGE_DELIVERY_CHANGED,
        conversation,
        actor_user_id=None,
        payload={"status": status.value, "previous": previous.value, "error": error},
        entity_kind="message",
        entity_id=message.id,
    )


def _moves_forward(current: DeliveryStatus, new: DeliveryStatus) -> bool:
    if new is current:
        return False
    if current is _S.FAILED:
        return new in (_S.DELIVERED, _S.READ)
    if new is _S.FAILED:
        return current in (_S.QUEUED, _S.SENT)
    return _RANK[new] > _RANK[current]
