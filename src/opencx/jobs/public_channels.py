"""Public channel jobs: Google Play and App Store reviews and X mentions, polled every
five minutes."""

from __future__ import annotations

from datetime import timedelta

from opencx.features.context import AppContext
from opencx.features.public_channels import poll_public_channels as poll_accounts
from opencx.jobs.registry import job

__all__ = ["poll_public_channels"]


@job("poll_public_channels", every=timedelta(minutes=5))
async def poll_public_channels(ctx: AppContext) -> None:
    """Read the new reviews and mentions of every active account; each account's failure
    is kept in its cursor and logged, and never fails the job (it would only be retried
    at once, against a provider that just refused)."""
    await poll_accounts(ctx)
