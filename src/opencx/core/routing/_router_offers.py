"""Offering tasks to workers: who may take what, who is chosen, and how offers end (private).

``OfferMachinery`` is the middle layer of ``Router``, on ``RouterState``; ``StepMachinery``
builds on it and decides where a task waits.

Rules:
- a worker may be offered a task only when free on its channel, not cooling down from
  it, and, when simulated, only a simulated task (``model.serves``); then, for a task
  with preferred workers, only if listed; otherwise only if a member of its queue whom
  the task-reading part of the queue's target accepts; and, in a workflow step, only if
  the step's expression, or its current bullseye ring, accepts them;
- a freed worker is offered the best task they may take (smallest order key, their direct
  tasks included), again and again until they have no room left;
- among a task's candidates: the first preferred one (they are listed best score first);
  otherwise per the queue's selection (highest skill level then fewest tasks, least
  occupied, or fewest tasks), then longest idle, then lowest id;
- an offer that is rejected or times out bars that worker for ``reoffer_cooldown_seconds``;
  ``max_missed_offers`` time-outs in a row set an available worker not ready; a withdrawn
  (rescinded) offer bars no one;
- a task done or transferred holds its worker's capacity through the queue's wrap-up.
"""

from __future__ import annotations

from collections.abc import Iterable

from opencx.core.enums import PresenceState
from opencx.core.lifecycles import TaskEvent
from opencx.core.routing._records import TaskRecord, WorkerRecord, ring_expression, skill_level
from opencx.core.routing._router_state import EXPIRE, WRAP, RouterState, held_by
from opencx.core.routing.decisions import Offer, OfferEnded, SetNotReady
from opencx.core.routing.model import (
    MISSED_OFFERS_REASON,
    Instant,
    ReservationState,
    Selection,
    TaskStatus,
    serves,
)

__all__ = ["OfferMachinery"]

_R = TaskStatus.RESERVED
_OFFER = TaskEvent.OFFER
_END_OFFER = TaskEvent.END_OFFER
_AVAILABLE = PresenceState.AVAILABLE


class OfferMachinery(RouterState):
    """Matching free workers and waiting tasks, and the life of an offer."""

    # -- from a worker's side

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
        if not serves(worker.spec.attributes, task.spec.attributes):
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

    # -- from a task's side

    def _wait(self, task: TaskRecord, now: Instant) -> None:
        """Put a task back to wait in its current step and try to offer it again.

        Declared here because an ended offer needs it; ``StepMachinery`` defines it, as
        waiting depends on the step."""
        raise NotImplementedError

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
        self._move(task, _OFFER)
        task.worker_id = worker.id
        task.version += 1
        task.expires_at = now + self.policy.offer_timeout_seconds
        worker.held[task.id] = task.spec.channel
        worker.take(task.spec.channel)
        self._refresh_free(worker)
        self._push(task.expires_at, EXPIRE, task.id, task.version)
        self._out.append(
            Offer(task.id, worker.id, task.queue_id, now, task.expires_at, task.callback)
        )

    def _end_offer(self, task: TaskRecord, state: ReservationState, now: Instant) -> None:
        self._move(task, _END_OFFER)
        worker = self._workers[held_by(task)]
        worker.held.pop(task.id)
        worker.give_back(task.spec.channel, now)
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

    # -- the end of a task's handling

    def _release_to_wrap_up(self, worker: WorkerRecord, task: TaskRecord, now: Instant) -> None:
        channel = worker.held.pop(task.id)
        queue = self._queues.get(task.queue_id) if task.queue_id is not None else None
        seconds = queue.spec.wrap_up_seconds if queue is not None else 0.0
        if seconds > 0:
            worker.wraps[task.id] = (channel, now + seconds)
            self._push(now + seconds, WRAP, worker.id, task.id)
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
