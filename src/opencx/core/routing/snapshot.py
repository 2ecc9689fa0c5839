"""The routing state as plain values: what is stored, and what a router restarts from.

Rules:
- a snapshot holds everything the router needs; ``decide`` gives the same decisions for
  equal snapshots;
- ``Router.snapshot()`` then ``from_snapshot`` round-trips: the restored router decides
  as the original would have (this is how routing survives a restart);
- a waiting task with neither a filter nor a queue is new: it enters the workflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opencx.core.enums import Channel, PresenceState
from opencx.core.routing.model import (
    Instant,
    QueueSpec,
    SiteState,
    TaskSpec,
    TaskStatus,
    WorkerSpec,
    Workflow,
)

if TYPE_CHECKING:
    from opencx.core.routing.router import Router

__all__ = ["Snapshot", "TaskState", "WorkerState", "WrapUp", "take_snapshot"]


@dataclass(frozen=True, slots=True)
class WrapUp:
    task_id: int
    channel: Channel
    until: Instant


@dataclass(frozen=True, slots=True)
class WorkerState:
    spec: WorkerSpec
    presence: PresenceState
    idle_since: Instant
    missed_offers: int = 0
    wraps: tuple[WrapUp, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskState:
    """``worker_id``: who holds a reserved or assigned task. ``pinned``: the workers a
    transfer named. ``excluded``: workers not to be offered the task again until then."""

    spec: TaskSpec
    status: TaskStatus = TaskStatus.WAITING
    priority: int | None = None
    filter_index: int | None = None
    step_index: int | None = None
    queue_id: int | None = None
    pinned: tuple[int, ...] | None = None
    worker_id: int | None = None
    expires_at: Instant | None = None
    accepted_at: Instant | None = None
    excluded: Mapping[int, Instant] = field(default_factory=dict)
    callback: bool = False


@dataclass(frozen=True, slots=True)
class Snapshot:
    workflow: Workflow
    queues: tuple[QueueSpec, ...]
    workers: tuple[WorkerState, ...] = ()
    tasks: tuple[TaskState, ...] = ()
    closed_queues: frozenset[int] = frozenset()
    sites: Mapping[int, SiteState] = field(default_factory=dict)


def take_snapshot(router: Router) -> Snapshot:
    """The router's whole state, to store or to restart from."""
    workers = tuple(
        WorkerState(
            spec=w.spec,
            presence=w.presence,
            idle_since=w.idle_since,
            missed_offers=w.missed,
            wraps=tuple(WrapUp(t, ch, until) for t, (ch, until) in sorted(w.wraps.items())),
        )
        for w in router.workers.values()
    )
    tasks = tuple(
        TaskState(
            spec=t.spec,
            status=t.status,
            priority=t.priority,
            filter_index=t.filter_index,
            step_index=t.step_index,
            queue_id=t.queue_id,
            pinned=t.pinned,
            worker_id=t.worker_id,
            expires_at=t.expires_at,
            accepted_at=t.accepted_at,
            excluded=dict(t.excluded),
            callback=t.callback,
        )
        for t in router.tasks.values()
    )
    return Snapshot(
        workflow=router.workflow,
        queues=tuple(q.spec for q in router.queues.values()),
        workers=workers,
        tasks=tasks,
        closed_queues=router.closed_queues,
        sites=router.site_states,
    )
