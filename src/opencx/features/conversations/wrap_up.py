"""Wrap-up coding: the agent codes the contact they handled on the three axes of
contact reasons (declaration, qualification, action: MISSION.md §4) and sums it up.

Rules:
- the agent who handled the interaction (they accepted one of its offers) codes it, or
  anyone with the ``supervise`` permission who sees its conversation's site; another
  agent is refused with a 409, as for tasks that are not theirs (the role may code,
  this contact is not theirs);
- a reason given must be an active reason of its axis (422 naming the field); a field
  left out keeps its value, ``null`` clears it; a body that sets nothing is a 422;
- every coding is audited with what it set, and recorded as ``interaction.coded``
  (reasons' ids, the fields set; never the summary's text); the interaction carries it,
  in the API and in the conversation's timeline. The queue's after-contact work time
  (``wrap_up_seconds``) is the router's and does not change here.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import ReasonAxis, ReservationState
from opencx.core.errors import Conflict, InvalidInput
from opencx.core.events import EventType
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Interaction, RoutingReservation, RoutingTask
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import check_reason, record_conversation_event
from opencx.features.conversations.interactions import InteractionOut, load_interaction
from opencx.features.customers.schemas import InputSchema, RefId
from opencx.features.events.record import record_audit

__all__ = ["MAX_SUMMARY", "WrapUpCoding", "code_interaction"]

MAX_SUMMARY = 4000
_REASONS = {f"{axis.value}_reason_id": axis for axis in ReasonAxis}
_HANDLED = (ReservationState.ACCEPTED, ReservationState.COMPLETED)


class WrapUpCoding(InputSchema):
    """Each field is optional: one left out keeps its value, ``null`` clears it."""

    declaration_reason_id: RefId | None = None
    qualification_reason_id: RefId | None = None
    action_reason_id: RefId | None = None
    summary: str | None = Field(default=None, max_length=MAX_SUMMARY)


async def code_interaction(
    ctx: AppContext, principal: Principal, interaction_id: int, data: WrapUpCoding
) -> InteractionOut:
    require(principal, Permission.CONVERSATIONS_WRITE)
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("set at least one reason or the summary")
    async with transaction(ctx) as session:
        interaction, conversation = await load_interaction(
            session, principal, interaction_id, for_update=True
        )
        if not principal.can(Permission.SUPERVISE) and not await _handled_by(
            session, interaction, principal.user_id
        ):
            raise Conflict(
                f"interaction {interaction_id} was not handled by you: its agent or a "
                "supervisor codes it"
            )
        for name, axis in _REASONS.items():
            if changes.get(name) is not None:
                await check_reason(session, changes[name], axis)
        _set(interaction, changes)
        interaction.coded_at = ctx.clock.now()
        interaction.coded_by_id = principal.user_id
        await session.flush()
        record_audit(
            session,
            ctx,
            actor_user_id=principal.user_id,
            action="interaction.code",
            entity_kind="interaction",
            entity_id=interaction.id,
            changes=changes,
        )
        await record_conversation_event(
            session,
            ctx,
            EventType.INTERACTION_CODED,
            conversation,
            actor_user_id=principal.user_id,
            payload={
                **{name: getattr(interaction, name) for name in _REASONS},
                "fields": sorted(changes),
            },
            entity_kind="interaction",
            entity_id=interaction.id,
        )
        return InteractionOut.model_validate(interaction)


def _set(interaction: Interaction, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(interaction, "wrap_up_summary" if name == "summary" else name, value)


async def _handled_by(session: AsyncSession, interaction: Interaction, user_id: int) -> bool:
    """Whether ``user_id`` answered the interaction: they accepted one of its offers,
    or it was theirs when answered (a contact not routed)."""
    if interaction.agent_id == user_id and interaction.answered_at is not None:
        return True
    accepted = (
        select(RoutingReservation.id)
        .join(RoutingTask, RoutingTask.id == RoutingReservation.task_id)
        .where(
            RoutingTask.interaction_id == interaction.id,
            RoutingReservation.worker_id == user_id,
            RoutingReservation.state.in_(_HANDLED),
        )
    )
    return bool(await session.scalar(select(exists(accepted))))
