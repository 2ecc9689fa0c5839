"""Asking a supervisor: an agent's question about a conversation, open until a
supervisor of its site answers it.

Rules:
- whoever may write a conversation may ask about it; the request belongs to the
  conversation's site as it was when asked, and only supervisors who see that site see
  it live (``/ws/supervisor``), list it and answer it;
- an agent lists and reads their own requests; supervisors those of the sites they see;
- a request is answered once (``core.lifecycles.HELP_REQUEST_TRANSITIONS``): a second
  answer is a 409;
- ``help.requested`` and ``help.answered`` name the conversation, the agent and who
  answered, never the question or the answer; both show in the conversation's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import HelpRequestState
from opencx.core.errors import InvalidInput, NotFound
from opencx.core.events import EventType
from opencx.core.lifecycles import HELP_REQUEST_TRANSITIONS, check_transition
from opencx.core.notes import MAX_ANSWER, MAX_QUESTION, help_payload
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import HelpRequest
from opencx.features.common import Page, Schema, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation, record_conversation_event
from opencx.features.customers.schemas import InputSchema, RefId

__all__ = [
    "HelpAnswer",
    "HelpRequestCreate",
    "HelpRequestOut",
    "answer_help_request",
    "ask_for_help",
    "get_help_request",
    "list_help_requests",
]


def _said(value: str) -> str:
    if not value.strip():
        raise ValueError("write something")
    return value


Said = Annotated[str, AfterValidator(_said)]


class HelpRequestCreate(InputSchema):
    conversation_id: RefId
    question: Said = Field(min_length=1, max_length=MAX_QUESTION)


class HelpAnswer(InputSchema):
    answer: Said = Field(min_length=1, max_length=MAX_ANSWER)


class HelpRequestOut(Schema):
    id: int
    conversation_id: int
    agent_id: int
    question: str
    state: HelpRequestState
    created_at: datetime
    answer: str | None
    answered_by: int | None
    answered_at: datetime | None


async def ask_for_help(
    ctx: AppContext, principal: Principal, data: HelpRequestCreate
) -> HelpRequestOut:
    require(principal, Permission.CONVERSATIONS_WRITE)
    async with transaction(ctx) as session:
        try:
            conversation = await load_conversation(session, principal, data.conversation_id)
        except NotFound as exc:
            raise InvalidInput(exc.detail, field="conversation_id") from None
        request = HelpRequest(
            conversation_id=conversation.id,
            agent_id=principal.user_id,
            site_id=conversation.site_id,
            question=data.question,
            state=HelpRequestState.OPEN,
            created_at=ctx.clock.now(),
        )
        session.add(request)
        await session.flush()
        await _record(session, ctx, principal, request, EventType.HELP_REQUESTED)
        return HelpRequestOut.model_validate(request)


async def answer_help_request(
    ctx: AppContext, principal: Principal, request_id: int, data: HelpAnswer
) -> HelpRequestOut:
    require(principal, Permission.SUPERVISE)
    async with transaction(ctx) as session:
        request = await _visible(session, principal, request_id, for_update=True)
        check_transition(HELP_REQUEST_TRANSITIONS, request.state, HelpRequestState.ANSWERED)
        request.state = HelpRequestState.ANSWERED
        request.answer = data.answer
        request.answered_by = principal.user_id
        request.answered_at = ctx.clock.now()
        await session.flush()
        await _record(session, ctx, principal, request, EventType.HELP_ANSWERED)
        return HelpRequestOut.model_validate(request)


async def get_help_request(
    ctx: AppContext, principal: Principal, request_id: int
) -> HelpRequestOut:
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        return HelpRequestOut.model_validate(await _visible(session, principal, request_id))


async def list_help_requests(
    ctx: AppContext,
    principal: Principal,
    *,
    state: HelpRequestState | None = None,
    conversation_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[HelpRequestOut]:
    """Supervisors: the requests of the sites they see; others: their own. Oldest first."""
    require(principal, Permission.CONVERSATIONS_READ)
    stmt = _seen_by(principal)
    if state is not None:
        stmt = stmt.where(HelpRequest.state == state)
    if conversation_id is not None:
        stmt = stmt.where(HelpRequest.conversation_id == conversation_id)
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=HelpRequest.id,
            cursor=cursor,
            limit=limit,
            to_out=HelpRequestOut.model_validate,
        )


def _seen_by(principal: Principal) -> Select[HelpRequest]:
    stmt = select(HelpRequest)
    if not principal.can(Permission.SUPERVISE):
        return stmt.where(HelpRequest.agent_id == principal.user_id)
    visible = principal.visible_site_ids
    return stmt if visible is None else stmt.where(HelpRequest.site_id.in_(visible))


async def _visible(
    session: AsyncSession, principal: Principal, request_id: int, *, for_update: bool = False
) -> HelpRequest:
    request = await session.get(HelpRequest, request_id, with_for_update=for_update or None)
    mine = request is not None and request.agent_id == principal.user_id
    supervised = (
        request is not None
        and principal.can(Permission.SUPERVISE)
        and principal.sees_site(request.site_id)
    )
    if request is None or not (mine or supervised):
        raise NotFound(f"help request {request_id} does not exist")
    return request


async def _record(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    request: HelpRequest,
    type_: EventType,
) -> None:
    await record_conversation_event(
        session,
        ctx,
        type_,
        _Conversation(request.conversation_id, request.site_id),
        actor_user_id=principal.user_id,
        payload=help_payload(
            conversation_id=request.conversation_id,
            agent_id=request.agent_id,
            answered_by=request.answered_by,
        ),
        entity_kind="help_request",
        entity_id=request.id,
    )


@dataclass(frozen=True, slots=True)
class _Conversation:
    """The request's conversation as its events name it: on the request's site."""

    id: int
    site_id: int | None
