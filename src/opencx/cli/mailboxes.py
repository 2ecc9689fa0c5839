"""``opencx mailboxes``: the IMAP mailboxes OpenCX polls, for admins to try one out."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from opencx.core.errors import OpenCXError
from opencx.features.sources.imap_poller import PollResult, poll_mailbox, poll_mailboxes
from opencx.jobs.backends import close_job_queue
from opencx.runtime import build_context, upgrade_database
from opencx.settings import Settings

__all__ = ["mailboxes_app"]

mailboxes_app = typer.Typer(help="Mailboxes polled over IMAP.", no_args_is_help=True)
console = Console(stderr=True)

AccountOpt = Annotated[
    int | None, typer.Option(help="Poll only this channel account (its id); default: all.")
]


@mailboxes_app.command("poll")
def poll(account: AccountOpt = None) -> None:
    """Poll the active IMAP mailboxes once, as the job does every minute, and say what
    each one gave; exits with 1 when a mailbox could not be read."""
    from opencx.cli.main import _settings  # the settings every command reads, checked

    settings = _settings()
    upgrade_database(settings)
    try:
        results = asyncio.run(_poll(settings, account))
    except OpenCXError as exc:
        console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from None
    if not results:
        console.print("no active imap channel account")
    for result in results:
        typer.echo(_line(result))
    if any(result.error for result in results):
        raise typer.Exit(1)


async def _poll(settings: Settings, account_id: int | None) -> list[PollResult]:
    ctx = build_context(settings)
    try:
        if account_id is not None:
            return [await poll_mailbox(ctx, account_id)]
        return await poll_mailboxes(ctx)
    finally:
        await close_job_queue(ctx)
        await ctx.engine.dispose()


def _line(result: PollResult) -> str:
    head = f"{result.account_id} {result.address}:"
    counts = f"fetched {result.fetched}, new {result.stored}, already stored {result.duplicates}"
    return f"{head} {counts}" + (f"; error: {result.error}" if result.error else "")
