"""/api/v1/interactions, and /api/v1/conversations/{id}/interactions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from opencx.features import conversations
from opencx.features.common import Page
from opencx.features.conversations.wrap_up import WrapUpCoding
from opencx.features.conversations.wrap_up import code_interaction as code_contact
from opencx.web.deps import ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(tags=["interactions"])


@router.get(
    "/conversations/{conversation_id}/interactions",
    response_model=Page[conversations.InteractionOut],
)
async def list_interactions(
    ctx: ContextDep,
    principal: PrincipalDep,
    conversation_id: EntityId,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[conversations.InteractionOut]:
    return await conversations.list_interactions(
        ctx, principal, conversation_id, cursor=cursor, limit=limit
    )


@router.post(
    "/conversations/{conversation_id}/interactions",
    status_code=201,
    response_model=conversations.InteractionOut,
)
async def create_interaction(
    request: Request,
    ctx: ContextDep,
    principal: PrincipalDep,
    conversation_id: EntityId,
    body: conversations.InteractionCreate,
) -> JSONResponse:
    return await created(
        request,
        ctx,
        principal,
        lambda: conversations.create_interaction(ctx, principal, conversation_id, body),
    )


@router.get("/interactions/{interaction_id}", response_model=conversations.InteractionOut)
async def get_interaction(
    ctx: ContextDep, principal: PrincipalDep, interaction_id: EntityId
) -> conversations.InteractionOut:
    return await conversations.get_interaction(ctx, principal, interaction_id)


@router.post("/interactions/{interaction_id}/state", response_model=conversations.InteractionOut)
async def change_state(
    ctx: ContextDep,
    principal: PrincipalDep,
    interaction_id: EntityId,
    body: conversations.StateChange,
) -> conversations.InteractionOut:
    return await conversations.change_interaction_state(ctx, principal, interaction_id, body)


@router.post("/interactions/{interaction_id}/wrap-up", response_model=conversations.InteractionOut)
async def code_interaction(
    ctx: ContextDep, principal: PrincipalDep, interaction_id: EntityId, body: WrapUpCoding
) -> conversations.InteractionOut:
    """Code the contact: a contact reason per axis (each optional; an active reason of
    that axis) and a summary. Fields left out keep their value, ``null`` clears one.
    For the agent who handled it, or a supervisor."""
    return await code_contact(ctx, principal, interaction_id, body)
