"""/api/v1/routing/workflow, /api/v1/tasks, /api/v1/reservations, a queue's wait and a
site's routing state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from opencx.core.routing.model import ReservationState
from opencx.features.common import Page
from opencx.features.routing import insight, rehearsal, tasks, workflow
from opencx.features.routing.commands import CommandKind
from opencx.web.deps import (
    MAX_ID,
    TEXT,
    ContextDep,
    CursorQuery,
    EntityId,
    LimitQuery,
    PrincipalDep,
)
from opencx.web.idempotent import created

router = APIRouter(tags=["routing"])

IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
StatusFilter = Annotated[str | None, Query(pattern=TEXT, max_length=40, examples=["waiting"])]
Position = Annotated[int | None, Query(ge=1, le=MAX_ID, description="1 is served next")]


# --- workflow ---------------------------------------------------------------------------


@router.get("/routing/workflow", response_model=workflow.WorkflowOut)
async def get_workflow(ctx: ContextDep, principal: PrincipalDep) -> workflow.WorkflowOut:
    """The routing workflow in force (``version`` is null until one is saved)."""
    return await workflow.get_workflow(ctx, principal)


@router.put("/routing/workflow", response_model=workflow.WorkflowOut)
async def save_workflow(
    ctx: ContextDep, principal: PrincipalDep, body: workflow.WorkflowIn
) -> workflow.WorkflowOut:
    """Save the whole workflow as a new version; the router switches to it at once."""
    return await workflow.save_workflow(ctx, principal, body)


@router.post("/routing/expressions/validate", response_model=rehearsal.ExpressionOut)
async def validate_expression(
    principal: PrincipalDep, body: rehearsal.ExpressionIn
) -> rehearsal.ExpressionOut:
    """Check an expression as it is typed: an error is a 422 naming its ``column``."""
    return rehearsal.validate_expression(principal, body)


@router.post("/routing/dry-run", response_model=rehearsal.DryRunOut)
async def dry_run(
    ctx: ContextDep, principal: PrincipalDep, body: rehearsal.DryRunIn
) -> rehearsal.DryRunOut:
    """Where a contact arriving now would go under a draft workflow, and why; saves nothing."""
    return await rehearsal.rehearse(ctx, principal, body)


# --- tasks ------------------------------------------------------------------------------


@router.post("/tasks", status_code=201, response_model=tasks.TaskOut)
async def create_task(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: tasks.TaskCreate
) -> JSONResponse:
    """Route a waiting interaction: the task starts ``new`` and the router takes it in."""
    return await created(request, ctx, principal, lambda: tasks.create_task(ctx, principal, body))


@router.get("/tasks", response_model=Page[tasks.TaskOut])
async def list_tasks(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    status: StatusFilter = None,
    queue_id: IdFilter = None,
    worker_id: IdFilter = None,
) -> Page[tasks.TaskOut]:
    """Tasks of the sites one sees; an agent sees the tasks they hold."""
    return await tasks.list_tasks(
        ctx,
        principal,
        status=status,
        queue_id=queue_id,
        worker_id=worker_id,
        cursor=cursor,
        limit=limit,
    )


@router.get("/tasks/{task_id}", response_model=tasks.TaskOut)
async def get_task(ctx: ContextDep, principal: PrincipalDep, task_id: EntityId) -> tasks.TaskOut:
    """One task."""
    return await tasks.get_task(ctx, principal, task_id)


@router.get("/tasks/{task_id}/routing", response_model=insight.RoutingExplanationOut)
async def explain_task(
    ctx: ContextDep, principal: PrincipalDep, task_id: EntityId
) -> insight.RoutingExplanationOut:
    """Why the task is where it is: its filter, step, queue, and each agent's eligibility."""
    return await insight.explain_task(ctx, principal, task_id)


@router.post("/tasks/{task_id}/complete", response_model=tasks.TaskOut)
async def complete_task(
    ctx: ContextDep, principal: PrincipalDep, task_id: EntityId
) -> tasks.TaskOut:
    """The agent is done with the task; the queue's wrap-up follows."""
    return await tasks.act_on_task(ctx, principal, task_id, CommandKind.COMPLETE)


@router.post("/tasks/{task_id}/transfer", response_model=tasks.TaskOut)
async def transfer_task(
    ctx: ContextDep, principal: PrincipalDep, task_id: EntityId, body: tasks.TransferRequest
) -> tasks.TaskOut:
    """Hand a task being handled to a queue or to named agents."""
    return await tasks.act_on_task(ctx, principal, task_id, CommandKind.TRANSFER, transfer=body)


@router.post("/tasks/{task_id}/cancel", response_model=tasks.TaskOut)
async def cancel_task(ctx: ContextDep, principal: PrincipalDep, task_id: EntityId) -> tasks.TaskOut:
    """The customer left while waiting or being offered: the task leaves routing."""
    return await tasks.act_on_task(ctx, principal, task_id, CommandKind.CANCEL)


@router.post("/tasks/{task_id}/callback", response_model=tasks.TaskOut)
async def request_callback(
    ctx: ContextDep, principal: PrincipalDep, task_id: EntityId
) -> tasks.TaskOut:
    """The customer hangs up but keeps their place: the offer will be a callback."""
    return await tasks.act_on_task(ctx, principal, task_id, CommandKind.CALLBACK)


@router.post("/tasks/{task_id}/end-wrap-up", response_model=tasks.TaskOut)
async def end_wrap_up(ctx: ContextDep, principal: PrincipalDep, task_id: EntityId) -> tasks.TaskOut:
    """End the wrap-up of a completed task before its time: the agent is free again."""
    return await tasks.act_on_task(ctx, principal, task_id, CommandKind.END_WRAP_UP)


# --- reservations -----------------------------------------------------------------------


@router.get("/reservations", response_model=Page[tasks.ReservationOut])
async def list_reservations(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    worker_id: IdFilter = None,
    state: ReservationState | None = None,
) -> Page[tasks.ReservationOut]:
    """Offers: an agent sees their own, a supervisor those of the sites they see."""
    return await tasks.list_reservations(
        ctx, principal, worker_id=worker_id, state=state, cursor=cursor, limit=limit
    )


@router.post("/reservations/{reservation_id}/accept", response_model=tasks.ReservationOut)
async def accept_reservation(
    ctx: ContextDep, principal: PrincipalDep, reservation_id: EntityId
) -> tasks.ReservationOut:
    """Accept an offer made to you, while it is pending."""
    return await tasks.act_on_reservation(ctx, principal, reservation_id, CommandKind.ACCEPT)


@router.post("/reservations/{reservation_id}/reject", response_model=tasks.ReservationOut)
async def reject_reservation(
    ctx: ContextDep, principal: PrincipalDep, reservation_id: EntityId
) -> tasks.ReservationOut:
    """Turn down an offer made to you; the task waits for someone else."""
    return await tasks.act_on_reservation(ctx, principal, reservation_id, CommandKind.REJECT)


# --- queues and sites -------------------------------------------------------------------


@router.get("/queues/{queue_id}/wait", response_model=insight.QueueWaitOut)
async def queue_wait(
    ctx: ContextDep, principal: PrincipalDep, queue_id: EntityId, position: Position = None
) -> insight.QueueWaitOut:
    """The estimated wait of a newcomer, or of the task at ``position``."""
    return await insight.queue_wait(ctx, principal, queue_id, position=position)


@router.post("/sites/{site_id}/routing-state", response_model=insight.SiteRoutingOut)
async def set_site_routing_state(
    ctx: ContextDep, principal: PrincipalDep, site_id: EntityId, body: insight.SiteRoutingUpdate
) -> insight.SiteRoutingOut:
    """Open, drain or close a site for routing; its waiting tasks move on at once."""
    return await insight.set_site_routing_state(ctx, principal, site_id, body)
