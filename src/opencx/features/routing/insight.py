"""What supervisors and channels ask of routing: why a task is where it is, how long
a queue's wait is, and steering a site (open, draining, closed) in one call.

Rules:
- an explanation is computed from the stored state, on a router restored for the
  question alone; it decides nothing and writes nothing;
- the estimated wait comes from the figures the active router stores about once a
  second (waiting, free agents, slots, average handle time); per position it is
  ``wait_at_position``;
- steering a site is committed with the router's command; the router moves the site's
  waiting tasks on at once (as the workflow says) and answers before the call returns.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from opencx.core.errors import NotFound
from opencx.core.events import EventType
from opencx.core.permissions import Permission, Principal, require
from opencx.core.routing.model import SiteState
from opencx.core.routing.router import Router
from opencx.core.routing.wait_time import wait_at_position
from opencx.db.models import Queue, QueueStats, RoutingTask, Site
from opencx.features.common import InputSchema, Schema
from opencx.features.context import AppContext, transaction
from opencx.features.events.record import record_audit, record_event
from opencx.features.routing.commands import CommandKind, await_outcome, enqueue
from opencx.features.routing.engine import policy_of
from opencx.features.routing.state import load_snapshot, to_instant

__all__ = [
    "CandidateOut",
    "QueueWaitOut",
    "RoutingExplanationOut",
    "SiteRoutingOut",
    "SiteRoutingUpdate",
    "explain_task",
    "queue_wait",
    "set_site_routing_state",
]


class CandidateOut(Schema):
    worker_id: int
    eligible: bool
    reason: str | None


class RoutingExplanationOut(Schema):
    task_id: int
    status: str
    filter_index: int | None
    filter_name: str | None
    filters_not_matched: list[str]
    step_index: int | None
    queue_id: int | None
    priority: int | None
    position: int | None
    estimated_wait_seconds: float | None
    worker_id: int | None
    preferred: list[int]
    ring_after_seconds: float | None
    candidates: list[CandidateOut]
    explained_at: datetime


class QueueWaitOut(Schema):
    queue_id: int
    waiting: int
    free_agents: int
    position: int
    estimated_wait_seconds: float | None
    updated_at: datetime | None


class SiteRoutingUpdate(InputSchema):
    state: SiteState


class SiteRoutingOut(Schema):
    site_id: int
    state: SiteState
    is_open: bool


async def explain_task(
    ctx: AppContext, principal: Principal, task_id: int
) -> RoutingExplanationOut:
    require(principal, Permission.SUPERVISE)
    now = ctx.clock.now()
    async with transaction(ctx) as session:
        row = await session.get(RoutingTask, task_id)
        if row is None or not principal.sees_site(row.site_id):
            raise NotFound(f"task {task_id} does not exist")
        snapshot = await load_snapshot(session, ctx.settings.routing, now=now)
    instant = to_instant(now)
    router, _ = Router.from_snapshot(snapshot, now=instant, policy=policy_of(ctx))
    if task_id not in router.tasks:
        return RoutingExplanationOut(
            task_id=task_id,
            status=row.status,
            filter_index=row.filter_index,
            filter_name=None,
            filters_not_matched=[],
            step_index=row.step_index,
            queue_id=row.queue_id,
            priority=row.priority,
            position=None,
            estimated_wait_seconds=None,
            worker_id=row.worker_id,
            preferred=[],
            ring_after_seconds=None,
            candidates=[],
            explained_at=now,
        )
    found = router.explain(task_id, now=instant)
    position = router.position(task_id)
    wait = (
        router.estimated_wait(found.queue_id, position=position)
        if found.queue_id is not None and position is not None
        else None
    )
    return RoutingExplanationOut(
        task_id=task_id,
        status=found.status.value,
        filter_index=found.filter_index,
        filter_name=found.filter_name,
        filters_not_matched=list(found.filters_not_matched),
        step_index=found.step_index,
        queue_id=found.queue_id,
        priority=found.priority,
        position=position,
        estimated_wait_seconds=wait,
        worker_id=found.worker_id,
        preferred=list(found.preferred),
        ring_after_seconds=found.ring_after_seconds,
        candidates=[
            CandidateOut(worker_id=c.worker_id, eligible=c.eligible, reason=c.reason)
            for c in found.candidates
        ],
        explained_at=now,
    )


async def queue_wait(
    ctx: AppContext, principal: Principal, queue_id: int, *, position: int | None = None
) -> QueueWaitOut:
    """The wait of a newcomer, or of the task at ``position`` (1 is served next)."""
    require(principal, Permission.DIRECTORY_READ)
    async with transaction(ctx) as session:
        queue = await session.get(Queue, queue_id)
        if queue is None or not principal.sees_site(queue.site_id):
            raise NotFound(f"queue {queue_id} does not exist")
        stats = await session.get(QueueStats, queue_id)
    waiting = stats.waiting if stats else 0
    place = waiting + 1 if position is None else position
    wait = None
    if stats is not None:
        aht = stats.average_handle_seconds or float(queue.expected_handle_seconds)
        wait = wait_at_position(place, free=stats.free_agents, slots=stats.slots, aht=aht)
    return QueueWaitOut(
        queue_id=queue_id,
        waiting=waiting,
        free_agents=stats.free_agents if stats else 0,
        position=place,
        estimated_wait_seconds=wait,
        updated_at=stats.updated_at if stats else None,
    )


async def set_site_routing_state(
    ctx: AppContext, principal: Principal, site_id: int, data: SiteRoutingUpdate
) -> SiteRoutingOut:
    """Open, drain (no new offers; work in progress ends normally) or close (pending
    offers withdrawn too) a site; its waiting tasks move on at once."""
    require(principal, Permission.SITES_STEER)
    async with transaction(ctx) as session:
        site = await session.scalar(select(Site).where(Site.id == site_id).with_for_update())
        if site is None or not principal.sees_site(site.id):
            raise NotFound(f"site {site_id} does not exist")
        previous = site.routing_state if site.is_open else SiteState.CLOSED.value
        site.routing_state = data.state.value
        site.is_open = data.state is not SiteState.CLOSED
        changes = {"routing_state": data.state.value, "previous": previous}
        record_audit(
            session,
            ctx,
            actor_user_id=principal.user_id,
            action="site.routing_state",
            entity_kind="site",
            entity_id=site.id,
            changes=changes,
        )
        await record_event(
            session,
            ctx,
            EventType.SITE_CHANGED,
            entity_kind="site",
            entity_id=site.id,
            payload={"action": "site.routing_state", "is_open": str(site.is_open), **changes},
            actor_user_id=principal.user_id,
            site_id=site.id,
        )
        command = await enqueue(
            session, ctx, CommandKind.RELOAD, payload=changes, actor_user_id=principal.user_id
        )
        out = SiteRoutingOut(site_id=site.id, state=data.state, is_open=site.is_open)
    await await_outcome(ctx, command.id)
    return out
