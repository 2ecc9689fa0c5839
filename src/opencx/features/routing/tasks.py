"""Tasks and reservations as the API sees them: create, read, act, explain.

Rules:
- a task is created for an interaction that is waiting (created or queued) and has no
  task being routed; it is committed, with the router's command, before the API
  answers, so the router takes it in even if this node dies right after;
- actions that the router decides (accept, reject, complete, transfer, cancel,
  callback, end of wrap-up) wait for its outcome: a refusal is a 409 naming why;
- an agent acts only on their own reservations and tasks; supervisors and admins on
  any task of the sites they see; every read is limited to the sites one sees;
- a task is offered (``worker_ids``, a transfer) only to active agents and supervisors
  of the sites the caller sees: any other id is refused as if it did not exist;
- the system's attributes (``SYSTEM_ATTRIBUTES``: the channel, conversation, customer,
  the customer's recent agents, and the demo's ``simulated`` mark) are written by
  OpenCX alone: a client naming one is refused (422), and they always win over
  attributes given by a channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field, model_validator
from sqlalchemy import (
    ColumnElement,
    Integer,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel, InteractionState, Role, TaskStatus
from opencx.core.errors import Conflict, InvalidInput, NotFound
from opencx.core.events import EventType
from opencx.core.lifecycles import LIVE_TASK_STATUSES
from opencx.core.notes import MAX_NOTE
from opencx.core.permissions import Permission, Principal, require
from opencx.core.routing.model import SIMULATED, ReservationState
from opencx.db.models import (
    Conversation,
    Interaction,
    Queue,
    RoutingReservation,
    RoutingTask,
    RoutingWorkflow,
    User,
)
from opencx.features.common import InputSchema, Page, Schema, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.customers.schemas import RefId
from opencx.features.events.record import insert_ids, record_event
from opencx.features.routing.commands import (
    CommandKind,
    await_outcome,
    awaiting_outcomes,
    enqueue,
    enqueue_many,
    wake_router,
)

__all__ = [
    "NewTask",
    "ReservationOut",
    "TaskCreate",
    "TaskOut",
    "TransferRequest",
    "act_on_reservation",
    "act_on_task",
    "create_task",
    "get_task",
    "insert_first_tasks",
    "insert_task",
    "last_agents",
    "list_reservations",
    "list_tasks",
]

_ROUTABLE = (InteractionState.CREATED, InteractionState.QUEUED)
MAX_ATTRIBUTES_BYTES = 16_384
#: How many of the customer's most recent agents a task lists in ``last_agent_ids``.
KNOWN_AGENTS = 3
#: Attributes OpenCX writes on every task; routing rules trust them.
SYSTEM_ATTRIBUTES = frozenset(
    {"channel", "conversation_id", "customer_id", "last_agent_ids", SIMULATED}
)


class TaskCreate(InputSchema):
    """Without ``queue_id`` or ``worker_ids`` the workflow routes the task; while no
    workflow has been saved, the task goes to its interaction's (else its
    conversation's) queue."""

    interaction_id: RefId
    attributes: dict[str, Any] = Field(default_factory=dict, examples=[{"lang": "fr"}])
    priority: int = Field(default=0, ge=-1000, le=1000)
    queue_id: RefId | None = None
    worker_ids: list[RefId] | None = Field(default=None, max_length=50)
    not_before: datetime | None = Field(
        default=None, description="a scheduled callback: not offered before then"
    )

    @model_validator(mode="after")
    def _small_attributes(self) -> TaskCreate:
        import json

        if len(json.dumps(self.attributes)) > MAX_ATTRIBUTES_BYTES:
            raise ValueError(f"attributes take at most {MAX_ATTRIBUTES_BYTES} bytes as JSON")
        reserved = sorted(SYSTEM_ATTRIBUTES & self.attributes.keys())
        if reserved:
            raise ValueError(f"attributes {reserved} are set by OpenCX, not by clients")
        return self


class TransferRequest(InputSchema):
    """``note`` (a warm transfer) is kept as an internal note of the conversation and
    shown on the next agent's offer."""

    queue_id: RefId | None = None
    worker_ids: list[RefId] | None = Field(default=None, max_length=50)
    note: str | None = Field(default=None, min_length=1, max_length=MAX_NOTE)

    @model_validator(mode="after")
    def _somewhere(self) -> TransferRequest:
        if self.queue_id is None and not self.worker_ids:
            raise ValueError("name a queue_id or at least one of worker_ids")
        return self


class TaskOut(Schema):
    id: int
    interaction_id: int
    channel: Channel
    site_id: int | None
    status: TaskStatus
    priority: int
    attributes: dict[str, Any]
    queue_id: int | None
    worker_id: int | None
    filter_index: int | None
    step_index: int | None
    callback: bool
    created_at: datetime
    not_before: datetime | None
    expires_at: datetime | None
    accepted_at: datetime | None
    ended_at: datetime | None
    fallback_action: str | None
    end_reason: str | None

    @classmethod
    def of(cls, row: RoutingTask) -> TaskOut:
        return cls(
            id=row.id,
            interaction_id=row.interaction_id,
            channel=row.channel,
            site_id=row.site_id,
            status=row.status,
            priority=row.priority if row.priority is not None else row.base_priority,
            attributes=row.attributes,
            queue_id=row.queue_id,
            worker_id=row.worker_id,
            filter_index=row.filter_index,
            step_index=row.step_index,
            callback=row.callback,
            created_at=row.created_at,
            not_before=row.not_before,
            expires_at=row.expires_at,
            accepted_at=row.accepted_at,
            ended_at=row.ended_at,
            fallback_action=row.fallback_action,
            end_reason=row.end_reason,
        )


class ReservationOut(Schema):
    id: int
    task_id: int
    worker_id: int
    queue_id: int | None
    state: ReservationState
    callback: bool
    offered_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    ended_at: datetime | None


async def create_task(ctx: AppContext, principal: Principal, data: TaskCreate) -> TaskOut:
    require(principal, Permission.CONVERSATIONS_WRITE)
    async with transaction(ctx) as session:
        interaction = await session.get(Interaction, data.interaction_id, with_for_update=True)
        conversation = (
            await session.get(Conversation, interaction.conversation_id) if interaction else None
        )
        if (
            interaction is None
            or conversation is None
            or not principal.sees_site(conversation.site_id)
        ):
            raise NotFound(f"interaction {data.interaction_id} does not exist")
        if interaction.state not in _ROUTABLE:
            raise Conflict(
                f"interaction {interaction.id} is {interaction.state.value}; only a created "
                "or queued interaction can be routed"
            )
        await _check_destination(session, principal, data.queue_id, data.worker_ids or [])
        row = await insert_task(
            session,
            ctx,
            interaction,
            conversation,
            attributes=data.attributes,
            priority=data.priority,
            queue_id=data.queue_id,
            worker_ids=data.worker_ids,
            not_before=data.not_before,
            actor_user_id=principal.user_id,
        )
        out = TaskOut.of(row)
    wake_router()
    return out


async def insert_task(
    session: AsyncSession,
    ctx: AppContext,
    interaction: Interaction,
    conversation: Conversation,
    *,
    attributes: dict[str, Any] | None = None,
    priority: int = 0,
    queue_id: int | None = None,
    worker_ids: list[int] | None = None,
    not_before: datetime | None = None,
    actor_user_id: int | None = None,
    new_interaction: bool = False,
    last_agent_ids: list[int] | None = None,
) -> RoutingTask:
    """Hand an interaction to routing in the caller's transaction (channels use this for
    what they receive). Call ``wake_router`` after the commit.

    A caller that created the interaction in this transaction says so
    (``new_interaction``: no task can route it yet), and one that knows the customer's
    recent agents gives them (``[]`` for a customer created in this transaction):
    both spare a query."""
    if not new_interaction:
        await _check_not_routed(session, interaction.id)
    if last_agent_ids is None:
        last_agent_ids = await _last_agents(session, conversation.customer_id)
    full = {
        **(attributes or {}),
        "channel": interaction.channel.value,
        "conversation_id": conversation.id,
        "customer_id": conversation.customer_id,
        "last_agent_ids": last_agent_ids,
    }
    requested: int | ColumnElement[int] | None = queue_id
    if queue_id is None and not worker_ids:
        requested = _unless_workflow(interaction.queue_id or conversation.queue_id)
    new = insert(RoutingTask).values(
        interaction_id=interaction.id,
        channel=interaction.channel,
        site_id=interaction.site_id or conversation.site_id,
        attributes=full,
        base_priority=priority,
        created_at=ctx.clock.now(),
        not_before=not_before,
        requested_queue_id=requested,
        requested_worker_ids=worker_ids,
        status=TaskStatus.NEW,
        excluded={},
    )
    row: RoutingTask | None = await session.scalar(new.returning(RoutingTask))
    assert row is not None
    await record_event(
        session,
        ctx,
        EventType.TASK_CREATED,
        entity_kind="task",
        entity_id=row.id,
        payload={"interaction_id": interaction.id, "channel": row.channel.value},
        actor_user_id=actor_user_id,
        site_id=row.site_id,
    )
    await enqueue(session, ctx, CommandKind.SUBMIT, task_id=row.id, actor_user_id=actor_user_id)
    return row


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task for an interaction created in the caller's transaction: what
    ``insert_first_tasks`` needs of it. A customer created in that transaction too
    (``new_customer``) has no recent agents to look up."""

    interaction_id: int
    channel: Channel
    site_id: int | None
    queue_id: int | None
    conversation_id: int
    customer_id: int
    attributes: dict[str, Any]
    new_customer: bool = True


_WORKFLOW_SAVED = select(exists(select(RoutingWorkflow.id)))


async def insert_first_tasks(
    session: AsyncSession, ctx: AppContext, tasks: Sequence[NewTask]
) -> list[int]:
    """``insert_task`` for many new interactions at once (a channel's batch): the same
    rows, events and router commands, with one statement each for the recent agents of
    the customers that may have some, the tasks and the commands. Their ids, in order;
    call ``wake_router`` after the commit."""
    if not tasks:
        return []
    queues = {task.queue_id for task in tasks if task.queue_id is not None}
    workflow_saved = bool(queues) and bool(await session.scalar(_WORKFLOW_SAVED))
    known = await last_agents(session, {t.customer_id for t in tasks if not t.new_customer})
    now = ctx.clock.now()
    ids = await insert_ids(
        session,
        RoutingTask,
        [
            {
                "interaction_id": task.interaction_id,
                "channel": task.channel,
                "site_id": task.site_id,
                "attributes": {
                    **task.attributes,
                    "channel": task.channel.value,
                    "conversation_id": task.conversation_id,
                    "customer_id": task.customer_id,
                    "last_agent_ids": known.get(task.customer_id, []),
                },
                "base_priority": 0,
                "created_at": now,
                "not_before": None,
                "requested_queue_id": None if workflow_saved else task.queue_id,
                "requested_worker_ids": None,
                "status": TaskStatus.NEW,
                "excluded": {},
            }
            for task in tasks
        ],
    )
    for task, task_id in zip(tasks, ids, strict=True):
        await record_event(
            session,
            ctx,
            EventType.TASK_CREATED,
            entity_kind="task",
            entity_id=task_id,
            payload={"interaction_id": task.interaction_id, "channel": task.channel.value},
            site_id=task.site_id,
        )
    await enqueue_many(session, ctx, CommandKind.SUBMIT, task_ids=ids)
    return ids


def _unless_workflow(queue_id: int | None) -> ColumnElement[int] | None:
    """``queue_id`` while no workflow has been saved, else NULL (the workflow routes the
    task): decided by the INSERT itself, one round trip fewer."""
    if queue_id is None:
        return None
    saved = exists(select(RoutingWorkflow.id))
    return case((saved, null()), else_=literal(queue_id, Integer))


async def _check_not_routed(session: AsyncSession, interaction_id: int) -> None:
    live = await session.scalar(
        select(RoutingTask.id).where(
            RoutingTask.interaction_id == interaction_id,
            RoutingTask.status.in_(sorted(LIVE_TASK_STATUSES)),
        )
    )
    if live is not None:
        raise Conflict(f"interaction {interaction_id} is already routed by task {live}")


async def get_task(ctx: AppContext, principal: Principal, task_id: int) -> TaskOut:
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        return TaskOut.of(await _visible_task(session, principal, task_id))


async def list_tasks(
    ctx: AppContext,
    principal: Principal,
    *,
    status: str | None = None,
    queue_id: int | None = None,
    worker_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[TaskOut]:
    require(principal, Permission.CONVERSATIONS_READ)
    stmt = select(RoutingTask)
    visible = principal.visible_site_ids
    if visible is not None:
        stmt = stmt.where(RoutingTask.site_id.in_(visible))
    if principal.role is Role.AGENT:
        stmt = stmt.where(RoutingTask.worker_id == principal.user_id)
    if status is not None:
        stmt = stmt.where(RoutingTask.status == _task_status(status))
    if queue_id is not None:
        stmt = stmt.where(RoutingTask.queue_id == queue_id)
    if worker_id is not None:
        stmt = stmt.where(RoutingTask.worker_id == worker_id)
    async with transaction(ctx) as session:
        return await paginate(
            session, stmt, id_column=RoutingTask.id, cursor=cursor, limit=limit, to_out=TaskOut.of
        )


def _task_status(status: str) -> TaskStatus:
    try:
        return TaskStatus(status)
    except ValueError:
        known = ", ".join(TaskStatus)
        raise InvalidInput(f"status is one of {known}", field="status") from None


async def act_on_task(
    ctx: AppContext,
    principal: Principal,
    task_id: int,
    kind: CommandKind,
    *,
    transfer: TransferRequest | None = None,
) -> TaskOut:
    """Complete, transfer, cancel, call back, or end the wrap-up of a task.

    Agents act on the tasks they hold (or wrap up); cancelling and asking for a callback
    are for whoever may write the conversation (a channel, a supervisor)."""
    require(principal, Permission.CONVERSATIONS_WRITE)
    async with awaiting_outcomes(ctx) as expect, transaction(ctx) as session:
        row = await _visible_task(session, principal, task_id)
        if transfer is not None:
            await _check_transfer(session, principal, transfer)
        worker_id: int | None = None
        if principal.role is Role.AGENT and kind in _HOLDER_ONLY:
            worker_id = principal.user_id
            if kind is not CommandKind.END_WRAP_UP and row.worker_id != principal.user_id:
                raise Conflict(f"task {task_id} is not handled by you")
        elif kind is CommandKind.END_WRAP_UP:
            worker_id = await _last_worker(session, task_id)
        payload = transfer.model_dump(exclude_none=True) if transfer is not None else {}
        command = await enqueue(
            session,
            ctx,
            kind,
            task_id=task_id,
            worker_id=worker_id,
            payload=payload,
            actor_user_id=principal.user_id,
        )
        expect(command.id)
    await await_outcome(ctx, command.id)
    return await get_task(ctx, principal, task_id)


_HOLDER_ONLY = frozenset({CommandKind.COMPLETE, CommandKind.TRANSFER, CommandKind.END_WRAP_UP})


async def list_reservations(
    ctx: AppContext,
    principal: Principal,
    *,
    worker_id: int | None = None,
    state: ReservationState | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ReservationOut]:
    """An agent sees their own; a supervisor those of the sites they see."""
    require(principal, Permission.CONVERSATIONS_READ)
    stmt = select(RoutingReservation)
    if principal.role is Role.AGENT:
        stmt = stmt.where(RoutingReservation.worker_id == principal.user_id)
    else:
        visible = principal.visible_site_ids
        if visible is not None:
            stmt = stmt.join(RoutingTask, RoutingTask.id == RoutingReservation.task_id).where(
                RoutingTask.site_id.in_(visible)
            )
    if worker_id is not None:
        stmt = stmt.where(RoutingReservation.worker_id == worker_id)
    if state is not None:
        stmt = stmt.where(RoutingReservation.state == state)
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=RoutingReservation.id,
            cursor=cursor,
            limit=limit,
            to_out=ReservationOut.model_validate,
        )


async def act_on_reservation(
    ctx: AppContext, principal: Principal, reservation_id: int, kind: CommandKind
) -> ReservationOut:
    """Accept or reject an offer: only the agent it was offered to, while it is pending.
    The answer is the reservation as the router's batch left it, from the router itself
    (read again only when the router could not say)."""
    require(principal, Permission.PRESENCE_SET_OWN)
    async with awaiting_outcomes(ctx) as expect, transaction(ctx) as session:
        reservation = await session.get(RoutingReservation, reservation_id)
        if reservation is None or reservation.worker_id != principal.user_id:
            raise NotFound(f"reservation {reservation_id} does not exist")
        if reservation.state is not ReservationState.PENDING:
            raise Conflict(
                f"reservation {reservation_id} is {reservation.state}, no longer pending",
                state=reservation.state,
            )
        command = await enqueue(
            session,
            ctx,
            kind,
            task_id=reservation.task_id,
            worker_id=principal.user_id,
            payload={"reservation_id": reservation_id},
            actor_user_id=principal.user_id,
        )
        expect(command.id)
    try:
        outcome = await await_outcome(ctx, command.id)
    except NotFound as exc:
        # The task left routing between the check above and the router's turn (the
        # customer hung up, a supervisor cancelled it): the offer the agent saw is
        # gone, which is a conflict with what they answered, not a missing resource.
        raise Conflict(f"reservation {reservation_id} is no longer offered: {exc.detail}") from exc
    if outcome.reservation is not None:
        stored = ReservationOut.model_validate(outcome.reservation)
    else:
        async with transaction(ctx) as session:
            row = await session.get(RoutingReservation, reservation_id)
            assert row is not None
            stored = ReservationOut.model_validate(row)
    if kind is CommandKind.ACCEPT and stored.state is not ReservationState.ACCEPTED:
        raise Conflict(f"reservation {reservation_id} is {stored.state}", state=stored.state)
    return stored


async def _check_destination(
    session: AsyncSession, principal: Principal, queue_id: int | None, worker_ids: list[int]
) -> None:
    if queue_id is not None:
        queue = await session.get(Queue, queue_id)
        if queue is None or not principal.sees_site(queue.site_id):
            raise InvalidInput(f"queue {queue_id} does not exist", field="queue_id")
    if worker_ids:
        stmt = select(User.id).where(
            User.id.in_(worker_ids),
            User.is_active.is_(True),
            User.role.in_((Role.AGENT, Role.SUPERVISOR)),
        )
        visible = principal.visible_site_ids
        if visible is not None:
            stmt = stmt.where(User.site_id.in_(visible))
        found = set(await session.scalars(stmt))
        missing = sorted(set(worker_ids) - found)
        if missing:
            raise InvalidInput(
                f"workers {missing} are not active agents or supervisors", field="worker_ids"
            )


async def _check_transfer(
    session: AsyncSession, principal: Principal, transfer: TransferRequest
) -> None:
    """A destination the caller may not see answers as the router answers an unknown one."""
    if principal.visible_site_ids is None:
        return  # the router refuses what does not exist
    if transfer.queue_id is not None:
        queue = await session.get(Queue, transfer.queue_id)
        if queue is None or not principal.sees_site(queue.site_id):
            raise NotFound(f"queue {transfer.queue_id} is unknown")
    for worker_id in transfer.worker_ids or []:
        worker = await session.get(User, worker_id)
        if worker is None or not principal.sees_site(worker.site_id):
            raise NotFound(f"worker {worker_id} is unknown to the router")


async def _visible_task(session: AsyncSession, principal: Principal, task_id: int) -> RoutingTask:
    row = await session.get(RoutingTask, task_id)
    if row is None or not principal.sees_site(row.site_id):
        raise NotFound(f"task {task_id} does not exist")
    if principal.role is Role.AGENT and row.worker_id != principal.user_id:
        offered = await session.scalar(
            select(RoutingReservation.id).where(
                RoutingReservation.task_id == task_id,
                RoutingReservation.worker_id == principal.user_id,
            )
        )
        if offered is None:
            raise NotFound(f"task {task_id} does not exist")
    return row


async def _last_worker(session: AsyncSession, task_id: int) -> int | None:
    stmt = (
        select(RoutingReservation.worker_id)
        .where(RoutingReservation.task_id == task_id)
        .order_by(RoutingReservation.id.desc())
        .limit(1)
    )
    worker_id: int | None = await session.scalar(stmt)
    return worker_id


async def _last_agents(session: AsyncSession, customer_id: int | None) -> list[int]:
    """The customer's most recent agents, newest first: known-agent routing reads them."""
    if customer_id is None:
        return []
    return (await last_agents(session, {customer_id})).get(customer_id, [])


async def last_agents(session: AsyncSession, customer_ids: set[int]) -> dict[int, list[int]]:
    """The most recent agents of each of ``customer_ids`` that has some, newest first
    (at most ``KNOWN_AGENTS``, from their last 20 answered interactions), in one query."""
    if not customer_ids:
        return {}
    rows = await session.execute(_LAST_AGENTS, {"customers": sorted(customer_ids)})
    agents: dict[int, list[int]] = {}
    for customer_id, agent_id in rows:
        known = agents.setdefault(customer_id, [])
        if agent_id not in known and len(known) < KNOWN_AGENTS:
            known.append(agent_id)
    return agents


_RANKED_AGENTS = (
    select(
        Conversation.customer_id,
        Interaction.agent_id,
        func.row_number()
        .over(partition_by=Conversation.customer_id, order_by=Interaction.id.desc())
        .label("rank"),
    )
    .join(Conversation, Conversation.id == Interaction.conversation_id)
    .where(
        Conversation.customer_id.in_(bindparam("customers", expanding=True)),
        Interaction.agent_id.is_not(None),
        Interaction.answered_at.is_not(None),
    )
    .subquery()
)
_LAST_AGENTS = (
    select(_RANKED_AGENTS.c.customer_id, _RANKED_AGENTS.c.agent_id)
    .where(_RANKED_AGENTS.c.rank <= 20)
    .order_by(_RANKED_AGENTS.c.customer_id, _RANKED_AGENTS.c.rank)
)
