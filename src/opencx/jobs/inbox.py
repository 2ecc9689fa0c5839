"""Inbox jobs: waking snoozed conversations when they are due, each at its instant and
swept every minute (a job lost, a snooze moved)."""

from __future__ import annotations

from datetime import timedelta

from opencx.features.context import AppContext
from opencx.features.conversations.snoozes import WAKE_JOB, wake_due_conversations
from opencx.jobs.registry import job

__all__ = ["wake_snoozed_conversation", "wake_snoozed_conversations"]


@job(WAKE_JOB)
async def wake_snoozed_conversation(ctx: AppContext, conversation_id: int) -> None:
    """Wake one conversation if its snooze is due (a snooze moved later is left)."""
    await wake_due_conversations(ctx, conversation_id=conversation_id)


@job("wake_snoozed_conversations", every=timedelta(minutes=1))
async def wake_snoozed_conversations(ctx: AppContext) -> None:
    """Wake every conversation whose snooze is due and that no job woke."""
    await wake_due_conversations(ctx)
