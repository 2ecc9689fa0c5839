"""Why a task is where it is: the filter and step it matched, and every worker's verdict.

Built on demand (``Router.explain``), never on the routing hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from opencx.core.enums import Channel, PresenceState
from opencx.core.routing._records import ring_expression
from opencx.core.routing.model import Instant, SiteState, TaskStatus, serves

if TYPE_CHECKING:
    from opencx.core.routing.router import Router

__all__ = ["REASONS", "Candidate", "Explanation", "Verdict", "explain", "verdict", "why_not"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """``reason`` is ``None`` for a worker who may be offered the task now; ``verdict``
    gives the same reason as a code."""

    worker_id: int
    reason: str | None
    verdict: Verdict | None = None

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
            _candidate(router, worker.id, task.id, now=now)
            for worker in sorted(router.workers.values(), key=lambda w: w.id)
        ),
    )


def _candidate(router: Router, worker_id: int, task_id: int, *, now: Instant) -> Candidate:
    found = verdict(router, worker_id, task_id, now=now)
    return Candidate(worker_id, None if found is None else found.text, found)


#: What each verdict code says, in the words ``why_not`` gives; ``Verdict.params`` fill it.
REASONS: Mapping[str, str] = MappingProxyType(
    {
        "holds_task": "already holds the task ({status})",
        "presence": "is {presence}",
        "site_not_open": "works on site {site}, which is {state}",
        "simulated": "is a simulated agent, and the task is a real customer's",
        "not_reserved_for": "is not one of the agents this step is reserved for",
        "not_in_queue": "the task is not in a queue",
        "queue_target": "does not match the target of queue {queue}",
        "step_expression": "does not match the step's expression {expression!r}",
        "no_capacity": "takes no {channel} tasks",
        "full": "holds {held} of {capacity} {channel} tasks",
        "voice_alone": "is on a voice call, which is taken alone",
        "voice_blocked": "is handling other channels, and voice is taken alone",
        "cooling_down": "rejected this task or let it time out a moment ago",
    }
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a worker may not take a task: a stable ``code`` of ``REASONS`` and the values
    its words name, so that a screen can say it in its reader's language."""

    code: str
    params: Mapping[str, str | int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return REASONS[self.code].format(**self.params)


def why_not(router: Router, worker_id: int, task_id: int, *, now: Instant) -> str | None:
    """Why ``worker_id`` may not be offered ``task_id`` now; ``None`` if it may."""
    found = verdict(router, worker_id, task_id, now=now)
    return None if found is None else found.text


def verdict(router: Router, worker_id: int, task_id: int, *, now: Instant) -> Verdict | None:
    """Why ``worker_id`` may not be offered ``task_id`` now, as a code; ``None`` if it may.

    Spells out, in words, the same rules the router applies on its hot path.
    """
    worker, task = router.workers[worker_id], router.task(task_id)
    if task.worker_id == worker_id:
        return Verdict("holds_task", {"status": task.status.value})
    if worker.presence is not PresenceState.AVAILABLE:
        return Verdict("presence", {"presence": worker.presence.value})
    if not serves(worker.spec.attributes, task.spec.attributes):
        return Verdict("simulated")
    site = worker.spec.site_id
    if router.site_state(site) is not SiteState.OPEN:
        return Verdict("site_not_open", {"site": str(site), "state": router.site_state(site).value})
    return _outside_target(router, worker_id, task_id, now=now) or _no_room(
        router, worker_id, task_id, now=now
    )


def _outside_target(
    router: Router, worker_id: int, task_id: int, *, now: Instant
) -> Verdict | None:
    worker, task = router.workers[worker_id], router.task(task_id)
    if task.preferred:
        if worker_id not in task.preferred:
            return Verdict("not_reserved_for")
    elif task.queue_id is None:
        return Verdict("not_in_queue")
    else:
        queue = router.queues[task.queue_id]
        if worker_id not in queue.members or (
            queue.dynamic
            and not queue.spec.target.evaluate(task.spec.attributes, worker.spec.attributes)
        ):
            return Verdict("queue_target", {"queue": queue.spec.name or str(queue.spec.id)})
    if task.target is not None:
        expression = ring_expression(task.target, now - task.spec.created_at)
        if not expression.evaluate(task.spec.attributes, worker.spec.attributes):
            return Verdict("step_expression", {"expression": expression.source})
    return None


def _no_room(router: Router, worker_id: int, task_id: int, *, now: Instant) -> Verdict | None:
    worker, task = router.workers[worker_id], router.task(task_id)
    channel = task.spec.channel
    capacity = worker.spec.capacity.get(channel, 0)
    if capacity == 0:
        return Verdict("no_capacity", {"channel": channel.value})
    held = worker.load.get(channel, 0)
    if held >= capacity:
        return Verdict("full", {"held": held, "capacity": capacity, "channel": channel.value})
    if not worker.has_room(channel):
        return Verdict("voice_alone" if worker.load.get(Channel.VOICE, 0) else "voice_blocked")
    if task.excludes(worker_id, now):
        return Verdict("cooling_down")
    return None
