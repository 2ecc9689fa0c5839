"""/api/v1/help-requests: an agent asks a supervisor about a conversation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from opencx.core.enums import HelpRequestState
from opencx.features.common import Page
from opencx.features.conversations import help_requests as help
from opencx.web.deps import MAX_ID, ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(prefix="/help-requests", tags=["help requests"])

IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.post("", status_code=201, response_model=help.HelpRequestOut)
async def ask_for_help(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: help.HelpRequestCreate
) -> JSONResponse:
    """Ask the supervisors of the conversation's site; they see it live on
    ``/ws/supervisor``, and the answer comes back on ``/ws/agent``."""
    return await created(request, ctx, principal, lambda: help.ask_for_help(ctx, principal, body))


@router.get("", response_model=Page[help.HelpRequestOut])
async def list_help_requests(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    state: HelpRequestState | None = None,
    conversation_id: IdFilter = None,
) -> Page[help.HelpRequestOut]:
    """Supervisors: the requests of the sites they see; agents: their own."""
    return await help.list_help_requests(
        ctx, principal, state=state, conversation_id=conversation_id, cursor=cursor, limit=limit
    )


@router.get("/{request_id}", response_model=help.HelpRequestOut)
async def get_help_request(
    ctx: ContextDep, principal: PrincipalDep, request_id: EntityId
) -> help.HelpRequestOut:
    return await help.get_help_request(ctx, principal, request_id)


@router.post("/{request_id}/answer", response_model=help.HelpRequestOut)
async def answer_help_request(
    ctx: ContextDep, principal: PrincipalDep, request_id: EntityId, body: help.HelpAnswer
) -> help.HelpRequestOut:
    """Answer an open request (``supervise``, a site you see); a second answer is a 409."""
    return await help.answer_help_request(ctx, principal, request_id, body)
