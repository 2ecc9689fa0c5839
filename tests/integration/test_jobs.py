"""Background jobs: the in-process runner on any database, procrastinate on PostgreSQL.

The in-process runner is driven with ``run_once``/``run_until_idle`` and a FakeClock;
the procrastinate tests run real workers against a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from procrastinate import RetryDecision
from procrastinate.jobs import Job as ProcrastinateJob
from procrastinate.schema import SchemaManager
from psycopg import sql
from sqlalchemy import func, select, text, update

from opencx.core.enums import Role
from opencx.core.errors import NotFound
from opencx.db import migrate
from opencx.db.models import IdempotencyRecord, Job, User
from opencx.features.context import AppContext, SystemClock
from opencx.jobs import maintenance
from opencx.jobs.backends import apply_job_schema
from opencx.jobs.inprocess import DatabaseJobQueue, JobStatus
from opencx.jobs.procrastinate_backend import (
    OpenCXRetryStrategy,
    ProcrastinateJobQueue,
    SchemaNotManaged,
    apply_procrastinate_schema,
    build_procrastinate_app,
    conninfo,
    cron_for,
    run_procrastinate_worker,
)
from opencx.jobs.registry import JobRegistry, default_registry
from opencx.jobs.retry import JobRetryPolicy
from opencx.jobs.runner import InProcessRunner, next_periodic_run, periodic_lock
from opencx.runtime import build_app, build_context, upgrade_database
from opencx.settings import DatabaseSettings, Settings
from opencx.testing import FakeClock

POLICY = JobRetryPolicy(max_attempts=3, base_seconds=10, cap_seconds=60)


@pytest.fixture
def queue(ctx: AppContext) -> DatabaseJobQueue:
    return DatabaseJobQueue(ctx.sessions, ctx.clock)


@pytest.fixture
def calls() -> list[tuple[str, dict[str, Any]]]:
    return []


@pytest.fixture
def jobs(calls: list[tuple[str, dict[str, Any]]]) -> JobRegistry:
    registry = JobRegistry()

    @registry.job("greet")
    async def greet(ctx: AppContext, *, name: str) -> None:
        calls.append(("greet", {"name": name}))

    @registry.job("always_fails")
    async def always_fails(ctx: AppContext) -> None:
        calls.append(("always_fails", {}))
        raise ConnectionError("provider unreachable")

    @registry.job("missing_row")
    async def missing_row(ctx: AppContext) -> None:
        calls.append(("missing_row", {}))
        raise NotFound("no such conversation")

    return registry


@pytest.fixture
def runner(ctx: AppContext, queue: DatabaseJobQueue, jobs: JobRegistry) -> InProcessRunner:
    return InProcessRunner(ctx, registry=jobs, policy=POLICY, wakeup=queue.wakeup)


async def job_rows(ctx: AppContext) -> list[Job]:
    async with ctx.sessions() as session:
        return list(await session.scalars(select(Job).order_by(Job.id)))


# -- the in-process runner ------------------------------------------------------------


async def test_a_deferred_job_is_run_once_and_marked_succeeded(
    ctx: AppContext,
    queue: DatabaseJobQueue,
    runner: InProcessRunner,
    calls: list[tuple[str, dict[str, Any]]],
    clock: FakeClock,
) -> None:
    await queue.defer("greet", {"name": "Ada"})
    assert queue.wakeup.is_set()

    runs = await runner.run_until_idle()

    assert calls == [("greet", {"name": "Ada"})]
    assert [(run.task, run.status, run.attempts) for run in runs] == [
        ("greet", JobStatus.SUCCEEDED, 1)
    ]
    [row] = await job_rows(ctx)
    assert (row.status, row.attempts, row.finished_at) == ("succeeded", 1, clock.now())
    assert row.locked_until is None
    assert await runner.run_until_idle() == []
    assert len(calls) == 1


async def test_a_job_deferred_for_later_waits_for_its_time(
    queue: DatabaseJobQueue,
    runner: InProcessRunner,
    calls: list[tuple[str, dict[str, Any]]],
    clock: FakeClock,
) -> None:
    await queue.defer("greet", {"name": "Later"}, run_at=clock.now() + timedelta(minutes=5))
    assert await runner.run_once() is None
    clock.advance(299)
    assert await runner.run_once() is None
    clock.advance(1)
    run = await runner.run_once()
    assert run is not None
    assert run.status == JobStatus.SUCCEEDED
    assert calls == [("greet", {"name": "Later"})]


async def test_a_failing_job_is_retried_with_backoff_then_failed_with_its_error(
    ctx: AppContext,
    queue: DatabaseJobQueue,
    runner: InProcessRunner,
    calls: list[tuple[str, dict[str, Any]]],
    clock: FakeClock,
) -> None:
    await queue.defer("always_fails", {}, queueing_lock="flaky")
    start = clock.now()

    first = await runner.run_once()
    assert first is not None
    assert (first.status, first.attempts) == (JobStatus.TODO, 1)
    assert first.retry_at == start + timedelta(seconds=10)
    assert await runner.run_once() is None  # not due before its backoff
    clock.advance(10)
    second = await runner.run_once()
    assert second is not None
    assert second.retry_at == clock.now() + timedelta(seconds=20)
    [row] = await job_rows(ctx)
    assert (row.status, row.attempts) == ("todo", 2)
    assert row.last_error == "ConnectionError: provider unreachable"

    clock.advance(20)
    third = await runner.run_once()
    assert third is not None
    assert (third.status, third.attempts) == (JobStatus.FAILED, 3)
    [row] = await job_rows(ctx)
    assert row.status == "failed"
    assert row.last_error == "ConnectionError: provider unreachable (gave up after 3 attempts)"
    assert row.finished_at == clock.now()
    assert row.queueing_lock is None  # the lock is free for the next defer
    assert len(calls) == 3
    clock.advance(3600)
    assert await runner.run_until_idle() == []


async def test_an_error_a_retry_cannot_fix_fails_at_once(
    ctx: AppContext, queue: DatabaseJobQueue, runner: InProcessRunner
) -> None:
    await queue.defer("missing_row", {})
    run = await runner.run_once()
    assert run is not None
    assert (run.status, run.attempts) == (JobStatus.FAILED, 1)
    [row] = await job_rows(ctx)
    assert row.last_error == "NotFound: no such conversation (NotFound is not retried)"


async def test_bad_arguments_fail_the_job_without_calling_it(
    ctx: AppContext,
    queue: DatabaseJobQueue,
    runner: InProcessRunner,
    calls: list[tuple[str, dict[str, Any]]],
) -> None:
    await queue.defer("greet", {"nom": "Ada"})
    run = await runner.run_once()
    assert run is not None
    assert run.status == JobStatus.FAILED
    assert calls == []
    [row] = await job_rows(ctx)
    assert row.last_error is not None
    assert row.last_error.startswith("InvalidInput: bad arguments for job 'greet'")


async def test_an_unknown_task_is_failed_and_the_runner_goes_on(
    ctx: AppContext,
    queue: DatabaseJobQueue,
    runner: InProcessRunner,
    calls: list[tuple[str, dict[str, Any]]],
) -> None:
    await queue.defer("no_such_job", {"x": 1})
    await queue.defer("greet", {"name": "After"})

    runs = await runner.run_until_idle()

    assert [(run.task, run.status) for run in runs] == [
        ("no_such_job", JobStatus.FAILED),
        ("greet", JobStatus.SUCCEEDED),
    ]
    unknown = (await job_rows(ctx))[0]
    assert unknown.status == "failed"
    assert unknown.last_error is not None
    assert "no job is registered under the name 'no_such_job'" in unknown.last_error
    assert calls == [("greet", {"name": "After"})]


async def test_queueing_lock_keeps_one_pending_job_until_it_is_done(
    ctx: AppContext,
    queue: DatabaseJobQueue,
    runner: InProcessRunner,
    calls: list[tuple[str, dict[str, Any]]],
) -> None:
    await queue.defer("greet", {"name": "one"}, queueing_lock="greet:1")
    await queue.defer("greet", {"name": "two"}, queueing_lock="greet:1")
    await queue.defer("greet", {"name": "other"}, queueing_lock="greet:2")
    assert len(await job_rows(ctx)) == 2

    await runner.run_until_idle()
    await queue.defer("greet", {"name": "three"}, queueing_lock="greet:1")
    await runner.run_until_idle()

    assert [args["name"] for _, args in calls] == ["one", "other", "three"]


async def test_concurrent_defers_with_one_lock_make_one_job(
    ctx: AppContext, queue: DatabaseJobQueue
) -> None:
    await asyncio.gather(
        *(queue.defer("greet", {"name": str(n)}, queueing_lock="same") for n in range(5))
    )
    assert len(await job_rows(ctx)) == 1


async def test_a_job_of_a_crashed_runner_is_run_again_after_its_lease(
    ctx: AppContext, queue: DatabaseJobQueue, clock: FakeClock
) -> None:
    registry = JobRegistry()
    started = asyncio.Event()
    attempts: list[int] = []

    @registry.job("slow")
    async def slow(ctx: AppContext, *, n: int) -> None:
        attempts.append(n)
        if len(attempts) == 1:
            started.set()
            await asyncio.Event().wait()  # the runner stops while this job runs

    await queue.defer("slow", {"n": 7})
    crashed = InProcessRunner(ctx, registry=registry, policy=POLICY, lease_seconds=120)
    in_flight = asyncio.create_task(crashed.run_once())
    await asyncio.wait_for(started.wait(), timeout=10)
    in_flight.cancel()
    with pytest.raises(asyncio.CancelledError):
        await in_flight
    [row] = await job_rows(ctx)
    assert (row.status, row.attempts) == ("doing", 1)
    assert row.locked_until == clock.now() + timedelta(seconds=120)

    restarted = InProcessRunner(ctx, registry=registry, policy=POLICY, lease_seconds=120)
    assert await restarted.run_once() is None  # the lease still holds
    clock.advance(121)
    run = await restarted.run_once()

    assert run is not None
    assert (run.status, run.attempts) == (JobStatus.SUCCEEDED, 2)
    assert attempts == [7, 7]  # at least once: the interrupted attempt ran too


async def test_a_job_abandoned_on_its_last_attempt_is_failed(
    ctx: AppContext, queue: DatabaseJobQueue, runner: InProcessRunner, clock: FakeClock
) -> None:
    await queue.defer("greet", {"name": "never"}, queueing_lock="greet:x")
    async with ctx.sessions() as session, session.begin():
        await session.execute(
            update(Job).values(
                status="doing", attempts=3, locked_until=clock.now() - timedelta(seconds=1)
            )
        )
    run = await runner.run_once()
    assert run is not None
    assert (run.status, run.attempts) == (JobStatus.FAILED, 3)
    [row] = await job_rows(ctx)
    assert row.last_error == (
        "the runner stopped during the last attempt and its lease expired "
        "(gave up after 3 attempts)"
    )
    assert row.queueing_lock is None


async def test_a_job_running_past_its_lease_is_timed_out_and_retried(
    ctx: AppContext, queue: DatabaseJobQueue
) -> None:
    registry = JobRegistry()

    @registry.job("hangs")
    async def hangs(ctx: AppContext) -> None:
        await asyncio.Event().wait()

    await queue.defer("hangs", {})
    runner = InProcessRunner(ctx, registry=registry, policy=POLICY, lease_seconds=0.05)
    run = await asyncio.wait_for(runner.run_once(), timeout=10)
    assert run is not None
    assert (run.status, run.error) == (JobStatus.TODO, "timed out after 0.05 s")


async def test_two_runners_share_the_work_and_run_each_job_once(
    ctx: AppContext, queue: DatabaseJobQueue
) -> None:
    registry = JobRegistry()
    done: list[int] = []

    @registry.job("count")
    async def count(ctx: AppContext, *, n: int) -> None:
        await asyncio.sleep(0)
        done.append(n)

    for n in range(20):
        await queue.defer("count", {"n": n})
    runners = [InProcessRunner(ctx, registry=registry, policy=POLICY) for _ in range(2)]

    results = await asyncio.gather(*(runner.run_until_idle() for runner in runners))

    assert sorted(done) == list(range(20))
    assert sum(len(runs) for runs in results) == 20


async def test_a_defer_wakes_the_running_service_without_waiting_for_a_poll(
    ctx: AppContext, queue: DatabaseJobQueue
) -> None:
    ctx.settings.jobs.poll_interval_seconds = 3600
    registry = JobRegistry()
    ran = asyncio.Event()

    @registry.job("ping")
    async def ping(ctx: AppContext) -> None:
        ran.set()

    service = asyncio.create_task(
        InProcessRunner(ctx, registry=registry, policy=POLICY, wakeup=queue.wakeup).run_forever()
    )
    try:
        await asyncio.sleep(0)  # let the service reach its wait
        await queue.defer("ping", {})
        await asyncio.wait_for(ran.wait(), timeout=10)
    finally:
        service.cancel()
        with pytest.raises(asyncio.CancelledError):
            await service


async def test_old_succeeded_rows_are_pruned_and_failed_rows_kept(
    ctx: AppContext, queue: DatabaseJobQueue, runner: InProcessRunner, clock: FakeClock
) -> None:
    await queue.defer("greet", {"name": "old"})
    await queue.defer("missing_row", {})
    await runner.run_until_idle()
    assert await runner.prune_finished() == 0
    clock.advance(timedelta(days=8).total_seconds())
    assert await runner.prune_finished() == 1
    assert [row.task for row in await job_rows(ctx)] == ["missing_row"]


# -- periodic jobs ------------------------------------------------------------------


def test_periodic_runs_fall_on_multiples_of_the_period() -> None:
    hour = timedelta(hours=1)
    at = datetime(2026, 1, 5, 9, 20, tzinfo=UTC)
    assert next_periodic_run(at, hour, last_run=None) == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert next_periodic_run(at, hour, last_run=at.replace(minute=0)) == at.replace(
        hour=10, minute=0
    )
    # a run missed while nothing ran happens once, right away
    missed = next_periodic_run(at, hour, last_run=datetime(2026, 1, 5, 6, tzinfo=UTC))
    assert missed == at.replace(minute=0)


def maintenance_only() -> JobRegistry:
    """The hourly purge alone: the default registry also has other periodic jobs."""
    registry = JobRegistry()
    registry.job("purge_idempotency_records", every=timedelta(hours=1))(
        maintenance.purge_idempotency_records
    )
    return registry


async def test_the_idempotency_purge_runs_every_hour(
    ctx: AppContext, queue: DatabaseJobQueue, clock: FakeClock
) -> None:
    async with ctx.sessions() as session, session.begin():
        user = User(email="ops@example.com", display_name="Ops", role=Role.ADMIN)
        session.add(user)
        await session.flush()
        for key, age in (("old", timedelta(hours=30)), ("fresh", timedelta(hours=1))):
            session.add(
                IdempotencyRecord(
                    user_id=user.id,
                    key=key,
                    method="POST",
                    path="/api/v1/sites",
                    request_hash="0" * 64,
                    status_code=201,
                    response_body={},
                    created_at=clock.now() - age,
                )
            )
    runner = InProcessRunner(ctx, registry=maintenance_only(), wakeup=queue.wakeup)

    assert await runner.run_until_idle() == []  # scheduled for the next hour, not now
    [pending] = await job_rows(ctx)
    assert (pending.task, pending.queueing_lock) == (
        "purge_idempotency_records",
        periodic_lock("purge_idempotency_records"),
    )
    assert pending.run_at == clock.now() + timedelta(hours=1)
    # deferring it again by hand is deduplicated by its lock
    await queue.defer("purge_idempotency_records", {}, queueing_lock=pending.queueing_lock)
    assert len(await job_rows(ctx)) == 1

    clock.advance(3600)
    [run] = await runner.run_until_idle()
    assert run.status == JobStatus.SUCCEEDED
    async with ctx.sessions() as session:
        assert list(await session.scalars(select(IdempotencyRecord.key))) == ["fresh"]

    clock.advance(60)
    assert await runner.run_until_idle() == []
    rows = await job_rows(ctx)
    assert [(row.status, row.run_at) for row in rows] == [
        ("succeeded", clock.now() - timedelta(seconds=60)),
        ("todo", clock.now() - timedelta(seconds=60) + timedelta(hours=1)),
    ]


async def test_a_restarted_runner_does_not_schedule_a_second_periodic_run(
    ctx: AppContext, queue: DatabaseJobQueue
) -> None:
    periodic = [d for d in default_registry() if d.every is not None]
    assert len(periodic) >= 2
    for _ in range(3):
        await InProcessRunner(ctx, registry=default_registry()).schedule_periodic()
    async with ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == len(periodic)


# -- procrastinate on PostgreSQL ------------------------------------------------------


@pytest.fixture
def pg_settings(postgres_url: str, settings: Settings) -> Settings:
    """A fresh PostgreSQL database (the run's ``settings``) with procrastinate's tables."""
    assert apply_procrastinate_schema(settings.database) == ["schema"]
    return settings


def procrastinate_queue(
    settings: Settings, registry: JobRegistry, policy: JobRetryPolicy = POLICY
) -> ProcrastinateJobQueue:
    """A queue with its own App and connection pool: one per simulated node."""
    return ProcrastinateJobQueue(build_procrastinate_app(settings, registry, policy=policy))


async def procrastinate_rows(ctx: AppContext) -> list[tuple[str, str, int, dict[str, Any]]]:
    async with ctx.engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT task_name, status::text, attempts, args FROM procrastinate_jobs "
                "WHERE task_name NOT LIKE 'builtin:%' ORDER BY id"
            )
        )
        return [(row[0], row[1], row[2], row[3]) for row in result]


async def run_until_drained(ctx: AppContext, queue: ProcrastinateJobQueue, name: str) -> None:
    await asyncio.wait_for(run_procrastinate_worker(ctx, queue, wait=False, name=name), 60)


@pytest.mark.postgres
async def test_two_procrastinate_workers_share_the_jobs_and_run_each_once(
    ctx: AppContext, pg_settings: Settings
) -> None:
    registry = JobRegistry()
    runs: list[tuple[str, int]] = []
    both_working = asyncio.Event()
    node_a, node_b = replace(ctx), replace(ctx)
    names = {id(node_a): "a", id(node_b): "b"}

    @registry.job("count")
    async def count(ctx: AppContext, *, n: int) -> None:
        runs.append((names[id(ctx)], n))
        if {worker for worker, _ in runs} == {"a", "b"}:
            both_working.set()
        # each worker's first job waits for the other worker to start one
        await asyncio.wait_for(both_working.wait(), timeout=30)

    web = procrastinate_queue(pg_settings, registry)
    for n in range(12):
        await web.defer("count", {"n": n})
    await web.aclose()

    await asyncio.gather(
        run_until_drained(node_a, procrastinate_queue(pg_settings, registry), "a"),
        run_until_drained(node_b, procrastinate_queue(pg_settings, registry), "b"),
    )

    assert sorted(n for _, n in runs) == list(range(12))
    assert {worker for worker, _ in runs} == {"a", "b"}
    assert {status for _, status, _, _ in await procrastinate_rows(ctx)} == {"succeeded"}


@pytest.mark.postgres
async def test_a_job_deferred_while_no_worker_runs_is_run_after_the_restart(
    ctx: AppContext, pg_settings: Settings
) -> None:
    registry = JobRegistry()
    greeted: list[str] = []
    first_done = asyncio.Event()

    @registry.job("greet")
    async def greet(ctx: AppContext, *, name: str) -> None:
        greeted.append(name)
        first_done.set()

    web = procrastinate_queue(pg_settings, registry)
    first_worker = procrastinate_queue(pg_settings, registry)
    running = asyncio.create_task(run_procrastinate_worker(ctx, first_worker))
    await web.defer("greet", {"name": "before"})
    await asyncio.wait_for(first_done.wait(), timeout=30)
    running.cancel()  # the worker is stopped…
    with pytest.raises(asyncio.CancelledError):
        await running
    await web.defer("greet", {"name": "while stopped"})  # …work keeps arriving…
    await web.aclose()
    assert greeted == ["before"]

    await run_until_drained(ctx, procrastinate_queue(pg_settings, registry), "restarted")

    assert greeted == ["before", "while stopped"]


@pytest.mark.postgres
async def test_the_job_of_a_dead_procrastinate_worker_is_run_by_another(
    ctx: AppContext, pg_settings: Settings
) -> None:
    registry = JobRegistry()
    greeted: list[str] = []

    @registry.job("greet")
    async def greet(ctx: AppContext, *, name: str) -> None:
        greeted.append(name)

    dead = procrastinate_queue(pg_settings, registry)
    await dead.defer("greet", {"name": "orphan"})
    worker_id = await dead.app.job_manager.register_worker()
    job = await dead.app.job_manager.fetch_job(queues=None, worker_id=worker_id)
    assert job is not None  # taken, then the worker dies without a word
    await dead.aclose()
    async with ctx.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' "
                "WHERE id = :id"
            ),
            {"id": worker_id},
        )
    assert [row[1] for row in await procrastinate_rows(ctx)] == ["doing"]

    await run_until_drained(ctx, procrastinate_queue(pg_settings, registry), "survivor")

    assert greeted == ["orphan"]
    assert [row[1] for row in await procrastinate_rows(ctx)] == ["succeeded"]


@pytest.mark.postgres
async def test_procrastinate_retries_per_the_policy_and_fails_unknown_tasks(
    ctx: AppContext,
    pg_settings: Settings,
    jobs: JobRegistry,
    calls: list[tuple[str, dict[str, Any]]],
) -> None:
    immediate = JobRetryPolicy(max_attempts=3, base_seconds=0, cap_seconds=0)
    queue = procrastinate_queue(pg_settings, jobs, immediate)
    await queue.defer("always_fails", {})
    await queue.defer("missing_row", {})
    await queue.defer("no_such_job", {})
    await queue.defer("greet", {"name": "Ada"}, queueing_lock="greet")
    await queue.defer("greet", {"name": "dropped"}, queueing_lock="greet")

    await run_until_drained(ctx, queue, "retrying")

    assert sorted(task for task, _ in calls) == [
        "always_fails", "always_fails", "always_fails", "greet", "missing_row",
    ]  # fmt: skip
    outcomes = {
        task: (status, attempts) for task, status, attempts, _ in await procrastinate_rows(ctx)
    }
    assert outcomes == {
        "always_fails": ("failed", 3),
        "missing_row": ("failed", 1),
        "no_such_job": ("failed", 1),
        "greet": ("succeeded", 1),
    }  # fmt: skip


@pytest.mark.postgres
async def test_defer_schedules_for_later(ctx: AppContext, pg_settings: Settings) -> None:
    queue = procrastinate_queue(pg_settings, JobRegistry())
    at = datetime(2030, 1, 1, 8, tzinfo=UTC)
    await queue.defer("anything", {"x": 1}, run_at=at)
    await queue.aclose()
    async with ctx.engine.connect() as conn:
        scheduled = await conn.scalar(text("SELECT scheduled_at FROM procrastinate_jobs"))
    assert scheduled == at


@pytest.mark.postgres
def test_the_procrastinate_schema_is_applied_once_and_upgraded_in_place(
    pg_settings: Settings,
) -> None:
    assert apply_procrastinate_schema(pg_settings.database) == []
    migrations = sorted(
        path.stem for path in Path(SchemaManager.get_migrations_path()).glob("*.sql")
    )
    marker = f"opencx:procrastinate-schema={migrations[-2]}"
    with psycopg.connect(conninfo(pg_settings.database), autocommit=True) as conn:
        conn.execute(sql.SQL("COMMENT ON TABLE procrastinate_jobs IS {}").format(marker))
        assert apply_procrastinate_schema(pg_settings.database) == [migrations[-1]]
        conn.execute("COMMENT ON TABLE procrastinate_jobs IS NULL")
        with pytest.raises(SchemaNotManaged, match="were not created by `opencx db upgrade`"):
            apply_procrastinate_schema(pg_settings.database)
    migrate.check(pg_settings.database)  # our migrations ignore procrastinate's tables


@pytest.mark.postgres
def test_runtime_picks_procrastinate_on_postgresql(pg_settings: Settings) -> None:
    upgrade_database(pg_settings)  # migrations and procrastinate's schema, again: no-op
    ctx = build_context(pg_settings)
    assert isinstance(ctx.jobs, ProcrastinateJobQueue)
    periodic = {
        task.task.name: task.cron for task in ctx.jobs.app.periodic_registry.periodic_tasks.values()
    }
    assert periodic == {
        "purge_idempotency_records": "0 */1 * * *",
        "purge_unused_uploads": "0 */1 * * *",
        "send_queued_messages": "*/1 * * * *",
        "fetch_pending_media": "*/1 * * * *",
        "poll_public_channels": "*/5 * * * *",
        "poll_imap_mailboxes": "*/1 * * * *",
        "wake_snoozed_conversations": "*/1 * * * *",
        "refresh_report_intervals": "*/1 * * * *",
    }


# -- backend selection and periodic schedules -----------------------------------------


def test_runtime_picks_the_in_process_queue_on_sqlite(tmp_path: Path) -> None:
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{tmp_path}/x.db"),
        _env_file=None,  # type: ignore[call-arg]
    )
    assert settings.jobs_backend == "inprocess"
    assert isinstance(build_context(settings).jobs, DatabaseJobQueue)
    assert apply_job_schema(settings) == []


@pytest.mark.parametrize(
    ("every", "cron"),
    [
        (timedelta(seconds=15), "* * * * * */15"),
        (timedelta(minutes=5), "*/5 * * * *"),
        (timedelta(hours=1), "0 */1 * * *"),
        (timedelta(hours=6), "0 */6 * * *"),
        (timedelta(days=1), "0 0 * * *"),
    ],
)
def test_periods_map_to_cron_lines(every: timedelta, cron: str) -> None:
    assert cron_for(every) == cron


@pytest.mark.parametrize("every", [timedelta(minutes=7), timedelta(hours=5), timedelta(days=2)])
def test_periods_that_do_not_divide_a_day_are_refused(every: timedelta) -> None:
    with pytest.raises(ValueError, match="divisor of a day"):
        cron_for(every)


def test_libpq_conninfo_from_the_database_url() -> None:
    database = DatabaseSettings(
        url="postgresql://ops:p%40ss word@db.example:6543/opencx?sslmode=require"
    )
    assert conninfo(database) == (
        "host=db.example port=6543 user=ops password='p@ss word' dbname=opencx sslmode=require"
    )


# -- the processes: `opencx worker` and the server's background runner -----------------


async def defer_purge(settings: Settings, ctx: AppContext) -> int:
    """Defer the built-in purge job on the configured backend; returns its job id."""
    if settings.jobs_backend == "procrastinate":
        queue = procrastinate_queue(settings, default_registry())
        await queue.open()
        try:
            return await queue.app.configure_task("purge_idempotency_records").defer_async()
        finally:
            await queue.aclose()
    await DatabaseJobQueue(ctx.sessions, SystemClock()).defer("purge_idempotency_records", {})
    async with ctx.sessions() as session:
        job_id = await session.scalar(select(func.max(Job.id)).where(Job.queueing_lock.is_(None)))
    assert job_id is not None
    return job_id


async def wait_until_succeeded(settings: Settings, ctx: AppContext, job_id: int) -> None:
    table = "procrastinate_jobs" if settings.jobs_backend == "procrastinate" else "jobs"
    query = text(f"SELECT status FROM {table} WHERE id = :id")
    deadline = asyncio.get_running_loop().time() + 30
    status = None
    while asyncio.get_running_loop().time() < deadline:
        async with ctx.engine.connect() as conn:
            status = str(await conn.scalar(query, {"id": job_id}))
        if status == "succeeded":
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"job {job_id} is {status!r} after 30 s")


@pytest.mark.e2e
async def test_opencx_worker_runs_deferred_jobs_and_stops_on_sigterm(
    ctx: AppContext, settings: Settings, tmp_path: Path
) -> None:
    apply_job_schema(settings)
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENCX_")}
    env |= {
        "OPENCX_ENV": "test",
        "OPENCX_DATABASE__URL": settings.database.url,
        "OPENCX_STORAGE__PATH": str(tmp_path / "attachments"),
        "OPENCX_JOBS__POLL_INTERVAL_SECONDS": "0.2",
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log_file:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "opencx", "worker",
            env=env, cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        job_id = await defer_purge(settings, ctx)
        await wait_until_succeeded(settings, ctx, job_id)
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(worker.wait(), 30) == 0, log_path.read_text()
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    assert f"running {settings.jobs_backend} jobs" in log_path.read_text()


async def test_the_server_runs_jobs_in_the_background(settings: Settings) -> None:
    apply_job_schema(settings)
    app = build_app(settings)
    ctx: AppContext = app.state.ctx
    async with app.router.lifespan_context(app):
        job_id = await defer_purge(settings, ctx)
        await wait_until_succeeded(settings, ctx, job_id)


def test_procrastinate_retries_follow_the_same_policy() -> None:
    strategy = OpenCXRetryStrategy(POLICY, jitter=lambda: 0.0)

    def decide(previous_attempts: int, error: Exception) -> RetryDecision | None:
        job = ProcrastinateJob(
            id=1, queue="default", lock=None, queueing_lock=None, task_name="greet",
            attempts=previous_attempts,
        )  # fmt: skip
        return strategy.get_retry_decision(exception=error, job=job)

    before = datetime.now(UTC)
    first = decide(0, ConnectionError("down"))
    assert first is not None
    assert first.retry_at is not None
    assert (
        before + timedelta(seconds=10)
        <= first.retry_at
        <= datetime.now(UTC) + timedelta(seconds=10)
    )
    assert decide(2, ConnectionError("down")) is None  # the third attempt was the last
    assert decide(0, NotFound("gone")) is None
