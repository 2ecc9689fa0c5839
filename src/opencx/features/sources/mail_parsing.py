"""Received mail parsed off the event loop, in a pool of worker processes.

Rules:
- parsing MIME and converting HTML to text is CPU work in pure Python: on the event
  loop, one large message stalls every request, WebSocket and the router for seconds,
  and in a thread it would still hold the interpreter lock most of the time; so it runs
  in a pool of ``mail_parsing.workers`` processes, which ``parsing_service`` starts
  with ``opencx serve`` and stops with it;
- the work is bounded by ``mail_parsing`` (``ParseLimits``): a worker gives each
  message at most that much, whatever it holds, and a message past a bound is stored
  all the same, raw, flagged ``unparsed``;
- every intake of raw mail goes through it: the SMTP listener and the IMAP poller
  (``parse_received``), SendGrid's Inbound Parse posts (``in_parsers``);
- with no pool (a service test, a one-off command) the message is parsed in place;
- a worker that dies (killed for memory) breaks the pool: a new pool takes its place
  and the message is parsed once more there; should it break that one too, the failure
  is raised (SMTP answers ``451``, an IMAP poll stops there and reads it again later);
- the workers run at a lower CPU priority than the server (``NICENESS``): where CPUs
  are short, answering requests comes before parsing mail.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import structlog

from opencx.features.context import AppContext
from opencx.providers.base import InboundMessage
from opencx.providers.email import ParseLimits, parse_email
from opencx.settings import MailParsingSettings

__all__ = ["MailParsers", "in_parsers", "parse_received", "parsing_limits", "parsing_service"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

_POOL = "opencx.mail_parsers"
#: How much lower than the server's a worker's CPU priority is (Unix ``nice``).
NICENESS = 10


def parsing_limits(ctx: AppContext) -> ParseLimits:
    """The bounds of one message's parsing, as configured."""
    settings: MailParsingSettings = ctx.settings.mail_parsing
    return ParseLimits(
        max_parts=settings.max_parts,
        max_depth=settings.max_depth,
        max_html_chars=settings.max_html_chars,
    )


class MailParsers:
    """The pool of processes mail is parsed in, renewed when a worker dies."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # A fresh interpreter per worker: forking a process that runs threads (the
        # database driver's) can copy a lock that is held and never released.
        methods = multiprocessing.get_all_start_methods()
        method = "forkserver" if "forkserver" in methods else "spawn"
        return ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context(method), initializer=_yield_cpu
        )

    async def run(self, job: Callable[[], T]) -> T:
        """``job()`` (picklable) in a worker."""
        loop = asyncio.get_running_loop()
        pool = self.pool
        try:
            return await loop.run_in_executor(pool, job)
        except BrokenProcessPool:
            log.warning("mail_parser_died")
            self.renew(pool)
            return await loop.run_in_executor(self.pool, job)

    def renew(self, broken: ProcessPoolExecutor) -> None:
        if self.pool is broken:  # several callers may see the same break
            self.pool = self._new_pool()
            broken.shutdown(wait=False, cancel_futures=True)

    async def warm_up(self) -> None:
        """Start the workers now, not on the first message (and from a thread: starting
        a process waits for it)."""
        started = await asyncio.to_thread(
            lambda: [self.pool.submit(_ready) for _ in range(self.workers)]
        )
        await asyncio.gather(*(asyncio.wrap_future(future) for future in started))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _ready() -> bool:
    return True


def _yield_cpu() -> None:
    """A worker's start: parsing is background work, so where CPUs are short the
    server's event loop (requests, WebSockets, the router) runs first."""
    if hasattr(os, "nice"):
        os.nice(NICENESS)


async def parse_received(
    ctx: AppContext, raw: bytes, *, recipient: str | None = None
) -> InboundMessage:
    """``parse_email`` of ``raw`` within the configured bounds, in the pool if running."""
    return await in_parsers(ctx, parse_email, raw, recipient=recipient, limits=parsing_limits(ctx))


async def in_parsers(ctx: AppContext, parse: Callable[..., T], *args: Any, **options: Any) -> T:
    """``parse(*args, **options)`` in the pool if it runs, else in place; ``parse`` is a
    module's function of picklable arguments and result."""
    job = functools.partial(parse, *args, **options)
    parsers = ctx.local.get(_POOL)
    if isinstance(parsers, MailParsers):
        return await parsers.run(job)
    return job()


async def parsing_service(ctx: AppContext) -> None:
    """``opencx serve``'s background service: the parsing pool, from start to stop."""
    parsers = MailParsers(ctx.settings.mail_parsing.workers)
    ctx.local[_POOL] = parsers
    try:
        try:
            await parsers.warm_up()
        except Exception:  # no process can be started here: parse in place, slowly
            log.exception("mail_parsers_not_started")
            return
        await asyncio.Event().wait()
    finally:
        ctx.local.pop(_POOL, None)
        parsers.close()
