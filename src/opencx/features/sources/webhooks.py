"""Providers' webhooks: check the signature, read the payload, store what it carries.

Rules:
- the signature is checked over the bytes as received, before anything is read; a
  wrong or missing one is refused (``PermissionDenied``, 403) and nothing is stored;
- a provider whose secret is not configured is refused as unavailable (503): its
  deliveries are kept by the provider and retried once it is configured;
- every message in a delivery is committed before the handler answers 200, and a
  delivery repeated by the provider stores nothing new (``receive`` dedupes by id);
- the channel account that received a message (by our address: the WhatsApp phone
  number id, the page id, the Twilio number, the mailbox) gives the queue of a new
  conversation; a message for an address no active account has is answered 200 like
  any other (a refusal would only make Meta retry it for days, or Twilio drop it), and
  stored: its new conversation goes to ``intake.unknown_account_queue_id`` when set,
  else to no queue; either way it is logged (``inbound_for_unknown_account``) and
  counted (``opencx_inbound_unknown_account_total`` at ``/metrics``);
- SendGrid Inbound Parse is not signed: its URL carries a shared token
  (``sendgrid.inbound_token``), checked like a signature; the mail it posts goes to the
  mailboxes our SMTP server serves (accounts with provider ``smtp``), and a new contact
  on a mailbox with ``auto_ack_hours`` is acknowledged, as by SMTP;
- a receipt that names no message (Messenger's read watermark) moves forward every
  message sent to that customer up to the watermark (``delivery.apply_watermark``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import structlog

from opencx.core.errors import PermissionDenied, Unavailable
from opencx.features.contacts.intake import Received, receive
from opencx.features.context import AppContext, transaction
from opencx.features.delivery.outbox import Acknowledging, acknowledge
from opencx.features.delivery.statuses import apply_delivery, apply_watermark
from opencx.features.directory.channel_accounts import find_account
from opencx.features.sources.mail_parsing import in_parsers, parsing_limits
from opencx.providers import meta, sendgrid, twilio
from opencx.providers.base import DeliveryUpdate, InboundMessage
from opencx.providers.email import PROVIDER as MAILBOX_PROVIDER

__all__ = [
    "WebhookResult",
    "meta_subscription",
    "meta_webhook",
    "sendgrid_inbound",
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


async def sendgrid_inbound(
    ctx: AppContext,
    raw_body: bytes,
    *,
    content_type: str,
    token: str | None,
    authorization: str | None,
) -> WebhookResult:
    """Store the e-mail of an Inbound Parse post (committed when this returns)."""
    expected = ctx.settings.sendgrid.inbound_token
    if expected is None:
        raise Unavailable(
            "SendGrid Inbound Parse is not configured: set OPENCX_SENDGRID__INBOUND_TOKEN"
        )
    if not sendgrid.token_matches(
        expected.get_secret_value(), token=token, authorization=authorization
    ):
        raise PermissionDenied("the Inbound Parse URL's token does not match")
    parsed = await in_parsers(
        ctx,
        sendgrid.parse_inbound,
        raw_body,
        content_type=content_type,
        limits=parsing_limits(ctx),
    )
    mailbox = await _mailbox_of(ctx, parsed.recipients)
    item = parsed.message
    if mailbox is not None:
        item = replace(item, recipient=mailbox.address)
    received = await receive(ctx, item, raw=parsed.raw, account=MAILBOX_PROVIDER)
    if mailbox is not None and mailbox.acknowledging is not None:
        try:
            await acknowledge(ctx, received, mailbox=mailbox.acknowledging)
        except Exception:  # the message is stored: the acknowledgement is a courtesy
            log.exception("sendgrid_acknowledgement_failed", message_id=received.message_id)
    return WebhookResult(received=(received,))


@dataclass(frozen=True, slots=True)
class _Mailbox:
    """An active mailbox, as Inbound Parse reads it (its queue is intake's to read)."""

    address: str
    acknowledging: Acknowledging | None


async def _mailbox_of(ctx: AppContext, addresses: Sequence[str]) -> _Mailbox | None:
    """The first of the envelope's recipients that is one of our active mailboxes."""
    async with transaction(ctx) as session:
        for address in addresses:
            account = await find_account(session, provider=MAILBOX_PROVIDER, address=address)
            if account is not None:
                return _Mailbox(account.address, Acknowledging.of(account))
    return None


async def _store(
    ctx: AppContext, items: Sequence[InboundMessage | DeliveryUpdate], *, provider: str
) -> WebhookResult:
    received = []
    updated = 0
    for item in items:
        if isinstance(item, InboundMessage):
            # The account at the recipient gives a new conversation its queue; receive
            # reads it in the message's own transaction, only when one is created.
            received.append(await receive(ctx, item, account=provider))
        elif isinstance(item, meta.WatermarkUpdate):
            updated += await apply_watermark(ctx, item)
        elif item.provider_message_id:
            updated += await apply_delivery(ctx, item)
        else:
            log.info("delivery_receipt_without_message_id", provider=provider)
    return WebhookResult(received=tuple(received), updated=updated)
