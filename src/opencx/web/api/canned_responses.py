"""/api/v1/canned-responses: ready answers with variables, rendered for a conversation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from opencx.core.knowledge import CannedScope, ContentLocale
from opencx.features import knowledge
from opencx.features.common import Page
from opencx.web.deps import TEXT, ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(prefix="/canned-responses", tags=["canned responses"])

Search = Annotated[
    str | None,
    Query(pattern=TEXT, max_length=200, description="words in the title, body or shortcut"),
]


@router.get("", response_model=Page[knowledge.CannedOut])
async def list_canned_responses(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    q: Search = None,
    locale: ContentLocale | None = None,
    scope: CannedScope | None = None,
) -> Page[knowledge.CannedOut]:
    """The company's responses, the caller's team's and their own (admins: all)."""
    return await knowledge.list_canned_responses(
        ctx, principal, cursor=cursor, limit=limit, q=q, locale=locale, scope=scope
    )


@router.post("", status_code=201, response_model=knowledge.CannedOut)
async def create_canned_response(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: knowledge.CannedCreate
) -> JSONResponse:
    """Agents create personal responses, supervisors their team's, admins any."""
    return await created(
        request, ctx, principal, lambda: knowledge.create_canned_response(ctx, principal, body)
    )


@router.get("/{response_id}", response_model=knowledge.CannedOut)
async def get_canned_response(
    ctx: ContextDep, principal: PrincipalDep, response_id: EntityId
) -> knowledge.CannedOut:
    return await knowledge.get_canned_response(ctx, principal, response_id)


@router.patch("/{response_id}", response_model=knowledge.CannedOut)
async def update_canned_response(
    ctx: ContextDep, principal: PrincipalDep, response_id: EntityId, body: knowledge.CannedUpdate
) -> knowledge.CannedOut:
    return await knowledge.update_canned_response(ctx, principal, response_id, body)


@router.delete("/{response_id}", status_code=204)
async def delete_canned_response(
    ctx: ContextDep, principal: PrincipalDep, response_id: EntityId
) -> None:
    await knowledge.delete_canned_response(ctx, principal, response_id)


@router.post("/{response_id}/render", response_model=knowledge.RenderOut)
async def render_canned_response(
    ctx: ContextDep, principal: PrincipalDep, response_id: EntityId, body: knowledge.RenderIn
) -> knowledge.RenderOut:
    """The text filled in for a conversation the caller may read: its customer, the
    caller as the agent, its id as the case number."""
    return await knowledge.render_canned_response(ctx, principal, response_id, body)
