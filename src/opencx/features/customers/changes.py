"""Recording a customer change: one audit entry and one domain event, same transaction.

Events are broadcast to live views, so their payloads name what changed (fields,
identity kinds) but never carry the personal data itself; the audit trail, readable
by admins only, keeps the values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.events import EventType
from opencx.features.context import AppContext
from opencx.features.events.record import record_audit, record_event

__all__ = ["record_customer_change"]


async def record_customer_change(
    session: AsyncSession,
    ctx: AppContext,
    type_: EventType,
    *,
    actor_user_id: int | None,
    customer_id: int,
    action: str,
    changes: dict[str, Any],
    payload: dict[str, Any],
) -> None:
    record_audit(
        session,
        ctx,
        actor_user_id=actor_user_id,
        action=action,
        entity_kind="customer",
        entity_id=customer_id,
        changes=changes,
    )
    await record_event(
        session,
        ctx,
        type_,
        entity_kind="customer",
        entity_id=customer_id,
        payload=payload,
        actor_user_id=actor_user_id,
    )
