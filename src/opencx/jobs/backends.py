"""Choosing the job backend from settings: in-process (any database, SQLite by
default) or procrastinate (PostgreSQL). procrastinate is imported only when chosen,
so that SQLite installs need neither it nor psycopg."""

from __future__ import annotations

import asyncio
import random

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opencx.features.context import AppContext
from opencx.features.ports import Clock, JobQueue
from opencx.jobs.inprocess import DatabaseJobQueue
from opencx.jobs.registry import JobRegistry, default_registry
from opencx.jobs.runner import InProcessRunner
from opencx.settings import Settings

__all__ = ["apply_job_schema", "build_job_queue", "close_job_queue", "job_service", "run_worker"]

log = structlog.get_logger(__name__)

#: Wait before restarting a worker that stopped on an error (the database was down…).
RESTART_DELAY_SECONDS = 5.0

_MISSING = (
    "PostgreSQL jobs need procrastinate and psycopg: pip install 'opencx[postgres]' "
    "(or set OPENCX_JOBS__BACKEND=inprocess)"
)


def _check_procrastinate() -> None:
    try:
        import procrastinate  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(_MISSING) from exc


def build_job_queue(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    registry: JobRegistry | None = None,
) -> JobQueue:
    """The queue ``settings.jobs_backend`` names. Connects to nothing until used."""
    if settings.jobs_backend == "procrastinate":
        _check_procrastinate()
        from opencx.jobs.procrastinate_backend import (
            ProcrastinateJobQueue,
            build_procrastinate_app,
        )

        return ProcrastinateJobQueue(
            build_procrastinate_app(settings, registry or default_registry())
        )
    return DatabaseJobQueue(sessions, clock)


async def run_worker(ctx: AppContext) -> None:
    """Run ``ctx.jobs``'s jobs until cancelled: the in-process runner for the ``jobs``
    table, a procrastinate worker for procrastinate."""
    if isinstance(ctx.jobs, DatabaseJobQueue):
        runner = InProcessRunner(
            ctx,
            registry=default_registry(),
            wakeup=ctx.jobs.wakeup,
            jitter=random.random,
        )
        await runner.run_forever()
        return
    if ctx.settings.jobs_backend != "procrastinate":
        raise TypeError(f"no worker runs jobs deferred to {type(ctx.jobs).__name__}")
    _check_procrastinate()
    from opencx.jobs.procrastinate_backend import ProcrastinateJobQueue, run_procrastinate_worker

    if not isinstance(ctx.jobs, ProcrastinateJobQueue):
        raise TypeError(f"no worker runs jobs deferred to {type(ctx.jobs).__name__}")
    await run_procrastinate_worker(ctx, ctx.jobs)


async def job_service(ctx: AppContext) -> None:
    """The web server's background service: runs the worker when
    ``settings.jobs.run_in_server`` (restarting it after an error), and releases the
    queue's connections when the server stops."""
    try:
        if not ctx.settings.jobs.run_in_server:
            await asyncio.Event().wait()
        while True:
            try:
                await run_worker(ctx)
            except Exception:
                log.exception("job worker stopped on an error; restarting it")
            await asyncio.sleep(RESTART_DELAY_SECONDS)
    finally:
        await close_job_queue(ctx)


async def close_job_queue(ctx: AppContext) -> None:
    """Release the queue's own connections, if it has any (procrastinate's pool)."""
    aclose = getattr(ctx.jobs, "aclose", None)
    if aclose is not None:
        await aclose()


def apply_job_schema(settings: Settings) -> list[str]:
    """Create or upgrade the backend's own tables (procrastinate's); the in-process
    backend's ``jobs`` table comes with OpenCX's migrations."""
    if settings.jobs_backend != "procrastinate":
        return []
    _check_procrastinate()
    from opencx.jobs.procrastinate_backend import apply_procrastinate_schema

    return apply_procrastinate_schema(settings.database)
