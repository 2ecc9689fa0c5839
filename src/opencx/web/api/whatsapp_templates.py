"""/api/v1/channel-accounts/{id}/whatsapp-templates, /api/v1/whatsapp-templates and the
templates a conversation's WhatsApp answer may use."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from opencx.features.common import Page
from opencx.features.conversations.answer_templates import (
    AnswerTemplatesOut,
    get_answer_templates,
)
from opencx.features.directory import whatsapp_templates as templates
from opencx.web.deps import ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(tags=["whatsapp templates"])


@router.get(
    "/channel-accounts/{account_id}/whatsapp-templates",
    response_model=Page[templates.TemplateOut],
)
async def list_whatsapp_templates(
    ctx: ContextDep,
    principal: PrincipalDep,
    account_id: EntityId,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[templates.TemplateOut]:
    return await templates.list_templates(ctx, principal, account_id, cursor=cursor, limit=limit)


@router.post(
    "/channel-accounts/{account_id}/whatsapp-templates",
    status_code=201,
    response_model=templates.TemplateOut,
)
async def create_whatsapp_template(
    request: Request,
    ctx: ContextDep,
    principal: PrincipalDep,
    account_id: EntityId,
    body: templates.TemplateCreate,
) -> JSONResponse:
    """An approved template of this WhatsApp account, as approved at Meta (or Twilio)."""
    return await created(
        request,
        ctx,
        principal,
        lambda: templates.create_template(ctx, principal, account_id, body),
    )


@router.get("/whatsapp-templates/{template_id}", response_model=templates.TemplateOut)
async def get_whatsapp_template(
    ctx: ContextDep, principal: PrincipalDep, template_id: EntityId
) -> templates.TemplateOut:
    return await templates.get_template(ctx, principal, template_id)


@router.patch("/whatsapp-templates/{template_id}", response_model=templates.TemplateOut)
async def update_whatsapp_template(
    ctx: ContextDep,
    principal: PrincipalDep,
    template_id: EntityId,
    body: templates.TemplateUpdate,
) -> templates.TemplateOut:
    return await templates.update_template(ctx, principal, template_id, body)


@router.delete("/whatsapp-templates/{template_id}", status_code=204)
async def delete_whatsapp_template(
    ctx: ContextDep, principal: PrincipalDep, template_id: EntityId
) -> None:
    await templates.delete_template(ctx, principal, template_id)


@router.get(
    "/conversations/{conversation_id}/whatsapp-templates", response_model=AnswerTemplatesOut
)
async def answer_templates(
    ctx: ContextDep, principal: PrincipalDep, conversation_id: EntityId
) -> AnswerTemplatesOut:
    """The active templates of the account a WhatsApp answer in this conversation goes
    through, with the name each is sent by (``send_name``)."""
    return await get_answer_templates(ctx, principal, conversation_id)
