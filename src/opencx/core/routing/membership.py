"""Queue membership: which workers a queue's target takes whatever the task.

A target's operands that read only the worker (``skills.billing >= 1``) decide once per
worker whether they are a member of the queue; those that also read the task
(``task.lang IN worker.languages``) are checked per task, at offer time. The router
keeps its queues' members by this rule; the inbox reads it to show an agent the tasks
waiting in the queues they serve.
"""

from __future__ import annotations

from collections.abc import Iterable

from opencx.core.routing.expressions import Expression
from opencx.core.routing.model import QueueSpec, WorkerSpec

__all__ = ["serves", "split_target"]


def split_target(target: Expression) -> tuple[Expression, Expression]:
    """``(membership, per_task)``: the part of a queue's target deciding membership,
    and the part checked for each task."""
    return target.split("task")


def serves(worker: WorkerSpec, queues: Iterable[QueueSpec]) -> list[int]:
    """The ids of the ``queues`` that ``worker`` is a member of, in their order."""
    return [
        queue.id
        for queue in queues
        if split_target(queue.target)[0].evaluate(worker=worker.attributes)
    ]
