"""Providers' webhooks under ``/webhooks``: authenticated by the provider's signature,
not by our tokens, so they are not in the API's OpenAPI document (see docs/channels.md).

Answers: 200 once everything delivered is committed; 403 for a wrong signature (or
SendGrid's token); 503 when the provider is not configured; 422 for a payload the
provider would not send.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from opencx.features.context import AppContext
from opencx.features.sources import webhooks
from opencx.web.deps import ContextDep

__all__ = ["router"]

router = APIRouter(prefix="/webhooks", include_in_schema=False)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.get("/meta")
async def meta_subscription(request: Request, ctx: ContextDep) -> PlainTextResponse:
    return PlainTextResponse(webhooks.meta_subscription(ctx, dict(request.query_params)))


@router.post("/meta")
async def meta_delivery(request: Request, ctx: ContextDep) -> PlainTextResponse:
    body = await request.body()
    await webhooks.meta_webhook(ctx, body, request.headers.get("x-hub-signature-256"))
    return PlainTextResponse("EVENT_RECEIVED")


@router.post("/twilio/sms")
@router.post("/twilio/whatsapp")
async def twilio_message(request: Request, ctx: ContextDep) -> Response:
    params = await _form_pairs(request)
    signature = request.headers.get("x-twilio-signature")
    await webhooks.twilio_message(ctx, _signed_url(request, ctx), params, signature)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/twilio/sms/status")
@router.post("/twilio/whatsapp/status")
async def twilio_status(request: Request, ctx: ContextDep) -> Response:
    params = await _form_pairs(request)
    signature = request.headers.get("x-twilio-signature")
    await webhooks.twilio_status(ctx, _signed_url(request, ctx), params, signature)
    return Response(status_code=204)


@router.post("/sendgrid/inbound")
async def sendgrid_inbound(request: Request, ctx: ContextDep) -> PlainTextResponse:
    """SendGrid Inbound Parse; the URL carries ``?token=`` or basic auth (see docs)."""
    await webhooks.sendgrid_inbound(
        ctx,
        await request.body(),
        content_type=request.headers.get("content-type", ""),
        token=request.query_params.get("token"),
        authorization=request.headers.get("authorization"),
    )
    return PlainTextResponse("OK")


async def _form_pairs(request: Request) -> list[tuple[str, str]]:
    """Every parameter as sent, repeated names included (Twilio signs them all)."""
    body = (await request.body()).decode("utf-8", "replace")
    return parse_qsl(body, keep_blank_values=True)


def _signed_url(request: Request, ctx: AppContext) -> str:
    """The URL as Twilio requested it: behind a proxy, ``server.public_url`` says it."""
    public = ctx.settings.server.public_url
    if not public:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{public.rstrip('/')}{request.url.path}{query}"
