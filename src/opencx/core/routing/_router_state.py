"""The router's tables, and the bookkeeping that keeps them consistent (private).

``RouterState`` is the bottom layer of ``Router``: ``_router_offers`` and ``_router_steps``
build on it. It holds no routing decision of its own.

Rules:
- a worker is in ``_free[channel]`` exactly when they are available, their site is open and
  they have room on that channel; ``_refresh_free`` is the one place that decides it;
- a waiting task is queued at most once: in its queue by its order key and in the direct
  lists of its preferred workers, or in neither;
- a timer is ``(at, kind, ref, version)``, ordered by content and not by when it was
  pushed, so that a router restored from a snapshot fires simultaneous timers in the same
  order; a task timer carries the task's version and dies when that changes;
- a task's status changes only through ``_move`` (``core.lifecycles.TASK_EVENTS``);
  a public call checks its event with ``_task_for`` before it changes anything;
- every call reports its decisions by appending them to ``_out``, and ``_flush`` hands
  them over in order.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from opencx.core.enums import Channel, PresenceState
from opencx.core.errors import IllegalTransition, NotFound
from opencx.core.lifecycles import TASK_EVENTS, TaskEvent, next_status
from opencx.core.routing._records import OrderKey, QueueRecord, TaskRecord, WorkerRecord
from opencx.core.routing.decisions import Decision
from opencx.core.routing.model import (
    Instant,
    RoutingPolicy,
    SiteState,
    Target,
    TaskStatus,
    Workflow,
)

__all__ = [
    "EXPIRE",
    "NOT_BEFORE",
    "RETRY",
    "RING",
    "STEP",
    "WRAP",
    "RouterState",
    "Timer",
    "held_by",
]

_AVAILABLE = PresenceState.AVAILABLE

#: ``(at, kind, ref, version)``; for ``WRAP``, ``ref`` is the worker and ``version`` the task.
Timer = tuple[Instant, int, int, int]

# Timer kinds. Simultaneous timers fire in this order: renumbering them changes decisions.
EXPIRE, STEP, RING, RETRY, NOT_BEFORE, WRAP = range(6)


class RouterState:
    """The tables that every layer of the router reads and writes (``Router`` fills them)."""

    workflow: Workflow
    policy: RoutingPolicy
    _queues: dict[int, QueueRecord]
    _closed: set[int]
    _sites: dict[int, SiteState]
    _workers: dict[int, WorkerRecord]
    _tasks: dict[int, TaskRecord]
    _free: dict[Channel, set[int]]
    _timers: list[Timer]  # a heap
    _out: list[Decision]

    # -- lookups

    def _flush(self) -> list[Decision]:
        out, self._out = self._out, []
        return out

    def _worker(self, worker_id: int) -> WorkerRecord:
        worker = self._workers.get(worker_id)
        if worker is None:
            raise NotFound(f"worker {worker_id} is unknown to the router")
        return worker

    def _task(self, task_id: int, *allowed: TaskStatus) -> TaskRecord:
        task = self._tasks.get(task_id)
        if task is None:
            raise NotFound(f"task {task_id} is not being routed")
        if task.status not in allowed:
            raise IllegalTransition(
                f"task {task_id} is {task.status.value}",
                current=task.status.value,
                allowed=sorted(s.value for s in allowed),
            )
        return task

    def _task_for(self, task_id: int, event: TaskEvent) -> TaskRecord:
        """The task, if ``event`` may happen to it now (checked before anything changes)."""
        task = self._tasks.get(task_id)
        if task is None:
            raise NotFound(f"task {task_id} is not being routed")
        if event not in TASK_EVENTS[task.status]:
            raise IllegalTransition(
                f"task {task_id} is {task.status.value}: it cannot {event.value.replace('_', ' ')}",
                current=task.status.value,
                event=event.value,
                allowed=sorted(e.value for e in TASK_EVENTS[task.status]),
            )
        return task

    def _all_targets(self) -> Iterable[Target]:
        for filter_ in self.workflow.filters:
            yield from filter_.targets

    def _site_open(self, site_id: int | None) -> bool:
        return site_id is None or self._sites.get(site_id, SiteState.OPEN) is SiteState.OPEN

    def queue_is_open(self, queue_id: int) -> bool:
        queue = self._queues[queue_id]
        return queue_id not in self._closed and self._site_open(queue.spec.site_id)

    # -- timers

    def _push(self, at: Instant, kind: int, ref: int, version: int) -> None:
        heapq.heappush(self._timers, (at, kind, ref, version))

    # -- workers

    def _join_queues(self, worker: WorkerRecord) -> None:
        worker.queues = [queue.spec.id for queue in self._queues.values() if queue.accepts(worker)]
        for queue_id in worker.queues:
            self._queues[queue_id].members.add(worker.id)

    def _refresh_free(self, worker: WorkerRecord) -> None:
        ready = worker.presence is _AVAILABLE and self._site_open(worker.spec.site_id)
        for channel in worker.spec.capacity:
            if ready and worker.has_room(channel):
                self._free[channel].add(worker.id)
            else:
                self._free[channel].discard(worker.id)

    # -- tasks

    def _enqueue(self, task: TaskRecord) -> None:
        if task.queue_id is not None:
            self._queues[task.queue_id].insert(task.spec.channel, task.key)
        for worker_id in task.preferred:
            worker = self._workers.get(worker_id)
            if worker is not None:
                worker.direct.add(task.id)
        task.queued = True

    def _unqueue(self, task: TaskRecord) -> None:
        if not task.queued:
            return
        if task.queue_id is not None:
            self._queues[task.queue_id].remove(task.spec.channel, task.key)
        for worker_id in task.preferred:
            worker = self._workers.get(worker_id)
            if worker is not None:
                worker.direct.discard(task.id)
        task.queued = False

    def _order_key(self, task: TaskRecord) -> OrderKey:
        created = task.spec.created_at
        aging = self.policy.aging_seconds
        if aging is None:
            return (float(-task.priority), created, task.id)
        return (created - task.priority * aging, created, task.id)

    @staticmethod
    def _move(task: TaskRecord, event: TaskEvent) -> None:
        """The one way the router changes a task's status (``TASK_EVENTS``); on the hot
        path, so the table is read here and ``next_status`` only explains a refusal."""
        try:
            task.status = TASK_EVENTS[task.status][event]
        except KeyError:
            next_status(task.status, event)
            raise

    def _drop(self, task: TaskRecord, event: TaskEvent) -> None:
        """The task leaves routing (``event``: completed, canceled, fallen back)."""
        self._move(task, event)
        self._unqueue(task)
        task.version += 1
        del self._tasks[task.id]


def held_by(task: TaskRecord) -> int:
    assert task.worker_id is not None
    return task.worker_id
