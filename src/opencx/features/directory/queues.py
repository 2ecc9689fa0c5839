"""Queues: where interactions of one channel wait for an agent who matches the target.

A queue on a site is visible to whoever sees that site; a queue on no site only to users
who see every site (``Principal.sees_site``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel
from opencx.core.errors import Conflict, NotFound
from opencx.core.events import EventType
from opencx.core.permissions import Permission, Principal, require
from opencx.core.routing.expressions import ExpressionError, compile_expression
from opencx.core.routing.model import Selection
from opencx.db.models import (
    BusinessHours,
    Conversation,
    Interaction,
    Queue,
    RoutingTask,
    Site,
    Team,
)
from opencx.features.common import InputSchema, Page, Schema, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.directory._changes import (
    RefId,
    check_exists,
    name_prefix,
    record_change,
    refuse_if_used,
    reject_nulls,
)
from opencx.features.routing.commands import CommandKind, enqueue
from opencx.features.routing.workflow import active_workflow

__all__ = [
    "QueueCreate",
    "QueueOut",
    "QueueUpdate",
    "create_queue",
    "delete_queue",
    "get_queue",
    "list_queues",
    "update_queue",
]

KIND = "queue"
MAX_EXPRESSION = 2000
#: Longest service-level target: 30 days covers "email answered within 48 h" and more.
MAX_SERVICE_LEVEL = 30 * 24 * 3600
NULLABLE = frozenset({"team_id", "site_id", "business_hours_id", "selection_skill"})


def _check_target(value: str | None) -> str | None:
    """A target that does not compile is refused with its column (422)."""
    if value is not None:
        try:
            compile_expression(value, default_root="worker")
        except ExpressionError as exc:
            raise ValueError(exc.detail) from None
    return value


Target = Annotated[str, Field(max_length=MAX_EXPRESSION), AfterValidator(_check_target)]


class QueueCreate(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    channel: Channel
    team_id: RefId | None = None
    site_id: RefId | None = None
    business_hours_id: RefId | None = None
    target_expression: Target = Field(default="", examples=["skills.billing >= 2"])
    priority: int = Field(default=0, ge=0, le=1000)
    service_level_seconds: int = Field(default=20, ge=1, le=MAX_SERVICE_LEVEL)
    short_abandon_seconds: int = Field(
        default=5, ge=0, le=3600, description="abandons before this wait count apart"
    )
    wrap_up_seconds: int = Field(default=30, ge=0, le=3600)
    selection: Selection = Selection.LONGEST_IDLE
    selection_skill: str | None = Field(default=None, max_length=120, examples=["skills.billing"])
    expected_handle_seconds: int = Field(default=300, ge=1, le=MAX_SERVICE_LEVEL)
    auto_accept: bool = Field(
        default=False, description="the agent's desktop accepts this queue's offers at once"
    )


class QueueUpdate(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    channel: Channel | None = None
    team_id: RefId | None = None
    site_id: RefId | None = None
    business_hours_id: RefId | None = None
    target_expression: Target | None = None
    priority: int | None = Field(default=None, ge=0, le=1000)
    service_level_seconds: int | None = Field(default=None, ge=1, le=MAX_SERVICE_LEVEL)
    short_abandon_seconds: int | None = Field(default=None, ge=0, le=3600)
    wrap_up_seconds: int | None = Field(default=None, ge=0, le=3600)
    selection: Selection | None = None
    selection_skill: str | None = Field(default=None, max_length=120)
    expected_handle_seconds: int | None = Field(default=None, ge=1, le=MAX_SERVICE_LEVEL)
    auto_accept: bool | None = None


class QueueOut(Schema):
    id: int
    name: str
    channel: Channel
    team_id: int | None
    site_id: int | None
    business_hours_id: int | None
    target_expression: str
    priority: int
    service_level_seconds: int
    short_abandon_seconds: int
    wrap_up_seconds: int
    selection: Selection
    selection_skill: str | None
    expected_handle_seconds: int
    auto_accept: bool
    created_at: datetime
    updated_at: datetime


async def list_queues(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    q: str | None = None,
    channel: Channel | None = None,
    team_id: int | None = None,
    site_id: int | None = None,
) -> Page[QueueOut]:
    require(principal, Permission.DIRECTORY_READ)
    stmt = select(Queue)
    visible = principal.visible_site_ids
    if visible is not None:
        stmt = stmt.where(Queue.site_id.in_(visible))
    if q:
        stmt = stmt.where(name_prefix(Queue.name, q))
    if channel is not None:
        stmt = stmt.where(Queue.channel == channel)
    if team_id is not None:
        stmt = stmt.where(Queue.team_id == team_id)
    if site_id is not None:
        stmt = stmt.where(Queue.site_id == site_id)
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=Queue.id,
            cursor=cursor,
            limit=limit,
            to_out=QueueOut.model_validate,
        )


async def get_queue(ctx: AppContext, principal: Principal, queue_id: int) -> QueueOut:
    require(principal, Permission.DIRECTORY_READ)
    async with transaction(ctx) as session:
        return QueueOut.model_validate(await _visible(session, principal, queue_id))


async def create_queue(ctx: AppContext, principal: Principal, data: QueueCreate) -> QueueOut:
    require(principal, Permission.DIRECTORY_WRITE)
    fields = data.model_dump()
    try:
        async with transaction(ctx) as session:
            await _check_references(session, fields)
            queue = Queue(**fields)
            session.add(queue)
            await session.flush()
            await _changed(session, ctx, principal, queue, "create", data.model_dump(mode="json"))
            return QueueOut.model_validate(queue)
    except IntegrityError:
        raise Conflict(f"a queue named {data.name!r} already exists", field="name") from None


async def update_queue(
    ctx: AppContext, principal: Principal, queue_id: int, data: QueueUpdate
) -> QueueOut:
    require(principal, Permission.DIRECTORY_WRITE)
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, nullable=NULLABLE)
    try:
        async with transaction(ctx) as session:
            queue = await _visible(session, principal, queue_id)
            await _check_references(session, changes)
            for name, value in changes.items():
                setattr(queue, name, value)
            await session.flush()
            audit = data.model_dump(mode="json", exclude_unset=True)
            await _changed(session, ctx, principal, queue, "update", audit)
            return QueueOut.model_validate(queue)
    except IntegrityError:
        raise Conflict("a queue with this name already exists", field="name") from None


async def delete_queue(ctx: AppContext, principal: Principal, queue_id: int) -> None:
    """Delete a queue that no conversation or interaction went through (409 otherwise)."""
    require(principal, Permission.DIRECTORY_WRITE)
    try:
        async with transaction(ctx) as session:
            queue = await _visible(session, principal, queue_id)
            await refuse_if_used(
                session,
                f"queue {queue_id}",
                {
                    "conversations": Conversation.queue_id == queue_id,
                    "interactions": Interaction.queue_id == queue_id,
                    "routing tasks": RoutingTask.queue_id == queue_id,
                },
            )
            workflow = await active_workflow(session)
            if workflow is not None and queue_id in _queues_named(workflow.definition):
                raise Conflict(f"queue {queue_id} is a target of the routing workflow")
            await session.delete(queue)
            await session.flush()
            await _changed(session, ctx, principal, queue, "delete", {"name": queue.name})
    except IntegrityError:  # something started using it meanwhile
        raise Conflict(f"queue {queue_id} is still in use") from None


def _queues_named(definition: dict[str, Any]) -> set[int]:
    return {
        target.get("queue_id")
        for item in definition.get("filters", [])
        for target in item.get("targets", [])
    }


async def _visible(session: AsyncSession, principal: Principal, queue_id: int) -> Queue:
    queue = await session.get(Queue, queue_id)
    if queue is None or not principal.sees_site(queue.site_id):
        raise NotFound(f"queue {queue_id} does not exist")
    return queue


async def _check_references(session: AsyncSession, fields: dict[str, Any]) -> None:
    for field, model, label in (
        ("team_id", Team, "team"),
        ("site_id", Site, "site"),
        ("business_hours_id", BusinessHours, "business hours"),
    ):
        await check_exists(session, model, fields.get(field), field=field, label=label)


async def _changed(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    queue: Queue,
    action: str,
    changes: dict[str, Any],
) -> None:
    await record_change(
        session,
        ctx,
        principal,
        kind=KIND,
        entity_id=queue.id,
        action=action,
        changes=changes,
        event=EventType.QUEUE_CHANGED,
        site_id=queue.site_id,
    )
    await enqueue(session, ctx, CommandKind.RELOAD, actor_user_id=principal.user_id)
