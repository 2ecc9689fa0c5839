"""The routing workflow as admins write it (JSON), and as the router reads it.

Rules:
- a workflow is saved whole; each save is a new version and the newest one routes;
- every expression is compiled when saved: an error names the field and the column;
- every queue a target names must exist;
- filter expressions read the task by default (``lang == "fr"``), target and ring
  expressions the worker (``skills.billing >= 2``); ``task.`` and ``worker.`` say so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import InvalidInput
from opencx.core.permissions import Permission, Principal, require
from opencx.core.routing.expressions import Expression, ExpressionError, compile_expression
from opencx.core.routing.model import FallbackAction, Filter, Ring, SkipIf, Target, Workflow
from opencx.db.models import Queue, RoutingWorkflow
from opencx.features.common import InputSchema
from opencx.features.context import AppContext, transaction
from opencx.features.events.record import record_audit
from opencx.features.routing.commands import CommandKind, enqueue

__all__ = [
    "WorkflowIn",
    "WorkflowOut",
    "active_workflow",
    "get_workflow",
    "save_workflow",
    "to_workflow",
]

MAX_FILTERS = 200
MAX_TARGETS = 20


class RingIn(InputSchema):
    after_seconds: float = Field(ge=0, examples=[30])
    expression: str = Field(max_length=2000, examples=["skills.billing >= 1"])


class TargetIn(InputSchema):
    queue_id: int = Field(ge=1)
    expression: str = Field(default="", max_length=2000, examples=["skills.billing >= 3"])
    timeout_seconds: float | None = Field(default=None, gt=0, examples=[60])
    priority: int | None = Field(default=None, ge=-1000, le=1000)
    skip_if: SkipIf = SkipIf.NEVER
    preferred: str | None = Field(default=None, max_length=120, examples=["last_agent_ids"])
    rings: list[RingIn] = Field(default_factory=list, max_length=10)


class FilterIn(InputSchema):
    name: str = Field(min_length=1, max_length=120, examples=["French VIP"])
    expression: str = Field(default="", max_length=2000, examples=['lang == "fr" AND vip'])
    targets: list[TargetIn] = Field(min_length=1, max_length=MAX_TARGETS)
    fallback: FallbackAction | None = None


class WorkflowIn(InputSchema):
    filters: list[FilterIn] = Field(default_factory=list, max_length=MAX_FILTERS)
    fallback: FallbackAction = FallbackAction.VOICEMAIL


class WorkflowOut(WorkflowIn):
    version: int | None = Field(description="null until a workflow has been saved")
    saved_at: datetime | None


async def get_workflow(ctx: AppContext, principal: Principal) -> WorkflowOut:
    require(principal, Permission.DIRECTORY_READ)
    async with transaction(ctx) as session:
        row = await active_workflow(session)
    if row is None:
        return WorkflowOut(version=None, saved_at=None)
    return WorkflowOut(version=row.id, saved_at=row.created_at, **row.definition)


async def save_workflow(ctx: AppContext, principal: Principal, data: WorkflowIn) -> WorkflowOut:
    """Check, then save as the new version; the router switches to it at once."""
    require(principal, Permission.DIRECTORY_WRITE)
    definition = data.model_dump(mode="json")
    async with transaction(ctx) as session:
        known = set(await session.scalars(select(Queue.id)))
        to_workflow(definition, known_queues=known)
        row = RoutingWorkflow(
            definition=definition, created_at=ctx.clock.now(), created_by=principal.user_id
        )
        session.add(row)
        await session.flush()
        record_audit(
            session,
            ctx,
            actor_user_id=principal.user_id,
            action="routing.workflow",
            entity_kind="routing_workflow",
            entity_id=row.id,
            changes=definition,
        )
        await enqueue(session, ctx, CommandKind.RELOAD, actor_user_id=principal.user_id)
        return WorkflowOut(version=row.id, saved_at=row.created_at, **definition)


async def active_workflow(session: AsyncSession) -> RoutingWorkflow | None:
    stmt = select(RoutingWorkflow).order_by(RoutingWorkflow.id.desc()).limit(1)
    row: RoutingWorkflow | None = await session.scalar(stmt)
    return row


def to_workflow(definition: dict[str, Any], *, known_queues: set[int] | None = None) -> Workflow:
    """The router's workflow from a saved definition; ``InvalidInput`` names the field
    (``filters[0].targets[1].expression``) of the first error."""
    filters = tuple(
        _filter(item, f"filters[{i}]", known_queues)
        for i, item in enumerate(definition.get("filters", []))
    )
    fallback = definition.get("fallback") or FallbackAction.VOICEMAIL
    return Workflow(filters=filters, fallback=FallbackAction(fallback))


def _filter(item: dict[str, Any], where: str, known: set[int] | None) -> Filter:
    targets = tuple(
        _target(target, f"{where}.targets[{j}]", known) for j, target in enumerate(item["targets"])
    )
    fallback = item.get("fallback")
    return Filter(
        name=item["name"],
        expression=_compile(item.get("expression", ""), "task", f"{where}.expression"),
        targets=targets,
        fallback=FallbackAction(fallback) if fallback else None,
    )


def _target(item: dict[str, Any], where: str, known: set[int] | None) -> Target:
    queue_id = item["queue_id"]
    if known is not None and queue_id not in known:
        raise InvalidInput(
            f"{where}.queue_id: queue {queue_id} does not exist", field=f"{where}.queue_id"
        )
    rings = tuple(
        Ring(
            after_seconds=float(ring["after_seconds"]),
            expression=_compile(ring["expression"], "worker", f"{where}.rings[{k}].expression"),
        )
        for k, ring in enumerate(item.get("rings", []))
    )
    timeout = item.get("timeout_seconds")
    return Target(
        queue_id=queue_id,
        expression=_compile(item.get("expression", ""), "worker", f"{where}.expression"),
        timeout_seconds=float(timeout) if timeout is not None else None,
        priority=item.get("priority"),
        skip_if=SkipIf(item.get("skip_if", SkipIf.NEVER)),
        preferred=item.get("preferred"),
        rings=rings,
    )


def _compile(source: str, root: Literal["task", "worker"], where: str) -> Expression:
    try:
        return compile_expression(source, default_root=root)
    except ExpressionError as exc:
        raise InvalidInput(
            f"{where}: {exc.detail}", field=where, column=exc.column, expression=source
        ) from exc
