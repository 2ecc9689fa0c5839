"""Interactions: one contact on one channel, moved along ``INTERACTION_TRANSITIONS``
by the actions of ``features.routing.actions`` (the only writers of its state).

Each entered state stamps its timestamp once (``INTERACTION_STAMPS``); hold time is
accumulated: entering HELD sets ``held_since``, leaving it adds the elapsed seconds to
``hold_seconds``; WRAP_UP -> ENDED stamps ``wrapped_up_at``. Time comes from the
context's clock, so the figures computed from these rows are reproducible.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import AliasChoices, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel, Direction, InteractionState
from opencx.core.errors import NotFound
from opencx.core.events import EventType
from opencx.core.lifecycles import LIVE_TASK_STATUSES
from opencx.core.live_views import waiting_since
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Conversation, Interaction, RoutingTask
from opencx.features.common import Page, Schema, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import (
    check_agent,
    check_queue,
    ensure_open,
    load_conversation,
    record_conversation_event,
)
from opencx.features.customers.schemas import InputSchema, RefId
from opencx.features.routing.actions import move_by_hand

__all__ = [
    "InteractionCreate",
    "InteractionOut",
    "StateChange",
    "change_interaction_state",
    "create_interaction",
    "get_interaction",
    "list_interactions",
    "load_interaction",
]

_I = InteractionState


class InteractionCreate(InputSchema):
    """A queue of another site puts the interaction on that site; the conversation's
    site otherwise."""

    channel: Channel
    direction: Direction
    queue_id: RefId | None = None
    agent_id: RefId | None = None


class StateChange(InputSchema):
    state: InteractionState


class InteractionOut(Schema):
    id: int
    conversation_id: int
    channel: Channel
    direction: Direction
    state: InteractionState
    queue_id: int | None
    site_id: int | None
    agent_id: int | None
    arrived_at: datetime
    queued_at: datetime | None
    offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wrapped_up_at: datetime | None
    hold_seconds: float
    held_since: datetime | None
    #: The contact's coding (``POST /interactions/{id}/wrap-up``): a contact reason
    #: per axis, a summary, who coded it and when.
    declaration_reason_id: int | None = None
    qualification_reason_id: int | None = None
    action_reason_id: int | None = None
    summary: str | None = Field(
        default=None, validation_alias=AliasChoices("wrap_up_summary", "summary")
    )
    coded_at: datetime | None = None
    coded_by_id: int | None = None


async def create_interaction(
    ctx: AppContext, principal: Principal, conversation_id: int, data: InteractionCreate
) -> InteractionOut:
    require(principal, Permission.CONVERSATIONS_WRITE)
    async with transaction(ctx) as session:
        conversation = await load_conversation(session, principal, conversation_id)
        ensure_open(conversation)
        site_id = conversation.site_id
        if data.queue_id is not None:
            queue = await check_queue(session, principal, data.queue_id)
            site_id = queue.site_id if queue.site_id is not None else site_id
        if data.agent_id is not None:
            await check_agent(session, principal, data.agent_id, field="agent_id")
        interaction = Interaction(
            **data.model_dump(),
            conversation_id=conversation.id,
            state=_I.CREATED,
            site_id=site_id,
            arrived_at=ctx.clock.now(),
            hold_seconds=0.0,
        )
        session.add(interaction)
        await session.flush()
        conversation.updated_at = ctx.clock.now()
        await _record(session, ctx, principal, conversation, interaction, None)
        return InteractionOut.model_validate(interaction)


async def get_interaction(
    ctx: AppContext, principal: Principal, interaction_id: int
) -> InteractionOut:
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        interaction, _ = await load_interaction(session, principal, interaction_id)
        return InteractionOut.model_validate(interaction)


async def list_interactions(
    ctx: AppContext,
    principal: Principal,
    conversation_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[InteractionOut]:
    require(principal, Permission.CONVERSATIONS_READ)
    stmt = select(Interaction).where(Interaction.conversation_id == conversation_id)
    async with transaction(ctx) as session:
        await load_conversation(session, principal, conversation_id)
        return await paginate(
            session,
            stmt,
            id_column=Interaction.id,
            cursor=cursor,
            limit=limit,
            to_out=InteractionOut.model_validate,
        )


async def change_interaction_state(
    ctx: AppContext, principal: Principal, interaction_id: int, data: StateChange
) -> InteractionOut:
    """Move an interaction by hand (``routing.actions.move_by_hand``). An illegal move
    is a 409 (``IllegalTransition``) and changes nothing. While a routing task is live
    (new, waiting, offered or assigned) the router owns the interaction: only hold and
    resume are allowed here; ending it goes through the task (cancel while it waits or
    is offered, complete once an agent has it), so that no agent is offered a contact
    that is over and the agent's capacity is given back."""
    require(principal, Permission.CONVERSATIONS_WRITE)
    async with transaction(ctx) as session:
        interaction, conversation = await load_interaction(
            session, principal, interaction_id, for_update=True
        )
        task = await _routing_task(session, interaction.id)
        previous = move_by_hand(interaction, data.state, task=task, now=ctx.clock.now())
        await session.flush()
        await _record(session, ctx, principal, conversation, interaction, previous)
        return InteractionOut.model_validate(interaction)


async def _routing_task(session: AsyncSession, interaction_id: int) -> RoutingTask | None:
    """The task routing the interaction now, if any (locked: the router waits for us)."""
    stmt = (
        select(RoutingTask)
        .where(
            RoutingTask.interaction_id == interaction_id,
            RoutingTask.status.in_(sorted(LIVE_TASK_STATUSES)),
        )
        .order_by(RoutingTask.id.desc())
        .limit(1)
        .with_for_update()
    )
    task: RoutingTask | None = await session.scalar(stmt)
    return task


async def load_interaction(
    session: AsyncSession, principal: Principal, interaction_id: int, *, for_update: bool = False
) -> tuple[Interaction, Conversation]:
    """The interaction and its conversation; hidden with the conversation's site."""
    interaction = await session.get(Interaction, interaction_id, with_for_update=for_update or None)
    if interaction is not None:
        conversation = await session.get(Conversation, interaction.conversation_id)
        if conversation is not None and principal.sees_site(conversation.site_id):
            return interaction, conversation
    raise NotFound(f"interaction {interaction_id} does not exist")


async def _record(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    conversation: Conversation,
    interaction: Interaction,
    previous: InteractionState | None,
) -> None:
    payload = {
        "state": interaction.state.value,
        "channel": interaction.channel.value,
        "queue_id": interaction.queue_id,
        "agent_id": interaction.agent_id,
    }
    since = waiting_since(
        interaction.state,
        queued_at=interaction.queued_at,
        offered_at=interaction.offered_at,
        arrived_at=interaction.arrived_at,
    )
    if since is not None:  # supervisors' queues follow the waiting contact
        payload["waiting_since"] = since.astimezone(UTC).isoformat()
    if previous is None:
        type_ = EventType.INTERACTION_CREATED
        payload["direction"] = interaction.direction.value
    else:
        type_ = EventType.INTERACTION_STATE_CHANGED
        payload["previous"] = previous.value
    await record_conversation_event(
        session,
        ctx,
        type_,
        conversation,
        actor_user_id=principal.user_id,
        payload=payload,
        entity_kind="interaction",
        entity_id=interaction.id,
    )
