"""Jobs on PostgreSQL through procrastinate: ``opencx worker`` on any node shares the work.

The same ``JobRegistry`` is mapped to procrastinate tasks (one implementation per job),
failures are retried by ``OpenCXRetryStrategy`` (the policy of ``opencx.core.retry``),
and periodic jobs become procrastinate periodic tasks. Workers fetch jobs with
``FOR UPDATE SKIP LOCKED``, so each job runs on one worker at a time.

Crash survival: a job left ``doing`` by a worker that died (no heartbeat for
``STALLED_AFTER_SECONDS``) is put back to ``todo`` by the other workers, once a minute.
Delivery is therefore at least once, as with the in-process runner.

procrastinate's tables live beside ours: ``apply_procrastinate_schema`` creates them
(``opencx db upgrade``) and applies procrastinate's own migrations after an upgrade of
the package, remembering the last one applied in a comment on ``procrastinate_jobs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import structlog
from procrastinate import App, BaseRetryStrategy, JobContext, PsycopgConnector, RetryDecision
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from procrastinate.jobs import Job as ProcrastinateJob
from procrastinate.schema import SchemaManager
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from opencx.features.context import AppContext
from opencx.jobs.registry import JobDefinition, JobRegistry
from opencx.jobs.retry import JobRetryPolicy
from opencx.jobs.runner import DEFAULT_LEASE_SECONDS, periodic_lock
from opencx.settings import DatabaseSettings, Settings

__all__ = [
    "CONTEXT_KEY",
    "OpenCXRetryStrategy",
    "ProcrastinateJobQueue",
    "SchemaNotManaged",
    "apply_procrastinate_schema",
    "build_procrastinate_app",
    "conninfo",
    "cron_for",
    "retry_stalled_jobs",
    "run_procrastinate_worker",
]

log = structlog.get_logger(__name__)

#: Key of the AppContext in the worker's ``additional_context``.
CONTEXT_KEY = "opencx"
#: A worker silent for this long is presumed dead and its running jobs are retried.
STALLED_AFTER_SECONDS = 60.0
#: Succeeded jobs are deleted after a week.
KEEP_FINISHED_HOURS = 7 * 24
#: Jobs still running this long after a stop request are aborted (and retried).
SHUTDOWN_GRACE_SECONDS = 30.0
_MAINTENANCE_EVERY_SECONDS = 60.0
_SCHEMA_MARKER = "opencx:procrastinate-schema="
_SCHEMA_LOCK = 7_243_095_121  # pg_advisory_xact_lock key: one schema upgrade at a time


def conninfo(database: DatabaseSettings) -> str:
    """The libpq connection string for the configured PostgreSQL URL."""
    url = make_url(database.async_url)
    query = {
        key: value if isinstance(value, str) else value[-1] for key, value in url.query.items()
    }
    return make_conninfo(
        "",
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=url.database,
        **query,
    )


def cron_for(every: timedelta) -> str:
    """A cron line for a period that divides a minute, an hour or a day evenly."""
    seconds = int(every.total_seconds())
    if seconds != every.total_seconds() or seconds <= 0:
        raise ValueError(f"a periodic job needs a whole number of seconds, not {every}")
    if seconds < 60 and 60 % seconds == 0:
        return f"* * * * * */{seconds}"
    minutes, rest = divmod(seconds, 60)
    if not rest and minutes < 60 and 60 % minutes == 0:
        return f"*/{minutes} * * * *"
    hours, rest = divmod(seconds, 3600)
    if not rest and hours < 24 and 24 % hours == 0:
        return f"0 */{hours} * * *"
    if seconds == 86_400:
        return "0 0 * * *"
    raise ValueError(f"cannot run a job every {every} on procrastinate: use a divisor of a day")


class OpenCXRetryStrategy(BaseRetryStrategy):
    """procrastinate's hook for ``JobRetryPolicy``: the same decisions on both backends."""

    def __init__(self, policy: JobRetryPolicy, *, jitter: Callable[[], float] = random.random):
        self.policy = policy
        self.jitter = jitter

    def get_retry_decision(
        self, *, exception: BaseException, job: ProcrastinateJob
    ) -> RetryDecision | None:
        # procrastinate counts previous attempts; the policy counts the failed one too.
        decision = self.policy.decide(job.attempts + 1, exception, jitter=self.jitter())
        log.warning(
            "job failed",
            job_id=job.id,
            task=job.task_name,
            error=f"{type(exception).__name__}: {exception}",
            retry=decision.retry,
            reason=decision.reason,
        )
        if not decision.retry:
            return None
        return RetryDecision(retry_at=datetime.now(UTC) + timedelta(seconds=decision.delay_seconds))


def build_procrastinate_app(
    settings: Settings, registry: JobRegistry, *, policy: JobRetryPolicy | None = None
) -> App:
    """A procrastinate App on the configured database with every job of ``registry``."""
    connector = PsycopgConnector(
        conninfo=conninfo(settings.database), min_size=1, max_size=settings.database.pool_size
    )
    app = App(connector=connector)
    strategy = OpenCXRetryStrategy(policy or JobRetryPolicy.from_settings(settings.jobs))
    for definition in registry:
        task = app.task(name=definition.name, pass_context=True, retry=strategy)(
            _task_body(definition)
        )
        if definition.every is not None:
            app.periodic(
                cron=cron_for(definition.every), queueing_lock=periodic_lock(definition.name)
            )(task)
    return app


def _task_body(definition: JobDefinition) -> Callable[..., Any]:
    async def run(context: JobContext, **args: Any) -> None:
        ctx: AppContext = context.additional_context[CONTEXT_KEY]
        if definition.every is not None:
            args.pop("timestamp", None)  # procrastinate's tick time for periodic jobs
        async with asyncio.timeout(DEFAULT_LEASE_SECONDS):
            await definition.run(ctx, args)

    run.__name__ = run.__qualname__ = definition.name
    return run


class ProcrastinateJobQueue:
    """The ``JobQueue`` port on procrastinate. Opens its connection pool on first use;
    whoever runs the process closes it with ``aclose``."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._open = False
        self._lock = asyncio.Lock()

    async def defer(
        self,
        task: str,
        args: dict[str, Any],
        *,
        run_at: datetime | None = None,
        queueing_lock: str | None = None,
    ) -> None:
        await self.open()
        deferrer = self.app.configure_task(task, queueing_lock=queueing_lock, schedule_at=run_at)
        with contextlib.suppress(AlreadyEnqueued):
            await deferrer.defer_async(**args)

    async def open(self) -> None:
        async with self._lock:
            if not self._open:
                await self.app.open_async()
                self._open = True

    async def aclose(self) -> None:
        async with self._lock:
            if self._open:
                await self.app.close_async()
                self._open = False


async def run_procrastinate_worker(
    ctx: AppContext,
    queue: ProcrastinateJobQueue,
    *,
    wait: bool = True,
    name: str = "opencx",
    concurrency: int = 1,
) -> None:
    """Run jobs until cancelled (or, with ``wait=False``, until none is left).

    Cancelling stops fetching jobs and waits up to ``SHUTDOWN_GRACE_SECONDS`` for the
    running ones; the connection pool is closed on the way out.
    """
    await queue.open()
    await _maintain(queue.app)  # first, so that jobs of dead workers are run now
    maintenance = asyncio.create_task(_maintain_forever(queue.app))
    try:
        await queue.app.run_worker_async(
            additional_context={CONTEXT_KEY: ctx},
            wait=wait,
            name=name,
            concurrency=concurrency,
            install_signal_handlers=False,
            fetch_job_polling_interval=ctx.settings.jobs.poll_interval_seconds,
            shutdown_graceful_timeout=SHUTDOWN_GRACE_SECONDS,
        )
    finally:
        maintenance.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await maintenance
        await queue.aclose()


async def _maintain_forever(app: App) -> None:
    while True:
        await asyncio.sleep(_MAINTENANCE_EVERY_SECONDS)
        await _maintain(app)


async def _maintain(app: App) -> None:
    """Retry the jobs of dead workers; delete old succeeded jobs. Never raises."""
    try:
        await retry_stalled_jobs(app)
        await app.job_manager.delete_old_jobs(nb_hours=KEEP_FINISHED_HOURS)
    except Exception:
        log.exception("procrastinate maintenance failed; trying again in a minute")


async def retry_stalled_jobs(
    app: App, *, seconds_since_heartbeat: float = STALLED_AFTER_SECONDS
) -> int:
    """Put back to ``todo`` the running jobs of workers that stopped sending heartbeats."""
    retried = 0
    for job in await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=seconds_since_heartbeat
    ):
        try:
            await app.job_manager.retry_job(job)
        except ConnectorException:
            continue  # another worker retried it first
        log.warning("retried the job of a stalled worker", job_id=job.id, task=job.task_name)
        retried += 1
    return retried


# -- schema --------------------------------------------------------------------------


class SchemaNotManaged(RuntimeError):
    """procrastinate's tables exist but OpenCX does not know which version they are."""


def apply_procrastinate_schema(database: DatabaseSettings) -> list[str]:
    """Create procrastinate's tables, or apply its migrations newer than the last applied.

    Idempotent and safe to run from several nodes at once (an advisory lock serialises
    them); each migration commits with its marker. Returns what was applied.
    """
    with psycopg.connect(conninfo(database), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            return _apply_schema(conn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


def _apply_schema(conn: psycopg.Connection[Any]) -> list[str]:
    migrations = sorted(Path(SchemaManager.get_migrations_path()).glob("*.sql"))
    exists = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
    if exists is None or exists[0] is None:
        with conn.transaction():
            conn.execute(SchemaManager.get_schema())
            _mark_version(conn, migrations[-1].stem)
        return ["schema"]
    current = _applied_version(conn)
    applied: list[str] = []
    for path in migrations:
        if path.stem > current:
            with conn.transaction():
                conn.execute(path.read_text(encoding="utf-8"))
                _mark_version(conn, path.stem)
            applied.append(path.stem)
    return applied


def _mark_version(conn: psycopg.Connection[Any], version: str) -> None:
    marker = sql.Literal(_SCHEMA_MARKER + version)
    conn.execute(sql.SQL("COMMENT ON TABLE procrastinate_jobs IS {}").format(marker))


def _applied_version(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT obj_description('procrastinate_jobs'::regclass, 'pg_class')")
    comment = (row.fetchone() or (None,))[0]
    if not comment or not comment.startswith(_SCHEMA_MARKER):
        raise SchemaNotManaged(
            "procrastinate's tables exist but were not created by `opencx db upgrade`, so "
            "their version is unknown. Apply procrastinate's migrations up to the installed "
            "version by hand, then record it with: COMMENT ON TABLE procrastinate_jobs IS "
            f"'{_SCHEMA_MARKER}<name of the last migration applied, without .sql>'"
        )
    return str(comment[len(_SCHEMA_MARKER) :])
