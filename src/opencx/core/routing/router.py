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

Calls that name something unknown raise ``NotFound``; a move the task's state does not
allow raises ``IllegalTransition``; both change nothing.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence

from opencx.core.enums import Channel, PresenceState
from opencx.core.errors import Conflict, IllegalTransition, NotFound
from opencx.core.routing._records import (
    OrderKey,
    QueueRecord,
    TaskRecord,
    WorkerRecord,
    known_agents,
    ring_expression,
    skill_level,
)
from opencx.core.routing.decisions import (
    Decision,
    Fallback,
    Offer,
    OfferEnded,
    SetNotReady,
    StepChanged,
    WrapUpEnded,
)
from opencx.core.routing.explain import Explanation, explain, why_not
from opencx.core.routing.model import (
    MISSED_OFFERS_REASON,
    Instant,
    QueueSpec,
    ReservationState,
    RoutingPolicy,
    Selection,
    SiteState,
    SkipIf,
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

# Timer kinds. Task timers carry the task's version and die when it changes.
_EXPIRE, _STEP, _RING, _RETRY, _NOT_BEFORE, _WRAP = range(6)


class Router:
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
        self._sites: dict[int, SiteState] = dict(sites or {})
        self._workers: dict[int, WorkerRecord] = {}
        self._tasks: dict[int, TaskRecord] = {}
        self._free: dict[Channel, set[int]] = {channel: set() for channel in Channel}
        # (at, kind, ref, version): ordered by content, not by when it was pushed, so a
        # router restored from a snapshot fires simultaneous timers in the same order.
        self._timers: list[tuple[Instant, int, int, int]] = []
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
        task = TaskRecord(spec)
        self._tasks[spec.id] = task
        if queue_id is not None or worker_ids:
            self._redirect(task, queue_id, worker_ids, now)
        elif spec.not_before is not None and spec.not_before > now:
            self._push(spec.not_before, _NOT_BEFORE, task.id, task.version)
        else:
            self._start_workflow(task, now)
        return self._flush()

    def accept(self, task_id: int, *, now: Instant) -> list[Decision]:
        task = self._task(task_id, _R)
        worker = self._workers[_held_by(task)]
        task.status = _A
        task.accepted_at = now
        task.expires_at = None
        task.version += 1
        worker.missed = 0
        return self._flush()

    def reject(self, task_id: int, *, now: Instant) -> list[Decision]:
        task = self._task(task_id, _R)
        self._end_offer(task, ReservationState.REJECTED, now)
        return self._flush()

    def complete(self, task_id: int, *, now: Instant) -> list[Decision]:
        """The worker is done with the task; wrap-up per its queue holds the capacity."""
        task = self._task(task_id, _A)
        worker = self._workers[_held_by(task)]
        self._record_handle_time(task, now)
        del self._tasks[task_id]
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
        task = self._task(task_id, _W, _R)
        worker = self._workers.get(task.worker_id) if task.worker_id is not None else None
        self._drop(task)
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
        task = self._task(task_id, _A)
        worker = self._workers[_held_by(task)]
        self._record_handle_time(task, now)
        self._release_to_wrap_up(worker, task, now)
        task.status = _W
        task.worker_id = None
        task.accepted_at = None
        task.version += 1
        self._redirect(task, queue_id, worker_ids, now)
        return self._flush()

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

    def queue_is_open(self, queue_id: int) -> bool:
        queue = self._queues[queue_id]
        return queue_id not in self._closed and self._site_open(queue.spec.site_id)

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
            self._push(spec.not_before, _NOT_BEFORE, task.id, task.version)
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
            self._push(wrap.until, _WRAP, worker.id, wrap.task_id)

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
                self._push(expires, _EXPIRE, task.id, task.version)
        return task

    def _target_at(self, filter_index: int | None, step_index: int | None) -> Target | None:
        if filter_index is None or step_index is None:
            return None
        filters = self.workflow.filters
        if not 0 <= filter_index < len(filters):
            return None
        targets = filters[filter_index].targets
        return targets[step_index] if 0 <= step_index < len(targets) else None

    # ================================================================ internals

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

    def _all_targets(self) -> Iterable[Target]:
        for filter_ in self.workflow.filters:
            yield from filter_.targets

    def _site_open(self, site_id: int | None) -> bool:
        return site_id is None or self._sites.get(site_id, SiteState.OPEN) is SiteState.OPEN

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

    def _settle(self, worker: WorkerRecord, now: Instant) -> None:
        self._refresh_free(worker)
        self._fill(worker, now)

    def _fill(self, worker: WorkerRecord, now: Instant) -> None:
        """Offer the worker the best tasks it can take until it has no room left."""
        while self._is_free(worker):
            task = self._best_task_for(worker, now)
            if task is None:
                return
            self._offer(task, worker, now)

    def _is_free(self, worker: WorkerRecord) -> bool:
        return any(worker.id in self._free[channel] for channel in worker.spec.capacity)

    def _best_task_for(self, worker: WorkerRecord, now: Instant) -> TaskRecord | None:
        best: TaskRecord | None = None
        for task_id in worker.direct:
            task = self._tasks[task_id]
            if (best is None or task.key < best.key) and self._takes(worker, task, now):
                best = task
        for queue_id in worker.queues:
            queue = self._queues[queue_id]
            for channel, keys in queue.waiting.items():
                if not keys or worker.id not in self._free[channel]:
                    continue
                for key in keys:
                    if best is not None and key >= best.key:
                        break
                    task = self._tasks[key[2]]
                    if not task.preferred and self._takes(worker, task, now):
                        best = task
                        break
        return best

    def _takes(self, worker: WorkerRecord, task: TaskRecord, now: Instant) -> bool:
        """Whether ``worker``, free on the task's channel, may be offered ``task``."""
        if worker.id not in self._free[task.spec.channel] or task.excludes(worker.id, now):
            return False
        target = task.target
        if task.preferred:
            if worker.id not in task.preferred:
                return False
        elif task.queue_id is not None:
            queue = self._queues[task.queue_id]
            if worker.id not in queue.members:
                return False
            if queue.dynamic and not queue.per_task.evaluate(
                task.spec.attributes, worker.spec.attributes
            ):
                return False
        if target is None:
            return True
        expression = ring_expression(target, now - task.spec.created_at)
        return expression.evaluate(task.spec.attributes, worker.spec.attributes)

    def _withdraw_offers(self, worker: WorkerRecord, now: Instant) -> None:
        for task_id in sorted(worker.held):
            task = self._tasks[task_id]
            if task.status is _R:
                self._end_offer(task, ReservationState.RESCINDED, now)

    # -- tasks

    def _start_workflow(self, task: TaskRecord, now: Instant) -> None:
        attributes = task.spec.attributes
        for index, filter_ in enumerate(self.workflow.filters):
            if filter_.expression.evaluate(attributes):
                task.filter_index = index
                self._enter_step(task, 0, now)
                return
        self._fallback(task, "no workflow filter matches the task", now)

    def _enter_step(self, task: TaskRecord, start: int, now: Instant) -> None:
        """Enter the first target from ``start`` that is open, not timed out, not skipped."""
        assert task.filter_index is not None
        targets = self.workflow.filters[task.filter_index].targets
        age = now - task.spec.created_at
        for index in range(start, len(targets)):
            target = targets[index]
            if target.timeout_seconds is not None and age >= target.timeout_seconds:
                continue
            if not self.queue_is_open(target.queue_id):
                continue
            preferred = known_agents(task, target)
            if target.preferred is not None and not self._any_logged_in(preferred):
                continue
            if self._skipped(task, target, preferred, now):
                continue
            self._place(task, target, index, preferred, now)
            return
        self._fallback(task, "no open target is left in the workflow", now)

    def _redirect(
        self, task: TaskRecord, queue_id: int | None, worker_ids: Sequence[int], now: Instant
    ) -> None:
        """Put the task outside its workflow: in ``queue_id`` and/or for named workers."""
        for worker_id in worker_ids:
            self._worker(worker_id)
        home = queue_id if queue_id is not None else task.queue_id or task.home_queue
        if home is not None and home not in self._queues:
            raise NotFound(f"queue {home} is unknown")
        task.filter_index = None
        task.pinned = tuple(worker_ids) or None
        self._place(task, None, None, task.pinned or (), now, queue_id=home)

    def _place(
        self,
        task: TaskRecord,
        target: Target | None,
        step_index: int | None,
        preferred: tuple[int, ...],
        now: Instant,
        *,
        queue_id: int | None = None,
    ) -> None:
        self._unqueue(task)
        task.target = target
        task.step_index = step_index
        task.queue_id = target.queue_id if target is not None else queue_id
        if task.queue_id is not None:
            task.home_queue = task.queue_id
        if target is not None and target.priority is not None:
            task.priority = target.priority
        task.preferred = preferred
        task.key = self._order_key(task)
        task.version += 1
        self._out.append(
            StepChanged(task.id, task.filter_index, step_index, task.queue_id, task.priority, now)
        )
        self._wait(task, now)

    def _wait(self, task: TaskRecord, now: Instant) -> None:
        """Queue the task in its current step, arm its timers, and try to offer it."""
        target = task.target
        if target is not None and target.timeout_seconds is not None:
            if now - task.spec.created_at >= target.timeout_seconds:
                self._leave_step(task, now)
                return
            self._push(task.spec.created_at + target.timeout_seconds, _STEP, task.id, task.version)
        self._enqueue(task)
        self._arm_ring(task, now)
        for until in task.excluded.values():
            if until > now:
                self._push(until, _RETRY, task.id, task.version)
        self._try_offer(task, now)

    def _arm_ring(self, task: TaskRecord, now: Instant) -> None:
        if task.target is None:
            return
        age = now - task.spec.created_at
        later = [r.after_seconds for r in task.target.rings if r.after_seconds > age]
        if later:
            self._push(task.spec.created_at + min(later), _RING, task.id, task.version)

    def _leave_step(self, task: TaskRecord, now: Instant) -> None:
        """The current step is over (timed out or closed): on to the next, or fall back."""
        self._unqueue(task)
        if task.filter_index is None or task.step_index is None:
            self._fallback(task, "the queue it was transferred to closed", now)
        else:
            self._enter_step(task, task.step_index + 1, now)

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

    def _try_offer(self, task: TaskRecord, now: Instant) -> None:
        candidates = self._candidates(task, now)
        if candidates:
            self._offer(task, self._select(task, candidates), now)

    def _candidates(self, task: TaskRecord, now: Instant) -> list[WorkerRecord]:
        free = self._free[task.spec.channel]
        if task.preferred:
            pool: Iterable[int] = [w for w in task.preferred if w in free]
        elif task.queue_id is None:
            return []
        else:
            members = self._queues[task.queue_id].members
            pool = free & members if len(free) < len(members) else members & free
        workers = (self._workers[w] for w in pool if w in self._workers)
        return [w for w in workers if self._takes(w, task, now)]

    def _select(self, task: TaskRecord, candidates: list[WorkerRecord]) -> WorkerRecord:
        if task.preferred:
            return candidates[0]  # already best score first
        assert task.queue_id is not None
        spec = self._queues[task.queue_id].spec
        if spec.selection is Selection.SKILL_LEVEL and spec.skill:
            path = tuple(spec.skill.split("."))
            return min(
                candidates,
                key=lambda w: (-skill_level(w.spec.attributes, path), w.total, w.idle_since, w.id),
            )
        if spec.selection is Selection.LEAST_OCCUPIED:
            return min(candidates, key=lambda w: (w.occupancy(), w.idle_since, w.id))
        return min(candidates, key=lambda w: (w.total, w.idle_since, w.id))

    def _offer(self, task: TaskRecord, worker: WorkerRecord, now: Instant) -> None:
        self._unqueue(task)
        task.status = _R
        task.worker_id = worker.id
        task.version += 1
        task.expires_at = now + self.policy.offer_timeout_seconds
        worker.held[task.id] = task.spec.channel
        worker.take(task.spec.channel)
        self._refresh_free(worker)
        self._push(task.expires_at, _EXPIRE, task.id, task.version)
        self._out.append(
            Offer(task.id, worker.id, task.queue_id, now, task.expires_at, task.callback)
        )

    def _end_offer(self, task: TaskRecord, state: ReservationState, now: Instant) -> None:
        worker = self._workers[_held_by(task)]
        worker.held.pop(task.id)
        worker.give_back(task.spec.channel, now)
        task.status = _W
        task.worker_id = None
        task.expires_at = None
        task.version += 1
        self._out.append(OfferEnded(task.id, worker.id, state, now))
        if state is not ReservationState.RESCINDED:
            task.excluded[worker.id] = now + self.policy.reoffer_cooldown_seconds
        if state is ReservationState.TIMED_OUT:
            worker.missed += 1
            limit = self.policy.max_missed_offers
            if limit and worker.missed >= limit and worker.presence is _AVAILABLE:
                worker.presence = PresenceState.NOT_READY
                self._out.append(SetNotReady(worker.id, MISSED_OFFERS_REASON, now))
        self._refresh_free(worker)
        self._wait(task, now)
        self._fill(worker, now)

    def _release_to_wrap_up(self, worker: WorkerRecord, task: TaskRecord, now: Instant) -> None:
        channel = worker.held.pop(task.id)
        queue = self._queues.get(task.queue_id) if task.queue_id is not None else None
        seconds = queue.spec.wrap_up_seconds if queue is not None else 0.0
        if seconds > 0:
            worker.wraps[task.id] = (channel, now + seconds)
            self._push(now + seconds, _WRAP, worker.id, task.id)
        else:
            worker.give_back(channel, now)
            self._settle(worker, now)

    def _finish_wrap_up(self, worker: WorkerRecord, task_id: int, now: Instant) -> None:
        channel, _ = worker.wraps.pop(task_id)
        worker.give_back(channel, now)
        self._settle(worker, now)

    def _record_handle_time(self, task: TaskRecord, now: Instant) -> None:
        if task.queue_id is not None and task.accepted_at is not None:
            queue = self._queues[task.queue_id]
            queue.handle_times.append(now - task.accepted_at + queue.spec.wrap_up_seconds)

    def _fallback(self, task: TaskRecord, reason: str, now: Instant) -> None:
        action = self.workflow.fallback
        if task.filter_index is not None:
            action = self.workflow.filters[task.filter_index].fallback or action
        self._drop(task)
        self._out.append(Fallback(task.id, action, reason, now))

    def _drop(self, task: TaskRecord) -> None:
        self._unqueue(task)
        task.version += 1
        del self._tasks[task.id]

    def _evacuate(self, queue_ids: list[int], now: Instant) -> None:
        keys: list[OrderKey] = []
        for queue_id in queue_ids:
            keys.extend(self._queues[queue_id].keys_in_order())
        for key in sorted(keys):
            task = self._tasks.get(key[2])
            if task is not None and task.status is _W and task.queued:
                self._leave_step(task, now)

    def _skipped(
        self, task: TaskRecord, target: Target, preferred: tuple[int, ...], now: Instant
    ) -> bool:
        if target.skip_if is SkipIf.NEVER:
            return False
        probe = TaskRecord(task.spec)
        probe.target, probe.queue_id, probe.preferred = target, target.queue_id, preferred
        probe.excluded = task.excluded
        if target.skip_if is SkipIf.NO_WORKER_AVAILABLE:
            return not self._candidates(probe, now)
        queue = self._queues[target.queue_id]
        pool = preferred or tuple(queue.members)
        return not self._any_logged_in(pool)

    def _any_logged_in(self, worker_ids: Iterable[int]) -> bool:
        for worker_id in worker_ids:
            worker = self._workers.get(worker_id)
            if worker is not None and worker.presence is not _OFFLINE:
                return True
        return False

    # -- timers

    def _live(self, timer: tuple[Instant, int, int, int]) -> bool:
        at, kind, ref, version = timer
        if kind == _WRAP:
            worker = self._workers.get(ref)
            return worker is not None and worker.wraps.get(version, (None, None))[1] == at
        task = self._tasks.get(ref)
        return task is not None and task.version == version

    def _fire(self, timer: tuple[Instant, int, int, int], now: Instant) -> None:
        _, kind, ref, version = timer
        if kind == _WRAP:
            self._out.append(WrapUpEnded(version, ref, now))
            self._finish_wrap_up(self._workers[ref], version, now)
            return
        task = self._tasks[ref]
        if kind == _EXPIRE:
            self._end_offer(task, ReservationState.TIMED_OUT, now)
        elif kind == _STEP:
            self._leave_step(task, now)
        elif kind == _NOT_BEFORE:
            self._start_workflow(task, now)
        elif task.status is _W:  # _RING and _RETRY: more workers may now take it
            if kind == _RING:
                self._arm_ring(task, now)
            self._try_offer(task, now)


def _by_id(spec: QueueSpec) -> int:
    return spec.id


def _held_by(task: TaskRecord) -> int:
    assert task.worker_id is not None
    return task.worker_id
