"""What the routing engine reasons about: workers, queues, workflows, tasks and policy.

Rules:
- every value here is immutable; the router keeps its own mutable state;
- time is a float of seconds (``Instant``) on whatever clock the caller uses: the service
  layer passes epoch seconds, the simulator a virtual clock. Floats, not datetimes, because
  the router compares and adds instants on its hot path;
- a task's age counts from ``TaskSpec.created_at``; target timeouts and bullseye rings are
  measured against that age, so a task that overflows keeps its place by arrival;
- a task is in routing while waiting, offered (reserved) or being handled
  (``TaskStatus``, moved along ``core.lifecycles.TASK_EVENTS``); once completed it
  leaves, and its worker's wrap-up is held on the worker;
- a worker's ``capacity`` gives how many tasks of each channel it may hold at once
  (reserved, in progress or in wrap-up); a channel it does not list is one it never takes;
- a simulated worker (attribute ``simulated``, the demo's agents) serves only simulated
  tasks (attribute ``simulated``, the demo's customers): a real customer is never left to
  a simulation (``serves``). A real worker serves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from opencx.core.enums import Channel, ReservationState, TaskStatus
from opencx.core.routing.expressions import TRUE, Expression

__all__ = [
    "MISSED_OFFERS_REASON",
    "SIMULATED",
    "FallbackAction",
    "Filter",
    "Instant",
    "QueueSpec",
    "ReservationState",
    "Ring",
    "RoutingPolicy",
    "Selection",
    "SiteState",
    "SkipIf",
    "Target",
    "TaskSpec",
    "TaskStatus",
    "WorkerSpec",
    "Workflow",
    "serves",
]

Instant = float


class Selection(StrEnum):
    """How a queue picks among several eligible, free workers."""

    LONGEST_IDLE = "longest_idle"
    SKILL_LEVEL = "skill_level"
    LEAST_OCCUPIED = "least_occupied"


class SkipIf(StrEnum):
    """When a workflow target is passed over at once instead of waited in."""

    NEVER = "never"
    NO_WORKER_AVAILABLE = "no_worker_available"
    NO_WORKER_LOGGED_IN = "no_worker_logged_in"


class FallbackAction(StrEnum):
    """Where a task goes when no target can take it (closed, exhausted, no filter)."""

    CALLBACK = "callback"
    VOICEMAIL = "voicemail"
    EMAIL = "email"
    SELF_SERVICE = "self_service"
    CANCEL = "cancel"


class SiteState(StrEnum):
    """``draining``: the site takes no new offers; ``closed``: also loses pending offers."""

    OPEN = "open"
    DRAINING = "draining"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """An agent as routing sees them. ``attributes`` is what queue and target expressions
    read (``skills`` as ``{name: level}``, ``languages``, ``site``, ``team``…)."""

    id: int
    attributes: Mapping[str, Any] = field(default_factory=dict)
    capacity: Mapping[Channel, int] = field(default_factory=dict)
    voice_blocks_other_channels: bool = True
    site_id: int | None = None


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """``target`` selects the workers who serve the queue; ``skill`` names the attribute
    path whose number ranks them under ``Selection.SKILL_LEVEL`` (``skills.billing``)."""

    id: int
    name: str = ""
    channel: Channel = Channel.VOICE
    target: Expression = TRUE
    site_id: int | None = None
    wrap_up_seconds: float = 0.0
    selection: Selection = Selection.LONGEST_IDLE
    skill: str | None = None
    expected_handle_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class Ring:
    """From ``after_seconds`` of task age on, eligible workers are those ``expression``
    accepts (bullseye routing: each ring is wider than the one before)."""

    after_seconds: float
    expression: Expression


@dataclass(frozen=True, slots=True)
class Target:
    """One step of a filter. The task waits in ``queue_id`` for a worker the queue's target
    and ``expression`` both accept, while its age is under ``timeout_seconds``.

    ``preferred`` names a task attribute holding the customer's known agents: one worker
    id, a list of ids, or a list of ``{"worker_id": id, "score": number}``; only those
    workers are then eligible, best score first. ``rings`` widen ``expression`` with age.
    """

    queue_id: int
    expression: Expression = TRUE
    timeout_seconds: float | None = None
    priority: int | None = None
    skip_if: SkipIf = SkipIf.NEVER
    preferred: str | None = None
    rings: tuple[Ring, ...] = ()


@dataclass(frozen=True, slots=True)
class Filter:
    """First filter whose ``expression`` accepts the task's attributes wins; ``fallback``
    overrides the workflow's for the tasks it matched."""

    name: str
    expression: Expression
    targets: tuple[Target, ...]
    fallback: FallbackAction | None = None


@dataclass(frozen=True, slots=True)
class Workflow:
    """Ordered filters; a task no filter matches, or that runs out of targets, takes the
    ``fallback`` action (a callback, voicemail, an email conversation…)."""

    filters: tuple[Filter, ...]
    fallback: FallbackAction = FallbackAction.VOICEMAIL


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """One interaction to route. ``not_before`` holds a scheduled callback back until then."""

    id: int
    channel: Channel
    created_at: Instant
    attributes: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 0
    not_before: Instant | None = None


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    """Engine-wide settings.

    ``aging_seconds``: each that many seconds of waiting counts as one priority level, so
    a low-priority task is never starved (``None``: strict priority, FIFO within it).
    ``max_missed_offers``: consecutive offers a worker lets time out before being set
    not ready (0 turns that off). ``reoffer_cooldown_seconds``: how long a task is not
    offered again to a worker who rejected it or let it time out.
    """

    offer_timeout_seconds: float = 20.0
    max_missed_offers: int = 3
    aging_seconds: float | None = 60.0
    reoffer_cooldown_seconds: float = 60.0


#: The reason a worker is set not ready after missing ``max_missed_offers`` offers.
MISSED_OFFERS_REASON = "missed_offers"


#: The attribute that marks the demo's simulated workers and tasks (``opencx demo``).
SIMULATED = "simulated"


def serves(worker_attributes: Mapping[str, Any], task_attributes: Mapping[str, Any]) -> bool:
    """Whether a worker may be offered a task as far as the simulation goes: a simulated
    worker only a simulated task, a real worker any task."""
    return worker_attributes.get(SIMULATED) is not True or task_attributes.get(SIMULATED) is True
