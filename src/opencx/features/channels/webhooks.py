"""Providers' webhooks: check the signature, read the payload, store what it carries.

Rules:
- the signature is checked over the bytes as received, before anything is read; a
  wrong or missing one is refused (``PermissionDenied``, 403) and nothing is stored;
- a provider whose secret is not configured is refused as unavailable (503): its
  deliveries are kept by the provider and retried once it is configured;
- every message in a delivery is committed before the handler answers 200, and a
  delivery repeated by the provider stores nothing new (``receive`` dedupes by id);
- the channel account that received a message (by our address: the WhatsApp phone
  number id, the page id, the Twilio number) gives the queue of a new conversation; a
  message for an address no account has is still stored, in no queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from opencx.channels import meta, twilio
from opencx.channels.base import DeliveryUpdate, InboundMessage
from opencx.core.errors import PermissionDenied, Unavailable
from opencx.features.channels.delivery import apply_delivery
from opencx.features.channels.inbound import Received, receive
from opencx.features.context import AppContext, transaction
from opencx.features.directory.channel_accounts import find_account

__all__ = [
    "WebhookResult",
    "meta_subscription",
    "meta_webhook",
    "twilio_message",
    "twilio_status",
]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class WebhookResult:
    received: tuple[Received, ...] = ()
    updated: int = 0


def meta_subscription(ctx: AppContext, params: dict[str, str]) -> str:
    """The challenge to echo for Meta's subscription check."""
    token = ctx.settings.meta.verify_token
    if token is None:
        raise Unavailable("Meta webhooks are not configured: set OPENCX_META__VERIFY_TOKEN")
    challenge = meta.answer_verification(params, token.get_secret_value())
    if challenge is None:
        raise PermissionDenied("the verify token does not match")
    return challenge


async def meta_webhook(ctx: AppContext, raw_body: bytes, signature: str | None) -> WebhookResult:
    secret = ctx.settings.meta.app_secret
    if secret is None:
        raise Unavailable("Meta webhooks are not configured: set OPENCX_META__APP_SECRET")
    if not meta.verify_signature(raw_body, signature, secret.get_secret_value()):
        raise PermissionDenied("the X-Hub-Signature-256 signature does not match the body")
    return await _store(ctx, meta.parse_webhook(raw_body), provider=meta.PROVIDER)


async def twilio_message(
    ctx: AppContext, url: str, params: Sequence[tuple[str, str]], signature: str | None
) -> WebhookResult:
    _check_twilio(ctx, url, params, signature)
    return await _store(ctx, [twilio.parse_message(list(params))], provider=twilio.PROVIDER)


async def twilio_status(
    ctx: AppContext, url: str, params: Sequence[tuple[str, str]], signature: str | None
) -> WebhookResult:
    _check_twilio(ctx, url, params, signature)
    return await _store(ctx, [twilio.parse_status(list(params))], provider=twilio.PROVIDER)


def _check_twilio(
    ctx: AppContext, url: str, params: Sequence[tuple[str, str]], signature: str | None
) -> None:
    token = ctx.settings.twilio.auth_token
    if token is None:
        raise Unavailable("Twilio webhooks are not configured: set OPENCX_TWILIO__AUTH_TOKEN")
    if not twilio.verify_signature(url, list(params), signature, token.get_secret_value()):
        raise PermissionDenied("the X-Twilio-Signature signature does not match the request")


async def _store(
    ctx: AppContext, items: Sequence[InboundMessage | DeliveryUpdate], *, provider: str
) -> WebhookResult:
    received = []
    updated = 0
    for item in items:
        if isinstance(item, InboundMessage):
            queue_id = await _queue_of(ctx, provider, item.recipient)
            received.append(await receive(ctx, item, queue_id=queue_id))
        elif item.provider_message_id:
            updated += await apply_delivery(ctx, item)
        else:
            # A receipt that names no message (Messenger's watermark): not applied yet.
            log.info("delivery_receipt_without_message_id", provider=provider)
    return WebhookResult(received=tuple(received), updated=updated)


async def _queue_of(ctx: AppContext, provider: str, address: str | None) -> int | None:
    if not address:
        return None
    async with transaction(ctx) as session:  # find_account normalises "whatsapp:+33…"
        account = await find_account(session, provider=provider, address=address)
    return account.queue_id if account is not None else None
