"""Which queues' waiting tasks an agent is shown: the queues they are a member of, as
routing decides membership (``core.routing.membership``) from their routing profile.
Read only: nothing here changes what routing offers to whom."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.permissions import Principal
from opencx.core.routing.membership import serves
from opencx.db.models import Queue
from opencx.features.context import AppContext, transaction
from opencx.features.routing.state import load_workers, queue_spec
from opencx.settings import RoutingSettings

__all__ = ["read_served_queues", "served_queues"]


async def served_queues(
    session: AsyncSession, settings: RoutingSettings, principal: Principal
) -> list[int] | None:
    """The ids of the queues the caller serves; ``None`` when routing offers them
    nothing (an admin): they are shown every queue's waiting tasks."""
    workers = await load_workers(session, settings, user_id=principal.user_id)
    found = workers.get(principal.user_id)
    if found is None:
        return None
    worker, _presence = found
    queues = await session.scalars(select(Queue).order_by(Queue.id))
    return serves(worker, [queue_spec(queue) for queue in queues])


async def read_served_queues(ctx: AppContext, principal: Principal) -> frozenset[int] | None:
    """``served_queues`` in a transaction of its own: what a live desktop follows."""
    async with transaction(ctx) as session:
        queues = await served_queues(session, ctx.settings.routing, principal)
    return None if queues is None else frozenset(queues)
