"""Why a task is where it is: the filter and step it matched, and every worker's verdict.

Built on demand (``Router.explain``), never on the routing hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from opencx.core.enums import Channel, PresenceState
from opencx.core.routing._records import ring_expression
from opencx.core.routing.model import Instant, SiteState, TaskStatus, serves

if TYPE_CHECKING:
    from opencx.core.routing.router import Router

__all__ = ["Candidate", "Explanation", "explain", "why_not"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """``reason`` is ``None`` for a worker who may be offered the task now."""

    worker_id: int
    reason: str | None

    @property
    def eligible(self) -> bool:
        return self.reason is None


@dataclass(frozen=True, slots=True)
class Explanation:
    task_id: int
    status: TaskStatus
    filter_index: int | None
    filter_name: str | None
    filters_not_matched: tuple[str, ...]
    step_index: int | None
    queue_id: int | None
    priority: int
    position: int | None
    worker_id: int | None
    preferred: tuple[int, ...]
    ring_after_seconds: float | None
    candidates: tuple[Candidate, ...]


def explain(router: Router, task_id: int, *, now: Instant) -> Explanation:
    """Which filter and step the task is in, and why each worker may or may not take it."""
    task = router.task(task_id)
    filters = router.workflow.filters
    matched = task.filter_index
    skipped = filters[:matched] if matched is not None else ()
    rings = task.target.rings if task.target is not None else ()
    age = now - task.spec.created_at
    reached = [ring.after_seconds for ring in rings if ring.after_seconds <= age]
    return Explanation(
        task_id=task.id,
        status=task.status,
        filter_index=matched,
        filter_name=filters[matched].name if matched is not None else None,
        filters_not_matched=tuple(f.name for f in skipped),
        step_index=task.step_index,
        queue_id=task.queue_id,
        priority=task.priority,
        position=router.position(task.id),
        worker_id=task.worker_id,
        preferred=task.preferred,
        ring_after_seconds=max(reached) if reached else None,
        candidates=tuple(
            Candidate(worker.id, why_not(router, worker.id, task.id, now=now))
            for worker in sorted(router.workers.values(), key=lambda w: w.id)
        ),
    )


def why_not(router: Router, worker_id: int, task_id: int, *, now: Instant) -> str | None:
    """Why ``worker_id`` may not be offered ``task_id`` now; ``None`` if it may.

    Spells out, in words, the same rules the router applies on its hot path.
    """
    worker, task = router.workers[worker_id], router.task(task_id)
    channel = task.spec.channel
    if task.worker_id == worker_id:
        return f"already holds the task ({task.status.value})"
    if worker.presence is not PresenceState.AVAILABLE:
        return f"is {worker.presence.value}"
    if not serves(worker.spec.attributes, task.spec.attributes):
        return "is a simulated agent, and the task is a real customer's"
    site = worker.spec.site_id
    if router.site_state(site) is not SiteState.OPEN:
        return f"works on site {site}, which is {router.site_state(site).value}"
    if task.preferred:
        if worker_id not in task.preferred:
            return "is not one of the agents this step is reserved for"
    elif task.queue_id is None:
        return "the task is not in a queue"
    else:
        queue = router.queues[task.queue_id]
        if worker_id not in queue.members or (
            queue.dynamic
            and not queue.spec.target.evaluate(task.spec.attributes, worker.spec.attributes)
        ):
            return f"does not match the target of queue {queue.spec.name or queue.spec.id}"
    if task.target is not None:
        expression = ring_expression(task.target, now - task.spec.created_at)
        if not expression.evaluate(task.spec.attributes, worker.spec.attributes):
            return f"does not match the step's expression {expression.source!r}"
    capacity = worker.spec.capacity.get(channel, 0)
    if capacity == 0:
        return f"takes no {channel.value} tasks"
    held = worker.load.get(channel, 0)
    if held >= capacity:
        return f"holds {held} of {capacity} {channel.value} tasks"
    if not worker.has_room(channel):
        return (
            "is on a voice call, which is taken alone"
            if worker.load.get(Channel.VOICE, 0)
            else "is handling other channels, and voice is taken alone"
        )
    if task.excludes(worker_id, now):
        return "rejected this task or let it time out a moment ago"
    return None
