"""Answers on SMS, WhatsApp, Messenger and Instagram, sent through Twilio or Meta.

Rules:
- an answer goes to the customer's last message on its channel in the conversation
  (that message's ``sender``), from the channel account that received it (its
  ``recipient`` at its ``provider``): Twilio carries SMS and WhatsApp numbers, Meta
  WhatsApp Cloud API numbers, Facebook pages and Instagram accounts;
- a WhatsApp message with a template (``metadata["template"]``, set by
  ``post_message``) is sent as that template: by name and language through Meta, by
  Content SID (``HX…``) through Twilio, its parameters filling the placeholders; through
  Meta its one file, if any, is its media header (through Twilio a template's media is
  part of its content, so a file with it fails the message);
- the message's files go as links the provider downloads them from
  (``media_links``): Twilio's ``MediaUrl`` (up to ten on an MMS, one on WhatsApp, the
  text as their body), a WhatsApp file with the text as its caption, a Messenger or
  Instagram attachment (one file, no text: ``post_message`` refused anything else);
- on Messenger and Instagram an agent's answer sent more than 24 hours after the
  customer's last message goes with the ``HUMAN_AGENT`` tag when the app holds that
  permission (``meta.human_agent_tag``; ``post_message`` allowed it for 7 days);
- the provider's id for the message (Twilio's SID, the wamid, the mid) is stored, with
  the addresses used, so status webhooks and read receipts apply to it;
- a refusal no retry can change (no customer message to answer, no active account, an
  invalid or unsubscribed number, a closed customer-care window, bad credentials) fails
  the message at once, with the provider's message; no answer, a rate limit or a
  provider's 5xx is retried (``max_attempts`` of the provider's settings);
- without the provider's credentials nothing is attempted: the message waits, queued,
  and a warning is logged.

The HTTP calls go through the context's transport (``ctx.http``); the requests and the
reading of the answers are the pure ``opencx.providers.twilio`` and ``opencx.providers.meta``
translators.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx
import structlog
from sqlalchemy import select

from opencx.core.enums import AuthorKind, Channel, DeliveryStatus, Direction
from opencx.db.models import Attachment, Message
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.media_links import media_link
from opencx.features.conversations.reply_windows import HUMAN_AGENT_CHANNELS
from opencx.features.delivery.senders import (
    ChannelSender,
    Delivered,
    Failed,
    Outcome,
    Waiting,
)
from opencx.features.directory.channel_accounts import find_account
from opencx.features.ports import HttpTransport
from opencx.features.transports import http_client
from opencx.providers import meta, twilio
from opencx.settings import MetaSettings, Settings, TwilioSettings

__all__ = ["MESSAGING", "MESSAGING_SENDER", "send_messaging"]

log = structlog.get_logger(__name__)

#: The channels this module sends.
MESSAGING = frozenset({Channel.SMS, Channel.WHATSAPP, Channel.MESSENGER, Channel.INSTAGRAM})
_PROVIDERS = frozenset({twilio.PROVIDER, meta.PROVIDER})


@dataclass(frozen=True, slots=True)
class _Template:
    name: str
    language: str
    parameters: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _File:
    """A file of the answer, where the provider downloads it."""

    link: str
    content_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class _Route:
    """Who the answer goes to, from where, through whom, and what it says."""

    provider: str
    channel: Channel
    customer: str  # the customer's address at the provider
    ours: str  # the account's address: a number, a phone number id, a page id
    text: str
    template: _Template | None
    files: tuple[_File, ...] = ()
    tag: str | None = None  # a Messenger or Instagram message tag (HUMAN_AGENT)


async def send_messaging(ctx: AppContext, message_id: int) -> Outcome:
    """One attempt at sending a queued SMS, WhatsApp, Messenger or Instagram message."""
    route = await _route(ctx, message_id)
    if not isinstance(route, _Route):
        return route
    if route.provider == twilio.PROVIDER:
        outcome = await _send_twilio(ctx.settings.twilio, ctx.http, route)
    else:
        outcome = await _send_meta(ctx.settings.meta, ctx.http, route)
    if isinstance(outcome, Waiting):
        log.warning("message_not_sent", message_id=message_id, reason=outcome.reason)
    return outcome


def _ready(settings: Settings) -> bool:
    return _twilio_ready(settings.twilio) or settings.meta.access_token is not None


def _timeout(settings: Settings) -> float:
    return max(settings.twilio.timeout_seconds, settings.meta.timeout_seconds)


#: SMS, WhatsApp, Messenger and Instagram in the outbound queue's ``SENDERS``.
MESSAGING_SENDER = ChannelSender(
    name="messaging", ready=_ready, timeout_seconds=_timeout, send=send_messaging
)


# --- where the answer goes ---------------------------------------------------------------


async def _route(ctx: AppContext, message_id: int) -> _Route | Failed | Waiting:
    async with transaction(ctx) as session:
        message = await session.get(Message, message_id)
        if (
            message is None
            or message.channel not in MESSAGING
            or message.delivery_status is not DeliveryStatus.QUEUED
        ):
            return Waiting("the message is no longer queued")
        channel = message.channel.value
        last = await session.scalar(
            select(Message)
            .where(
                Message.conversation_id == message.conversation_id,
                Message.channel == message.channel,
                Message.direction == Direction.INBOUND,
                Message.id < message.id,
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        if last is None:
            return Failed(f"no {channel} message from the customer to answer in this conversation")
        provider = last.metadata_.get("provider", "")
        customer = last.metadata_.get("sender", "")
        ours = last.metadata_.get("recipient", "")
        if provider not in _PROVIDERS or not customer or not ours:
            return Failed(
                f"the customer's last {channel} message did not come through Twilio or Meta: "
                "there is no address to answer it"
            )
        account = await find_account(session, provider=provider, address=ours)
        if account is None:
            return Failed(f"no active {provider} channel account {ours!r} to send from")
        template = _template_of(message.metadata_)
        rows = list(
            await session.scalars(
                select(Attachment)
                .where(Attachment.message_id == message.id)
                .order_by(Attachment.id)
            )
        )
        if template is None and not message.body_text.strip() and not rows:
            return Failed("the message has no text to send")
        try:
            files = tuple(
                _File(
                    media_link(ctx.settings, row.id, row.filename), row.content_type, row.filename
                )
                for row in rows
            )
        except ValueError:
            return Failed(
                f"{provider} downloads the files from this server, which has no public "
                "address: set OPENCX_SERVER__PUBLIC_URL"
            )
        return _Route(
            provider,
            message.channel,
            customer,
            account.address,
            message.body_text,
            template,
            files,
            _tag(ctx, message, last),
        )


def _tag(ctx: AppContext, message: Message, last: Message) -> str | None:
    """``HUMAN_AGENT`` for an agent's Messenger or Instagram answer past the 24 hours."""
    if (
        message.channel in HUMAN_AGENT_CHANNELS
        and message.author_kind is AuthorKind.AGENT
        and ctx.settings.meta.human_agent_tag
        and not meta.care_window_open(last.created_at, ctx.clock.now())
    ):
        return meta.HUMAN_AGENT_TAG
    return None


def _template_of(metadata: dict[str, str]) -> _Template | None:
    name = metadata.get("template")
    if not name:
        return None
    try:
        raw = json.loads(metadata.get("template_params") or "[]")
    except ValueError:
        raw = []
    parameters = tuple(str(value) for value in raw) if isinstance(raw, list) else ()
    return _Template(name, metadata.get("template_language", ""), parameters)


# --- Twilio ------------------------------------------------------------------------------


def _twilio_ready(settings: TwilioSettings) -> bool:
    return settings.account_sid is not None and settings.auth_token is not None


async def _send_twilio(settings: TwilioSettings, http: HttpTransport, route: _Route) -> Outcome:
    if settings.account_sid is None or settings.auth_token is None:
        return Waiting(
            "Twilio sending is not configured: set OPENCX_TWILIO__ACCOUNT_SID and "
            "OPENCX_TWILIO__AUTH_TOKEN"
        )
    template = route.template
    if template is not None:
        refusal = twilio.template_refusal(template.name, with_file=bool(route.files))
        if refusal is not None:
            return Failed(refusal[1])
    request = twilio.build_message_request(
        api_base=settings.api_base,
        account_sid=settings.account_sid,
        auth_token=settings.auth_token.get_secret_value(),
        channel=route.channel,
        to=route.customer,
        from_=route.ours,
        body="" if template else route.text,
        media_urls=[file.link for file in route.files],
        status_callback=settings.status_callback_url,
        content_sid=template.name if template else None,
        content_variables=(
            {str(n): value for n, value in enumerate(template.parameters, start=1)}
            if template
            else None
        ),
    )
    result = await _post_twilio(http, request, settings.timeout_seconds)
    if isinstance(result, twilio.SendError):
        return Failed(
            result.describe(), retryable=result.retryable, max_attempts=settings.max_attempts
        )
    if result.delivery_status is DeliveryStatus.FAILED:
        reason = " ".join(p for p in (result.error_code, result.error_message) if p)
        return Failed(f"Twilio error {reason or result.status}")
    return Delivered(result.sid or None, _details(route))


async def _post_twilio(
    http: HttpTransport, request: twilio.MessageRequest, seconds: float
) -> twilio.Accepted | twilio.SendError:
    form: dict[str, list[str]] = {}
    for name, value in request.form:
        form.setdefault(name, []).append(value)
    try:
        async with http_client(http, timeout=seconds) as client:
            response = await client.post(
                request.url, data=form, auth=(request.username, request.password)
            )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return twilio.network_error(_no_answer("Twilio", exc))
    return twilio.read_send_response(response.status_code, response.content)


# --- Meta --------------------------------------------------------------------------------


async def _send_meta(settings: MetaSettings, http: HttpTransport, route: _Route) -> Outcome:
    if settings.access_token is None:
        return Waiting("Meta sending is not configured: set OPENCX_META__ACCESS_TOKEN")
    request = _graph_request(settings, settings.access_token.get_secret_value(), route)
    result = await _post_meta(http, request, settings.timeout_seconds)
    if isinstance(result, meta.SendError):
        return Failed(
            result.describe(), retryable=result.retryable, max_attempts=settings.max_attempts
        )
    return Delivered(result.message_id or None, _details(route))


def _graph_request(settings: MetaSettings, token: str, route: _Route) -> meta.GraphRequest:
    graph = {"graph_base": settings.graph_base, "graph_version": settings.graph_version}
    file = route.files[0] if route.files else None
    if route.channel is not Channel.WHATSAPP:
        page = {**graph, "token": token, "account_id": route.ours, "recipient": route.customer}
        if file is not None:
            return meta.messaging_file(
                **page, link=file.link, content_type=file.content_type, tag=route.tag
            )
        return meta.messaging_text(**page, text=route.text, tag=route.tag)
    number = {**graph, "token": token, "phone_number_id": route.ours, "to": route.customer}
    template = route.template
    if template is not None:
        return meta.whatsapp_template(
            **number,
            name=template.name,
            language=template.language,
            parameters=template.parameters,
            header=(
                meta.HeaderFile(file.link, file.content_type, file.filename)
                if file is not None
                else None
            ),
        )
    if file is not None:
        return meta.whatsapp_file(
            **number,
            link=file.link,
            content_type=file.content_type,
            filename=file.filename,
            caption=route.text,
        )
    return meta.whatsapp_text(**number, text=route.text)


async def _post_meta(
    http: HttpTransport, request: meta.GraphRequest, seconds: float
) -> meta.Accepted | meta.SendError:
    try:
        async with http_client(http, timeout=seconds) as client:
            response = await client.post(
                request.url, json=dict(request.body), headers=request.headers
            )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return meta.network_error(_no_answer("Meta", exc))
    return meta.read_send_response(response.status_code, response.content)


# --- both --------------------------------------------------------------------------------


def _details(route: _Route) -> dict[str, str]:
    """What the message's metadata keeps of how it went out. Messenger and Instagram
    receipts name the user and the page (``psid``, ``page_id``)."""
    details = {"provider": route.provider, "from": route.ours, "to": route.customer}
    if route.channel in (Channel.MESSENGER, Channel.INSTAGRAM):
        details.update(psid=route.customer, page_id=route.ours)
    return details


def _no_answer(provider: str, exc: Exception) -> str:
    detail = str(exc) or type(exc).__name__
    return f"no answer from {provider} ({type(exc).__name__}: {detail})"
