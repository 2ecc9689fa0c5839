"""Rehearsing a routing workflow before saving it: checking an expression as the admin
types it, and a dry run of a contact arriving now (``core.routing.dry_run``).

Rules:
- both answer from what is stored and write nothing; supervisors and admins may ask
  (``supervise``), as for the explanation of a real task;
- an expression that does not compile is refused as invalid input naming the field
  ``expression`` and the 1-based ``column`` where it goes wrong;
- a dry run checks the draft as saving would (every expression, every queue) and answers
  on the workers of the sites the asker sees; a queue they do not see is not named.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel
from opencx.core.errors import InvalidInput
from opencx.core.permissions import Permission, Principal, require
from opencx.core.routing.dry_run import DryRun, Hypothesis, dry_run
from opencx.core.routing.expressions import ExpressionError, compile_expression
from opencx.core.routing.model import FallbackAction
from opencx.core.routing.snapshot import Snapshot
from opencx.db.models import Queue, User
from opencx.features.common import InputSchema, Schema
from opencx.features.context import AppContext, transaction
from opencx.features.routing.engine import policy_of
from opencx.features.routing.state import load_snapshot, to_instant
from opencx.features.routing.tasks import SYSTEM_ATTRIBUTES
from opencx.features.routing.workflow import WorkflowIn, active_workflow, to_workflow

__all__ = [
    "DryRunIn",
    "DryRunOut",
    "ExpressionIn",
    "ExpressionOut",
    "rehearse",
    "validate_expression",
]


class ExpressionIn(InputSchema):
    expression: str = Field(max_length=4000, examples=['lang == "fr" AND vip'])
    root: Literal["task", "worker"] = Field(
        default="task",
        description="what unqualified names read: filters the task, targets the worker",
    )


class ExpressionOut(Schema):
    expression: str
    roots: list[str] = Field(description="the roots the expression reads")


class ContactIn(InputSchema):
    channel: Channel
    attributes: dict[str, Any] = Field(default_factory=dict, examples=[{"lang": "fr"}])
    priority: int = Field(default=0, ge=-1000, le=1000)


class DryRunIn(InputSchema):
    workflow: WorkflowIn | None = Field(
        default=None, description="the draft to try; the workflow in force when omitted"
    )
    contact: ContactIn


class VerdictOut(Schema):
    worker_id: int
    name: str
    eligible: bool
    reason: str | None
    reason_code: str | None = Field(description="the reason as a stable code, e.g. presence")
    reason_params: dict[str, str | int] = Field(description="the values the reason names")


class DryRunOut(Schema):
    filter_index: int | None
    filter_name: str | None
    filters_not_matched: list[str]
    step_index: int | None
    queue_id: int | None
    queue_name: str | None
    position: int | None
    fallback: FallbackAction | None
    fallback_reason: str | None
    offered_to: int | None
    candidates: list[VerdictOut]


def validate_expression(principal: Principal, data: ExpressionIn) -> ExpressionOut:
    """The expression's roots, or ``InvalidInput`` with the column of its first error."""
    require(principal, Permission.SUPERVISE)
    try:
        compiled = compile_expression(data.expression, default_root=data.root)
    except ExpressionError as exc:
        raise InvalidInput(
            exc.detail, field="expression", column=exc.column, expression=data.expression
        ) from exc
    return ExpressionOut(expression=data.expression, roots=sorted(compiled.roots))


async def rehearse(ctx: AppContext, principal: Principal, data: DryRunIn) -> DryRunOut:
    """Where ``data.contact`` would go now under ``data.workflow``, and why."""
    require(principal, Permission.SUPERVISE)
    reserved = sorted(SYSTEM_ATTRIBUTES & data.contact.attributes.keys())
    if reserved:
        raise InvalidInput(f"attributes {reserved} are set by OpenCX", field="contact.attributes")
    now = ctx.clock.now()
    async with transaction(ctx) as session:
        snapshot = await load_snapshot(session, ctx.settings.routing, now=now)
        if data.workflow is not None:
            definition = data.workflow.model_dump(mode="json")
        else:
            row = await active_workflow(session)
            definition = row.definition if row is not None else {}
        queues = {row.id: row for row in await session.scalars(select(Queue))}
        workflow = to_workflow(definition, known_queues=set(queues))
        names = await _names(session, snapshot)
    contact = data.contact
    found = dry_run(
        snapshot,
        workflow,
        Hypothesis(contact.channel, contact.attributes, contact.priority),
        now=to_instant(now),
        policy=policy_of(ctx),
    )
    queue = queues.get(found.queue_id) if found.queue_id is not None else None
    if queue is not None and not principal.sees_site(queue.site_id):
        queue = None  # another site's queue: not named
    return _out(found, principal, snapshot, names, queue)


async def _names(session: AsyncSession, snapshot: Snapshot) -> dict[int, str]:
    ids = [worker.spec.id for worker in snapshot.workers]
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {int(user_id): str(name) for user_id, name in rows}


def _out(
    found: DryRun,
    principal: Principal,
    snapshot: Snapshot,
    names: dict[int, str],
    queue: Queue | None,
) -> DryRunOut:
    sites = {worker.spec.id: worker.spec.site_id for worker in snapshot.workers}
    offered = found.offered_to if found.offered_to is not None else 0
    return DryRunOut(
        filter_index=found.filter_index,
        filter_name=found.filter_name,
        filters_not_matched=list(found.filters_not_matched),
        step_index=found.step_index,
        queue_id=queue.id if queue is not None else None,
        queue_name=queue.name if queue is not None else None,
        position=found.position,
        fallback=found.fallback,
        fallback_reason=found.fallback_reason,
        offered_to=found.offered_to if principal.sees_site(sites.get(offered)) else None,
        candidates=[
            VerdictOut(
                worker_id=c.worker_id,
                name=names.get(c.worker_id, str(c.worker_id)),
                eligible=c.eligible,
                reason=c.reason,
                reason_code=c.verdict.code if c.verdict else None,
                reason_params=dict(c.verdict.params) if c.verdict else {},
            )
            for c in found.candidates
            if principal.sees_site(sites.get(c.worker_id))
        ],
    )
