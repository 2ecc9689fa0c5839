"""Why a task is where it is: the filter and step it matched, and every worker's verdict.

Built on demand (``Router.explain``), never on the routing hot path.
"""

from __future__ import annotations

from dataclasses import dataclass

from opencx.core.routing.model import TaskStatus

__all__ = ["Candidate", "Explanation"]


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
