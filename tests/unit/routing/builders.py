"""Small builders for routing tests: queues, workers, tasks and one-queue workflows."""

from __future__ import annotations

from typing import Any

from opencx.core.enums import Channel, PresenceState
from opencx.core.routing.decisions import Decision, Offer
from opencx.core.routing.expressions import TRUE, compile_expression
from opencx.core.routing.model import (
    Filter,
    QueueSpec,
    RoutingPolicy,
    Target,
    TaskSpec,
    WorkerSpec,
    Workflow,
)
from opencx.core.routing.router import Router

VOICE, CHAT, EMAIL = Channel.VOICE, Channel.CHAT, Channel.EMAIL
AVAILABLE = PresenceState.AVAILABLE


def worker_expr(source: str) -> Any:
    return compile_expression(source, default_root="worker")


def task_expr(source: str) -> Any:
    return compile_expression(source, default_root="task")


def queue(queue_id: int, target: str = "", **kwargs: Any) -> QueueSpec:
    return QueueSpec(id=queue_id, name=f"q{queue_id}", target=worker_expr(target), **kwargs)


def worker(
    worker_id: int,
    *,
    voice: int = 1,
    chat: int = 0,
    email: int = 0,
    site: int | None = None,
    blocks: bool = True,
    **attributes: Any,
) -> WorkerSpec:
    capacity = {ch: n for ch, n in ((VOICE, voice), (CHAT, chat), (EMAIL, email)) if n}
    return WorkerSpec(worker_id, attributes, capacity, blocks, site)


def task(
    task_id: int, at: float = 0.0, channel: Channel = VOICE, priority: int = 0, **attributes: Any
) -> TaskSpec:
    return TaskSpec(task_id, channel, at, attributes, priority)


def one_queue_router(
    *queues: QueueSpec,
    policy: RoutingPolicy | None = None,
    targets: tuple[Target, ...] | None = None,
) -> Router:
    queues = queues or (queue(1),)
    workflow = Workflow(filters=(Filter("all", TRUE, targets or (Target(queue_id=queues[0].id),)),))
    return Router(workflow=workflow, queues=queues, policy=policy)


def offers(decisions: list[Decision]) -> list[tuple[int, int]]:
    return [(d.task_id, d.worker_id) for d in decisions if isinstance(d, Offer)]
