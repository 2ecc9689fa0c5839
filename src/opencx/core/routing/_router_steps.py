"""Moving a task through its workflow: steps, redirects, rings, fall-backs, timers (private).

``StepMachinery`` is the top layer of the router's machinery, on ``OfferMachinery``;
``Router`` adds the public calls to it.

Rules:
- a task enters the first filter whose expression its attributes match, then the first
  target from there that is not timed out (by the task's age), whose queue is open, that
  has a logged-in known agent when it names some, and that its ``skip_if`` does not skip;
  with none left, the filter's fallback (or the workflow's) is decided and the task leaves;
- a step's timeout, or its queue or site closing, sends the task on to the next target; a
  task redirected outside its workflow has no next target and falls back;
- a target's priority, when set, replaces the task's; the task keeps its creation time, so
  its place in the queue carries its age along;
- entering a step arms its timers: the step's timeout, the next bullseye ring, the end of
  each re-offer cool-down; a fired timer whose task changed since is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opencx.core.enums import PresenceState
from opencx.core.errors import NotFound
from opencx.core.lifecycles import TaskEvent
from opencx.core.routing._records import OrderKey, TaskRecord, known_agents
from opencx.core.routing._router_offers import OfferMachinery
from opencx.core.routing._router_state import (
    EXPIRE,
    NOT_BEFORE,
    RETRY,
    RING,
    STEP,
    WRAP,
    Timer,
)
from opencx.core.routing.decisions import Fallback, StepChanged, WrapUpEnded
from opencx.core.routing.model import Instant, ReservationState, SkipIf, Target, TaskStatus

__all__ = ["StepMachinery"]

_W = TaskStatus.WAITING
_OFFLINE = PresenceState.OFFLINE


class StepMachinery(OfferMachinery):
    """Where a task waits, and what moves it on."""

    # -- workflow steps

    def first_filter(self, attributes: Mapping[str, Any]) -> int | None:
        """The filter a task with ``attributes`` enters: the first that accepts them."""
        for index, filter_ in enumerate(self.workflow.filters):
            if filter_.expression.evaluate(attributes):
                return index
        return None

    def _start_workflow(self, task: TaskRecord, now: Instant) -> None:
        index = self.first_filter(task.spec.attributes)
        if index is None:
            self._fallback(task, "no workflow filter matches the task", now)
            return
        task.filter_index = index
        self._enter_step(task, 0, now)

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
            self._push(task.spec.created_at + target.timeout_seconds, STEP, task.id, task.version)
        self._enqueue(task)
        self._arm_ring(task, now)
        for until in task.excluded.values():
            if until > now:
                self._push(until, RETRY, task.id, task.version)
        self._try_offer(task, now)

    def _arm_ring(self, task: TaskRecord, now: Instant) -> None:
        if task.target is None:
            return
        age = now - task.spec.created_at
        later = [r.after_seconds for r in task.target.rings if r.after_seconds > age]
        if later:
            self._push(task.spec.created_at + min(later), RING, task.id, task.version)

    def _leave_step(self, task: TaskRecord, now: Instant) -> None:
        """The current step is over (timed out or closed): on to the next, or fall back."""
        self._unqueue(task)
        if task.filter_index is None or task.step_index is None:
            self._fallback(task, "the queue it was transferred to closed", now)
        else:
            self._enter_step(task, task.step_index + 1, now)

    # -- leaving the workflow or its queues

    def _fallback(self, task: TaskRecord, reason: str, now: Instant) -> None:
        action = self.workflow.fallback
        if task.filter_index is not None:
            action = self.workflow.filters[task.filter_index].fallback or action
        self._drop(task, TaskEvent.FALLBACK)
        self._out.append(Fallback(task.id, action, reason, now))

    def _evacuate(self, queue_ids: list[int], now: Instant) -> None:
        keys: list[OrderKey] = []
        for queue_id in queue_ids:
            keys.extend(self._queues[queue_id].keys_in_order())
        for key in sorted(keys):
            task = self._tasks.get(key[2])
            if task is not None and task.status is _W and task.queued:
                self._leave_step(task, now)

    # -- skip rules

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

    def _live(self, timer: Timer) -> bool:
        at, kind, ref, version = timer
        if kind == WRAP:
            worker = self._workers.get(ref)
            return worker is not None and worker.wraps.get(version, (None, None))[1] == at
        task = self._tasks.get(ref)
        return task is not None and task.version == version

    def _fire(self, timer: Timer, now: Instant) -> None:
        _, kind, ref, version = timer
        if kind == WRAP:
            self._out.append(WrapUpEnded(version, ref, now))
            self._finish_wrap_up(self._workers[ref], version, now)
            return
        task = self._tasks[ref]
        if kind == EXPIRE:
            self._end_offer(task, ReservationState.TIMED_OUT, now)
        elif kind == STEP:
            self._leave_step(task, now)
        elif kind == NOT_BEFORE:
            self._start_workflow(task, now)
        elif task.status is _W:  # RING and RETRY: more workers may now take it
            if kind == RING:
                self._arm_ring(task, now)
            self._try_offer(task, now)
