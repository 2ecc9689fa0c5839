"""The router's mutable bookkeeping for workers, tasks and queues (private to the router).

A worker's load counts every task it holds on a channel: pending offers, tasks in
progress and wrap-ups. ``has_room`` is the one place capacity is decided.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

from opencx.core.enums import Channel, PresenceState
from opencx.core.routing.expressions import Expression
from opencx.core.routing.membership import split_target
from opencx.core.routing.model import Instant, QueueSpec, Target, TaskSpec, TaskStatus, WorkerSpec

__all__ = [
    "OrderKey",
    "QueueRecord",
    "TaskRecord",
    "WorkerRecord",
    "known_agents",
    "read_path",
    "ring_expression",
    "skill_level",
]

#: Position of a waiting task in its queue: smaller is served first; the last item is the id.
OrderKey = tuple[float, float, int]

_VOICE = Channel.VOICE


def read_path(data: Any, path: tuple[str, ...]) -> Any:
    """``data[a][b]…`` for ``path == (a, b, …)``; ``None`` where a step is missing."""
    for segment in path:
        if not isinstance(data, dict):
            return None
        data = data.get(segment)
    return data


class WorkerRecord:
    __slots__ = (
        "direct",
        "held",
        "id",
        "idle_since",
        "load",
        "missed",
        "presence",
        "queues",
        "spec",
        "total",
        "wraps",
    )

    def __init__(self, spec: WorkerSpec, presence: PresenceState, idle_since: Instant) -> None:
        self.id = spec.id
        self.spec = spec
        self.presence = presence
        self.idle_since = idle_since
        self.missed = 0
        self.load: dict[Channel, int] = {}
        self.total = 0
        self.held: dict[int, Channel] = {}
        self.wraps: dict[int, tuple[Channel, Instant]] = {}
        self.queues: list[int] = []
        # Waiting tasks that only this worker, among others listed, may take.
        self.direct: set[int] = set()

    def has_room(self, channel: Channel) -> bool:
        if self.load.get(channel, 0) >= self.spec.capacity.get(channel, 0):
            return False
        if not self.spec.voice_blocks_other_channels:
            return True
        if channel is _VOICE:
            return self.total == 0
        return self.load.get(_VOICE, 0) == 0

    def take(self, channel: Channel) -> None:
        self.load[channel] = self.load.get(channel, 0) + 1
        self.total += 1

    def give_back(self, channel: Channel, now: Instant) -> None:
        self.load[channel] -= 1
        self.total -= 1
        if self.total == 0:
            self.idle_since = now

    def occupancy(self) -> float:
        return self.total / max(1, sum(self.spec.capacity.values()))


class TaskRecord:
    __slots__ = (
        "accepted_at",
        "callback",
        "excluded",
        "expires_at",
        "filter_index",
        "home_queue",
        "id",
        "key",
        "pinned",
        "preferred",
        "priority",
        "queue_id",
        "queued",
        "spec",
        "status",
        "step_index",
        "target",
        "version",
        "worker_id",
    )

    def __init__(self, spec: TaskSpec) -> None:
        self.id = spec.id
        self.spec = spec
        self.priority = spec.priority
        self.status = TaskStatus.WAITING
        self.filter_index: int | None = None
        self.step_index: int | None = None
        self.target: Target | None = None
        self.queue_id: int | None = None
        self.home_queue: int | None = None
        self.key: OrderKey = (0.0, 0.0, spec.id)
        self.queued = False
        self.excluded: dict[int, Instant] = {}
        self.worker_id: int | None = None
        self.expires_at: Instant | None = None
        self.accepted_at: Instant | None = None
        self.callback = False
        self.version = 0
        # Workers who alone may take the task in its current step, best first.
        self.preferred: tuple[int, ...] = ()
        # Set by a transfer to named workers: replaces ``preferred`` until the task leaves.
        self.pinned: tuple[int, ...] | None = None

    def excludes(self, worker_id: int, now: Instant) -> bool:
        until = self.excluded.get(worker_id)
        return until is not None and until > now


class QueueRecord:
    __slots__ = ("dynamic", "handle_times", "members", "per_task", "per_worker", "spec", "waiting")

    def __init__(self, spec: QueueSpec) -> None:
        self.spec = spec
        # The part of the target that reads only the worker decides membership once per
        # worker; the part that reads the task is checked per task.
        self.per_worker, self.per_task = split_target(spec.target)
        self.dynamic = bool(self.per_task.roots)
        self.members: set[int] = set()
        self.waiting: dict[Channel, list[OrderKey]] = {}
        self.handle_times: deque[float] = deque(maxlen=50)

    def insert(self, channel: Channel, key: OrderKey) -> None:
        bisect.insort(self.waiting.setdefault(channel, []), key)

    def remove(self, channel: Channel, key: OrderKey) -> None:
        keys = self.waiting[channel]
        del keys[bisect.bisect_left(keys, key)]

    def position(self, channel: Channel, key: OrderKey) -> int:
        return bisect.bisect_left(self.waiting.get(channel, []), key) + 1

    def count(self) -> int:
        return sum(len(keys) for keys in self.waiting.values())

    def keys_in_order(self) -> Iterator[OrderKey]:
        if len(self.waiting) == 1:
            yield from next(iter(self.waiting.values()))
        else:
            yield from sorted(k for keys in self.waiting.values() for k in keys)

    def accepts(self, worker: WorkerRecord) -> bool:
        return self.per_worker.evaluate(worker=worker.spec.attributes)


def ring_expression(target: Target, age: float) -> Expression:
    expression = target.expression
    for ring in target.rings:
        if ring.after_seconds <= age:
            expression = ring.expression
    return expression


def skill_level(attributes: Mapping[str, Any], path: tuple[str, ...]) -> float:
    value = read_path(attributes, path)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def known_agents(task: TaskRecord, target: Target) -> tuple[int, ...]:
    """The known agents named by the task for this target, best score first."""
    if task.pinned is not None:
        return task.pinned
    if target.preferred is None:
        return ()
    value = read_path(task.spec.attributes, tuple(target.preferred.split(".")))
    scored: list[tuple[float, int]] = []
    items = value if isinstance(value, list) else [value]
    for rank, item in enumerate(items):
        if isinstance(item, int) and not isinstance(item, bool):
            scored.append((-float(len(items) - rank), item))
        elif isinstance(item, dict) and isinstance(item.get("worker_id"), int):
            score = item.get("score", 0)
            number = float(score) if isinstance(score, int | float) else 0.0
            scored.append((-number, item["worker_id"]))
    seen: set[int] = set()
    ordered: list[int] = []
    for _, worker_id in sorted(scored):
        if worker_id not in seen:
            seen.add(worker_id)
            ordered.append(worker_id)
    return tuple(ordered)
