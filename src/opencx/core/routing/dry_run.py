"""A dry run: where a contact arriving now would go under a workflow, and why.

Rules:
- the question is asked of a router restored from the snapshot with the draft workflow
  in place of the one in force; nothing is stored and no decision leaves this module;
- the hypothetical task arrives now, after every task already routed, with the id after
  the highest one in the snapshot; its ``channel`` attribute is the channel's, as for a
  real task, whatever the attributes given;
- the answer names the filter that matched (or says none did), the step and queue the
  task waits in, the worker it would be offered to at once (if any), and each worker's
  verdict from ``explain.why_not``: the same words the router's explanation uses;
- a task that no target can take answers with the fallback action and its reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opencx.core.enums import Channel
from opencx.core.routing.decisions import Decision, Fallback, Offer
from opencx.core.routing.explain import Candidate
from opencx.core.routing.model import (
    FallbackAction,
    Instant,
    RoutingPolicy,
    TaskSpec,
    Workflow,
)
from opencx.core.routing.router import Router
from opencx.core.routing.snapshot import Snapshot

__all__ = ["DryRun", "Hypothesis", "dry_run"]


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """The contact asked about: its channel, its attributes and its priority."""

    channel: Channel
    attributes: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    priority: int = 0


@dataclass(frozen=True, slots=True)
class DryRun:
    """``filter_index`` is ``None`` when no filter matched; ``fallback`` is set when the
    contact would leave routing at once, with ``fallback_reason``; ``offered_to`` is the
    worker it would be offered to now; ``candidates`` give every worker's verdict (the
    one offered the task is eligible)."""

    filter_index: int | None
    filter_name: str | None
    filters_not_matched: tuple[str, ...]
    step_index: int | None
    queue_id: int | None
    position: int | None
    fallback: FallbackAction | None
    fallback_reason: str | None
    offered_to: int | None
    candidates: tuple[Candidate, ...]


def dry_run(
    snapshot: Snapshot,
    workflow: Workflow,
    contact: Hypothesis,
    *,
    now: Instant,
    policy: RoutingPolicy | None = None,
) -> DryRun:
    """Route ``contact`` at ``now`` on a copy of the state under ``workflow``."""
    state = dataclasses.replace(snapshot, workflow=workflow)
    router, _ = Router.from_snapshot(state, now=now, policy=policy)
    task_id = max((task.spec.id for task in snapshot.tasks), default=0) + 1
    spec = TaskSpec(
        id=task_id,
        channel=contact.channel,
        created_at=now,
        attributes={**contact.attributes, "channel": contact.channel.value},
        priority=contact.priority,
    )
    decisions = router.submit(spec, now=now)
    fell = _fallback_of(decisions, task_id)
    if fell is not None:
        return _fell_back(router, spec, fell)
    return _waiting(router, task_id, _offered_to(decisions, task_id), now=now)


def _fell_back(router: Router, spec: TaskSpec, fell: Fallback) -> DryRun:
    matched = router.first_filter(spec.attributes)
    names = tuple(f.name for f in router.workflow.filters)
    return DryRun(
        filter_index=matched,
        filter_name=names[matched] if matched is not None else None,
        filters_not_matched=names if matched is None else names[:matched],
        step_index=None,
        queue_id=None,
        position=None,
        fallback=fell.action,
        fallback_reason=fell.reason,
        offered_to=None,
        candidates=(),
    )


def _waiting(router: Router, task_id: int, offered: int | None, *, now: Instant) -> DryRun:
    found = router.explain(task_id, now=now)
    return DryRun(
        filter_index=found.filter_index,
        filter_name=found.filter_name,
        filters_not_matched=found.filters_not_matched,
        step_index=found.step_index,
        queue_id=found.queue_id,
        position=found.position,
        fallback=None,
        fallback_reason=None,
        offered_to=offered,
        candidates=tuple(
            Candidate(c.worker_id, None) if c.worker_id == offered else c for c in found.candidates
        ),
    )


def _fallback_of(decisions: list[Decision], task_id: int) -> Fallback | None:
    return next((d for d in decisions if isinstance(d, Fallback) and d.task_id == task_id), None)


def _offered_to(decisions: list[Decision], task_id: int) -> int | None:
    return next(
        (d.worker_id for d in decisions if isinstance(d, Offer) and d.task_id == task_id), None
    )
