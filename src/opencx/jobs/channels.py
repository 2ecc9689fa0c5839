"""Channel jobs: sending queued outbound messages (e-mail, SMS, WhatsApp, Messenger,
Instagram), and fetching the files customers sent through providers; each one at once
and swept regularly."""

from __future__ import annotations

from datetime import timedelta

from opencx.features.contacts.media import FETCH_MEDIA_JOB, due_media_ids, fetch_media
from opencx.features.context import AppContext
from opencx.features.delivery.outbox import (
    SEND_JOB,
    queued_message_ids,
    send_queued_message,
)
from opencx.jobs.registry import job

__all__ = ["fetch_inbound_media", "fetch_pending_media", "send_message", "send_queued_messages"]


@job(SEND_JOB)
async def send_message(ctx: AppContext, message_id: int) -> None:
    """Send one message; a failure is recorded on the message and retried by the sweep."""
    await send_queued_message(ctx, message_id)


@job("send_queued_messages", every=timedelta(minutes=1))
async def send_queued_messages(ctx: AppContext) -> None:
    """Send what is queued and due: messages whose job was lost, retries, and attempts
    whose worker stopped before it finished."""
    for message_id in await queued_message_ids(ctx):
        await send_queued_message(ctx, message_id)


@job(FETCH_MEDIA_JOB)
async def fetch_inbound_media(ctx: AppContext, attachment_id: int) -> None:
    """Fetch one file a provider holds; a retry is scheduled on the file for the sweep."""
    await fetch_media(ctx, attachment_id)


@job("fetch_pending_media", every=timedelta(minutes=1))
async def fetch_pending_media(ctx: AppContext) -> None:
    """Fetch the pending files that are due: retries, and files whose job was lost."""
    for attachment_id in await due_media_ids(ctx):
        await fetch_media(ctx, attachment_id)
