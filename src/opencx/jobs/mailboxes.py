"""Mailbox jobs: existing mailboxes polled over IMAP, every minute."""

from __future__ import annotations

from datetime import timedelta

from opencx.features.context import AppContext
from opencx.features.sources.imap_poller import poll_mailboxes
from opencx.jobs.registry import job

__all__ = ["poll_imap_mailboxes"]


@job("poll_imap_mailboxes", every=timedelta(minutes=1))
async def poll_imap_mailboxes(ctx: AppContext) -> None:
    """Read what arrived in every active IMAP mailbox; each mailbox's failure is kept in
    its cursor and logged, and never fails the job (it would only be retried at once)."""
    await poll_mailboxes(ctx)
