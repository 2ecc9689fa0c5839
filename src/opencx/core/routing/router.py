"""The router: an in-memory, deterministic routing state machine with no I/O.

Rules:
- after every call the router is settled: no waiting task could be offered to a free
  worker (work-conserving). Each call returns the decisions it took, in order;
- a worker never holds more tasks of a channel than its capacity, counting pending offers
  and wrap-ups; voice, when it blocks other channels, is held alone;
- a task is held by at most one worker, offered or assigned;
- an offer goes only to a worker whom the queue's target and the step's expression (or its
  current bullseye ring) accept; on a known-agent step, or after a transfer to named
  workers, only to a listed worker, best score first;
- within a queue, tasks are served by (priority, arrival); with aging, each
  ``aging_seconds`` of waiting counts as one priority level, so nothing starves;
- a worker who rejects an offer or lets it time out is not offered that task again for
  ``reoffer_cooldown_seconds``; ``max_missed_offers`` time-outs in a row set them not ready;
- ties are broken by ids, never by set or dict order, so equal inputs give equal outputs.

Calls that name something unknown raise ``NotFound``; a move the task's status does not
allow (``core.lifecycles.TASK_EVENTS``) raises ``IllegalTransition``; both change nothing.

The machinery is layered, each layer in its own private module: ``_router_state`` (the
tables and their bookkeeping), ``_router_offers`` (who may take what, offers and wrap-ups)
and ``_router_steps`` (workflow steps, redirects, fall-backs, timers). ``Router`` adds the
public calls, reading and snapshots.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence

from opencx.core.enums import Channel, PresenceState
from opencx.core.errors import Conflict, NotFound
from opencx.core.lifecycles import TaskEvent
from opencx.core.routing._records import (
    QueueRecord,
    TaskRecord,
    WorkerRecord,
    known_agents,
)
from opencx.core.routing._router_state import EXPIRE, NOT_BEFORE, WRAP, held_by
from opencx.core.routing._router_steps import StepMachinery
from opencx.core.routing.decisions import Decision
from opencx.core.routing.explain import Explanation, explain, why_not
from opencx.core.routing.model import (
    Instant,
    QueueSpec,
    ReservationState,
    RoutingPolicy,
    SiteState,
    Target,
    TaskSpec,
    TaskStatus,
    WorkerSpec,
    Workflow,
)
from opencx.core.routing.snapshot import Snapshot, TaskState, WorkerState, take_snapshot
from opencx.core.routing.wait_time import estimated_wait

__all__ = ["Router"]

_W = TaskStatus.WAITING
_R = TaskStatus.RESERVED
_A = TaskStatus.ASSIGNED
_AVAILABLE = PresenceState.AVAILABLE
_OFFLINE = PresenceState.OFFLINE


class Router(StepMachinery):
    """Route tasks to workers. Every method that changes state takes ``now`` and returns
    the list of decisions it took."""

    def __init__(
        self,
        *,
        workflow: Workflow,
        queues: Iterable[QueueSpec],
        policy: RoutingPolicy | None = None,
        closed_queues: Iterable[int] = (),
        sites: Mapping[int, SiteState] | None = None,
    ) -> None:
        self.workflow = workflow
        self.policy = policy or RoutingPolicy()
        self._queues = {spec.id: QueueRecord(spec) for spec in sorted(queues, key=_by_id)}
        self._closed = set(closed_queues)
        self._sites = dict(sites or {})
        self._workers: dict[int, WorkerRecord] = {}
        self._tasks: dict[int, TaskRecord] = {}
        self._free: dict[Channel, set[int]] = {channel: set() for channel in Channel}
        self._timers = []
        self._out: list[Decision] = []
        for target in self._all_targets():
            if target.queue_id not in self._queues:
                raise NotFound(f"a workflow target names queue {target.queue_id}, which is unknown")

    # ----------------------------------------------------------------- workers

    def add_worker(
        self,
        spec: WorkerSpec,
        *,
        presence: PresenceState,
        now: Instant,
        idle_since: Instant | None = None,
    ) -> list[Decision]:
        if spec.id in self._workers:
            raise Conflict(f"worker {spec.id} is already known to the router")
        worker = WorkerRecord(spec, presence, now if idle_since is None else idle_since)
        self._workers[spec.id] = worker
        self._join_queues(worker)
        self._settle(worker, now)
        return self._flush()

    def update_worker(self, spec: WorkerSpec, *, now: Instant) -> list[Decision]:
        """New attributes, capacity or site: queue memberships are worked out again."""
        worker = self._worker(spec.id)
        for queue_id in worker.queues:
            self._queues[queue_id].members.discard(worker.id)
        for free in self._free.values():
            free.discard(worker.id)
        worker.spec = spec
        self._join_queues(worker)
        self._settle(worker, now)
        return self._flush()

    def remove_worker(self, worker_id: int, *, now: Instant) -> list[Decision]:
        worker = self._worker(worker_id)
        if worker.held or worker.wraps:
            raise Conflict(f"worker {worker_id} still holds tasks", tasks=sorted(worker.held))
        for queue_id in worker.queues:
            self._queues[queue_id].members.discard(worker_id)
        for free in self._free.values():
            free.discard(worker_id)
        del self._workers[worker_id]
        return self._flush()

    def set_presence(
        self, worker_id: int, presence: PresenceState, *, now: Instant
    ) -> list[Decision]:
        """Going offline withdraws pending offers; becoming available clears missed offers."""
        worker = self._worker(worker_id)
        worker.presence = presence
        if presence is _AVAILABLE:
            worker.missed = 0
            if worker.total == 0:
                worker.idle_since = now
        self._refresh_free(worker)
        if presence is _OFFLINE:
            self._withdraw_offers(worker, now)
        self._settle(worker, now)
        return self._flush()

    # ------------------------------------------------------------------- tasks

    def submit(
        self,
        spec: TaskSpec,
        *,
        now: Instant,
        queue_id: int | None = None,
        worker_ids: Sequence[int] = (),
    ) -> list[Decision]:
        """A new task enters the workflow, or goes straight to ``queue_id`` and/or the
        named workers (a consult, an escalation)."""
        if spec.id in self._tasks:
            raise Conflict(f"task {spec.id} is already being routed")
        self._check_destination(queue_id, worker_ids)
        task = TaskRecord(spec)
        self._tasks[spec.id] = task
        if queue_id is not None or worker_ids:
            self._redirect(task, queue_id, worker_ids, now)
        elif spec.not_before is not None and spec.not_before > now:
            self._push(spec.not_before, NOT_BEFORE, task.id, task.version)
        else:
            self._start_workflow(task, now)
        return self._flush()

    def accept(self, task_id: int, *, now: Instant) -> list[Decision]:
        task = self._task_for(task_id, TaskEvent.ACCEPT)
        worker = self._workers[held_by(task)]
        self._move(task, TaskEvent.ACCEPT)
        task.accepted_at = now
        task.expires_at = None
        task.version += 1
        worker.missed = 0
        return self._flush()

    def reject(self, task_id: int, *, now: Instant) -> list[Decision]:
        task = self._task_for(task_id, TaskEvent.END_OFFER)
        self._end_offer(task, ReservationState.REJECTED, now)
        return self._flush()

    def complete(self, task_id: int, *, now: Instant) -> list[Decision]:
        """The worker is done with the task; wrap-up per its queue holds the capacity."""
        task = self._task_for(task_id, TaskEvent.COMPLETE)
        worker = self._workers[held_by(task)]
        self._record_handle_time(task, now)
        self._move(task, TaskEvent.COMPLETE)
        del self._tasks[task_id]  # an assigned task is in no queue and has no live timer
        self._release_to_wrap_up(worker, task, now)
        return self._flush()

    def end_wrap_up(self, worker_id: int, task_id: int, *, now: Instant) -> list[Decision]:
        worker = self._worker(worker_id)
        if task_id not in worker.wraps:
            raise NotFound(f"worker {worker_id} is not wrapping up task {task_id}")
        self._finish_wrap_up(worker, task_id, now)
        return self._flush()

    def cancel(self, task_id: int, *, now: Instant) -> list[Decision]:
        """The customer left while waiting or being offered: the task leaves routing."""
        task = self._task_for(task_id, TaskEvent.CANCEL)
        worker = self._workers.get(task.worker_id) if task.worker_id is not None else None
        self._drop(task, TaskEvent.CANCEL)
        if worker is not None:
            worker.held.pop(task.id)
            worker.give_back(task.spec.channel, now)
            self._settle(worker, now)
        return self._flush()

    def transfer(
        self,
        task_id: int,
        *,
        now: Instant,
        queue_id: int | None = None,
        worker_ids: Sequence[int] = (),
    ) -> list[Decision]:
        """Hand an assigned task to a queue or to named workers (a supervisor, an expert);
        the worker who had it wraps up. The task keeps its age, so it is served early."""
        if queue_id is None and not worker_ids:
            raise Conflict("a transfer needs a queue or at least one worker")
        task = self._task_for(task_id, TaskEvent.TRANSFER)
        self._check_destination(queue_id, worker_ids)
        worker = self._workers[held_by(task)]
        self._record_handle_time(task, now)
        self._release_to_wrap_up(worker, task, now)
        self._move(task, TaskEvent.TRANSFER)
        task.worker_id = None
        task.accepted_at = None
        task.version += 1
        self._redirect(task, queue_id, worker_ids, now)
        return self._flush()

    def _check_destination(self, queue_id: int | None, worker_ids: Sequence[int]) -> None:
        """Refuse an unknown queue or worker before anything changes."""
        for worker_id in worker_ids:
            self._worker(worker_id)
        if queue_id is not None and queue_id not in self._queues:
            raise NotFound(f"queue {queue_id} is unknown")

    def request_callback(self, task_id: int) -> None:
        """The customer hangs up but keeps their place: the eventual offer is a callback."""
        self._task(task_id, _W, _R).callback = True

    # ---------------------------------------------------------- sites, queues

    def set_queue_open(self, queue_id: int, is_open: bool, *, now: Instant) -> list[Decision]:
        """Closing a queue (business hours) moves its waiting tasks on at once."""
        if queue_id not in self._queues:
            raise NotFound(f"queue {queue_id} is unknown")
        if is_open:
            self._closed.discard(queue_id)
        else:
            self._closed.add(queue_id)
            self._evacuate([queue_id], now)
        return self._flush()

    def set_site_state(self, site_id: int, state: SiteState, *, now: Instant) -> list[Decision]:
        """A site that is not open takes no new offers and its queues' waiting tasks move
        on at once; a closed one also loses the offers pending on its workers."""
        self._sites[site_id] = state
        workers = sorted(
            (w for w in self._workers.values() if w.spec.site_id == site_id), key=lambda w: w.id
        )
        for worker in workers:
            self._refresh_free(worker)
        if state is SiteState.CLOSED:
            for worker in workers:
                self._withdraw_offers(worker, now)
        if state is SiteState.OPEN:
            for worker in workers:
                self._settle(worker, now)
        else:
            queues = [q.spec.id for q in self._queues.values() if q.spec.site_id == site_id]
            self._evacuate(queues, now)
        return self._flush()

    # ------------------------------------------------------------------ timers

    def advance(self, now: Instant) -> list[Decision]:
        """Fire every timer due by ``now``: offer time-outs, step time-outs, wider rings,
        re-offer cool-downs, scheduled callbacks and the ends of wrap-ups."""
        while self._timers and self._timers[0][0] <= now:
            timer = heapq.heappop(self._timers)
            if self._live(timer):
                self._fire(timer, now)
        return self._flush()

    def next_deadline(self) -> Instant | None:
        """When ``advance`` next has something to do; ``None`` when nothing is pending."""
        while self._timers and not self._live(self._timers[0]):
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    # ----------------------------------------------------------------- reading

    @property
    def tasks(self) -> Mapping[int, TaskRecord]:
        return self._tasks

    @property
    def workers(self) -> Mapping[int, WorkerRecord]:
        return self._workers

    @property
    def queues(self) -> Mapping[int, QueueRecord]:
        return self._queues

    @property
    def closed_queues(self) -> frozenset[int]:
        return frozenset(self._closed)

    @property
    def site_states(self) -> dict[int, SiteState]:
        return dict(self._sites)

    def task(self, task_id: int) -> TaskRecord:
        return self._task(task_id, _W, _R, _A)

    def free_workers(self, channel: Channel) -> frozenset[int]:
        """Workers who could be offered a task of ``channel`` now."""
        return frozenset(self._free[channel])

    def site_state(self, site_id: int | None) -> SiteState:
        return self._sites.get(site_id, SiteState.OPEN) if site_id is not None else SiteState.OPEN

    def position(self, task_id: int) -> int | None:
        """1 for the next task its queue will serve; ``None`` unless waiting in a queue."""
        task = self._tasks.get(task_id)
        if task is None or not task.queued or task.queue_id is None:
            return None
        return self._queues[task.queue_id].position(task.spec.channel, task.key)

    def estimated_wait(self, queue_id: int, *, position: int | None = None) -> float | None:
        """Seconds a task at ``position`` in the queue should still wait (``wait_time``)."""
        return estimated_wait(self, queue_id, position=position)

    def explain(self, task_id: int, *, now: Instant) -> Explanation:
        """Which filter and step the task is in, and why each worker may or may not take it."""
        return explain(self, task_id, now=now)

    def why_not(self, worker_id: int, task_id: int, *, now: Instant) -> str | None:
        """Why ``worker_id`` may not be offered ``task_id`` now; ``None`` if it may."""
        return why_not(self, worker_id, task_id, now=now)

    # ------------------------------------------------------------- snapshots

    def snapshot(self) -> Snapshot:
        return take_snapshot(self)

    @classmethod
    def from_snapshot(
        cls, snapshot: Snapshot, *, now: Instant, policy: RoutingPolicy | None = None
    ) -> tuple[Router, list[Decision]]:
        """A router in the snapshot's state, settled at ``now``, and what settling took."""
        router = cls(
            workflow=snapshot.workflow,
            queues=snapshot.queues,
            policy=policy,
            closed_queues=snapshot.closed_queues,
            sites=snapshot.sites,
        )
        for state in sorted(snapshot.workers, key=lambda w: w.spec.id):
            router._restore_worker(state)
        placed: list[TaskRecord] = []
        fresh: list[TaskRecord] = []
        for task_state in sorted(snapshot.tasks, key=lambda t: t.spec.id):
            task = router._restore_task(task_state)
            if task.status is _W:
                (placed if task.queue_id is not None or task.pinned else fresh).append(task)
        for worker in router._workers.values():
            router._refresh_free(worker)
        for task in sorted(placed, key=lambda t: t.key):
            router._wait(task, now)
        for task in fresh:
            router._submit_restored(task, now)
        for worker in list(router._workers.values()):
            router._fill(worker, now)
        return router, router._flush()

    def _submit_restored(self, task: TaskRecord, now: Instant) -> None:
        spec = task.spec
        if spec.not_before is not None and spec.not_before > now:
            self._push(spec.not_before, NOT_BEFORE, task.id, task.version)
        else:
            self._start_workflow(task, now)

    def _restore_worker(self, state: WorkerState) -> None:
        worker = WorkerRecord(state.spec, state.presence, state.idle_since)
        worker.missed = state.missed_offers
        self._workers[worker.id] = worker
        self._join_queues(worker)
        for wrap in state.wraps:
            worker.wraps[wrap.task_id] = (wrap.channel, wrap.until)
            worker.take(wrap.channel)
            self._push(wrap.until, WRAP, worker.id, wrap.task_id)

    def _restore_task(self, state: TaskState) -> TaskRecord:
        task = TaskRecord(state.spec)
        self._tasks[task.id] = task
        task.status = state.status
        task.priority = state.spec.priority if state.priority is None else state.priority
        task.excluded = dict(state.excluded)
        task.callback = state.callback
        task.accepted_at = state.accepted_at
        task.pinned = state.pinned
        task.queue_id = state.queue_id
        task.home_queue = state.queue_id
        if state.queue_id is not None and state.queue_id not in self._queues:
            task.queue_id = None  # its queue is gone: it starts the workflow again
        if state.filter_index is not None:
            target = self._target_at(state.filter_index, state.step_index)
            if target is not None and target.queue_id == task.queue_id:
                task.filter_index, task.step_index = state.filter_index, state.step_index
                task.target = target
            else:
                task.queue_id = None  # the workflow changed under it: it starts again
        task.preferred = known_agents(task, task.target) if task.target else (task.pinned or ())
        task.key = self._order_key(task)
        if task.status is not _W:
            worker = self._workers.get(state.worker_id) if state.worker_id is not None else None
            if worker is None:
                raise NotFound(
                    f"task {task.id} is held by worker {state.worker_id}, who is unknown"
                )
            task.worker_id = worker.id
            worker.held[task.id] = task.spec.channel
            worker.take(task.spec.channel)
            if task.status is _R:
                task.expires_at = state.expires_at
                expires = state.expires_at if state.expires_at is not None else 0.0
                self._push(expires, EXPIRE, task.id, task.version)
        return task

    def _target_at(self, filter_index: int | None, step_index: int | None) -> Target | None:
        if filter_index is None or step_index is None:
            return None
        filters = self.workflow.filters
        if not 0 <= filter_index < len(filters):
            return None
        targets = filters[filter_index].targets
        return targets[step_index] if 0 <= step_index < len(targets) else None


def _by_id(spec: QueueSpec) -> int:
    return spec.id
