"""Answering public reviews and X posts through the providers' APIs.

Rules:
- an agent's message on channel ``review`` or ``twitter`` answers the conversation's
  last review, or last X post, before it: posted from the channel account that
  received it (its ``provider`` and ``recipient``), with the account's own credential;
- a review has one developer reply at Google Play and at the App Store: a second reply
  replaces the first there (both stay in the conversation here). An X reply is a new
  post in the thread;
- what a provider would refuse is refused before sending, as a final failure the agent
  reads: an empty reply, a Google Play reply over 350 characters, an X post over 280
  as X counts it (``opencx.providers.x.weighted_length``);
- ``send_public_reply`` makes one attempt and answers the outbound queue with a
  decision (``opencx.features.delivery.senders``): ``Delivered`` with the id we
  keep for the reply (the post's id on X; the review and the reply's time at Google
  Play and the App Store, whose replies replace each other), or ``Failed``: no answer,
  ``401``, ``408``, ``429`` and ``5xx`` are retried (``public_channels.max_attempts``),
  a credential that cannot be read too (an admin may enter it again), any other refusal
  is final, in the provider's words (a refused X token refresh too: the account must be
  connected again). A token refused with ``401`` is renewed once (an X refresh, a new
  Google token) before the reply is tried again. The queue writes the message; this
  module writes nothing but a refreshed X credential.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import select

from opencx.core.enums import Channel, DeliveryStatus, Direction
from opencx.core.errors import OpenCXError
from opencx.db.models import Message
from opencx.features.context import AppContext, transaction
from opencx.features.delivery.senders import (
    ChannelSender,
    Delivered,
    Failed,
    Outcome,
    Waiting,
)
from opencx.features.directory.channel_accounts import find_account
from opencx.features.public_channels._credentials import AccountSecrets
from opencx.features.public_channels._sources import (
    PUBLIC_PROVIDERS,
    Authorized,
    PublicAccount,
    Refused,
    Source,
    source_for,
)
from opencx.features.transports import http_client
from opencx.settings import Settings

__all__ = ["PUBLIC_CHANNELS", "PUBLIC_SENDER", "send_public_reply"]

log = structlog.get_logger(__name__)

#: The channels answered here.
PUBLIC_CHANNELS = frozenset({Channel.REVIEW, Channel.TWITTER})
_WHAT = {Channel.REVIEW: "review", Channel.TWITTER: "X post"}


@dataclass(frozen=True, slots=True)
class _Route:
    account: PublicAccount
    answered: str  # the provider's id of the message answered
    text: str


async def send_public_reply(ctx: AppContext, message_id: int) -> Outcome:
    """One attempt at posting a queued reply to a review or an X post."""
    route = await _route(ctx, message_id)
    if not isinstance(route, _Route):
        return route
    settings = ctx.settings.public_channels
    try:
        source = source_for(
            route.account,
            settings,
            ctx.settings.security.secret_key.get_secret_value(),
            ctx.clock.now(),
            store=AccountSecrets(ctx),
        )
    except OpenCXError as exc:
        return Failed(exc.detail, retryable=True, max_attempts=settings.max_attempts)
    reason = source.check_reply(route.text)
    if reason is not None:
        return Failed(reason)
    return await _post(ctx, source, route)


async def _post(ctx: AppContext, source: Source, route: _Route) -> Outcome:
    settings = ctx.settings.public_channels
    try:
        async with http_client(ctx.http, timeout=settings.timeout_seconds) as http:
            posted = await Authorized(source, http).call(
                lambda token: source.reply(http, token, answered=route.answered, text=route.text)
            )
    except Refused as exc:
        error = exc.error
        log.warning(
            "public_reply_refused",
            account_id=route.account.id,
            provider=route.account.provider,
            status=error.status,
            error=error.message,
        )
        return Failed(
            error.describe(), retryable=error.retryable, max_attempts=settings.max_attempts
        )
    except OpenCXError as exc:  # an unreadable credential or answer
        return Failed(exc.detail, retryable=True, max_attempts=settings.max_attempts)
    details = {
        "provider": route.account.provider,
        "recipient": route.account.address,
        "in_reply_to": route.answered,
    }
    return Delivered(posted.provider_message_id, details)


async def _route(ctx: AppContext, message_id: int) -> _Route | Failed | Waiting:
    async with transaction(ctx) as session:
        message = await session.get(Message, message_id)
        if (
            message is None
            or message.channel not in PUBLIC_CHANNELS
            or message.direction is not Direction.OUTBOUND
            or message.delivery_status is not DeliveryStatus.QUEUED
        ):
            return Waiting("the message is no longer queued")
        what = _WHAT[message.channel]
        answered = await session.scalar(
            select(Message)
            .where(
                Message.conversation_id == message.conversation_id,
                Message.channel == message.channel,
                Message.direction == Direction.INBOUND,
                Message.id < message.id,
                Message.provider_message_id.is_not(None),
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        if answered is None or answered.provider_message_id is None:
            return Failed(f"there is no {what} to answer in this conversation")
        provider = answered.metadata_.get("provider", "")
        ours = answered.metadata_.get("recipient", "")
        if provider not in PUBLIC_PROVIDERS or not ours:
            return Failed(f"the {what} answered did not come through a channel account")
        account = await find_account(session, provider=provider, address=ours)
        if account is None:
            return Failed(f"no active {provider} channel account {ours!r} to answer from")
        snapshot = PublicAccount(
            account.id,
            account.provider,
            account.address,
            account.queue_id,
            dict(account.settings),
            account.secret,
            dict(account.cursor),
        )
        return _Route(snapshot, answered.provider_message_id, message.body_text)


def _timeout(settings: Settings) -> float:
    # Four calls at most: the token (Google, an X refresh), the reply, and both again
    # after a 401.
    return 4 * settings.public_channels.timeout_seconds


def _ready(settings: Settings) -> bool:
    # Each account carries its own credential: nothing app-wide to configure.
    return True


#: Reviews and X posts in the outbound queue's ``SENDERS``.
PUBLIC_SENDER = ChannelSender(
    name="public", ready=_ready, timeout_seconds=_timeout, send=send_public_reply
)
