"""Process wiring: builds the app context and the ASGI app from settings, once."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI

from opencx.db import migrate
from opencx.db.blobs import FileBlobStore
from opencx.db.session import create_engine, create_session_factory
from opencx.features.context import AppContext, SystemClock
from opencx.features.demo import demo_simulation_service
from opencx.features.routing.engine import routing_service
from opencx.features.sources.mail_parsing import parsing_service
from opencx.features.sources.smtp_server import smtp_service
from opencx.features.transports import LocalHosts, SmtpRelay
from opencx.jobs.backends import (
    apply_job_schema,
    build_job_queue,
    close_job_queue,
    job_service,
    run_worker,
)
from opencx.realtime.broker import BrokerBus
from opencx.realtime.factory import create_bus
from opencx.settings import Settings
from opencx.web.app import create_app

__all__ = ["build_app", "build_context", "run_job_worker", "upgrade_database"]


def build_context(settings: Settings) -> AppContext:
    engine = create_engine(settings.database)
    sessions = create_session_factory(engine)
    clock = SystemClock()
    return AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        publisher=create_bus(settings.bus.url, channel=settings.bus.channel),
        jobs=build_job_queue(settings, sessions, clock),
        blobs=FileBlobStore(settings.storage.path),
        clock=clock,
        mail=SmtpRelay(settings),
    )


def build_app(
    settings: Settings, *, local_hosts: Mapping[str, Callable[..., Any]] | None = None
) -> FastAPI:
    """The server's app; ``local_hosts`` answers requests to those hosts in process
    (``opencx demo``'s simulated CRM) instead of going out."""
    ctx = build_context(settings)
    if local_hosts:
        ctx.http = LocalHosts(ctx.http, local_hosts)
    return create_app(
        ctx,
        background=[
            # first: the pool is there before the SMTP listener takes any mail
            functools.partial(parsing_service, ctx),
            functools.partial(job_service, ctx),
            functools.partial(routing_service, ctx),
            functools.partial(smtp_service, ctx),
            # idle unless ``demo.simulation``: the demo's simulated traffic
            functools.partial(demo_simulation_service, ctx),
        ],
    )


def upgrade_database(settings: Settings, revision: str = "head") -> None:
    """Apply OpenCX's migrations, then the job backend's own schema (procrastinate's)."""
    migrate.upgrade(settings.database, revision)
    apply_job_schema(settings)


async def run_job_worker(settings: Settings) -> None:
    """``opencx worker``: run jobs without the web server until SIGINT or SIGTERM."""
    ctx = build_context(settings)
    # Jobs publish events too: other nodes' live views must hear of them.
    bus = ctx.publisher if isinstance(ctx.publisher, BrokerBus) else None
    if bus is not None:
        await bus.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    parsing = asyncio.create_task(parsing_service(ctx))  # polled mailboxes' mail
    worker = asyncio.create_task(run_worker(ctx))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({worker, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (worker, stopping, parsing):
            task.cancel()
        for task in (stopping, parsing):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await worker  # re-raises what stopped the worker, if it failed
        finally:
            await close_job_queue(ctx)
            await ctx.http.aclose()
            if bus is not None:
                await bus.stop()
            await ctx.engine.dispose()
