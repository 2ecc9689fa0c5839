"""The in-process job runner: claims due rows of the ``jobs`` table and runs them.

Claiming is one compare-and-set ``UPDATE`` (``todo`` and due, or ``doing`` with an
expired lease) that also takes a lease (``locked_until``) and counts the attempt, so
any number of runners, in one process or many, can share the table: each job is run
by one runner at a time. A runner that dies mid-job leaves the row ``doing``; once the
lease expires another runner claims it again. That is how jobs survive a crash or a
restart, and why delivery is **at least once**: every job must be idempotent.

A job may not outlive its lease: it is cancelled when the lease runs out and counts
as a failed attempt. Failures are retried per ``JobRetryPolicy`` until they succeed
or the policy gives up; a job naming no registered function fails at once.

Times come from ``ctx.clock``, so tests drive the runner with ``run_once`` and
``run_until_idle`` and a ``FakeClock`` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from opencx.db.models import Job
from opencx.features.context import AppContext
from opencx.jobs.inprocess import JobStatus
from opencx.jobs.registry import JobDefinition, JobRegistry, UnknownJob
from opencx.jobs.retry import JobRetryPolicy

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "FINISHED_RETENTION",
    "InProcessRunner",
    "JobRun",
    "next_periodic_run",
    "periodic_lock",
]

log = structlog.get_logger(__name__)

#: How long a claimed job may run before another runner may take it over.
DEFAULT_LEASE_SECONDS = 300.0
#: Succeeded rows are deleted after this long; failed rows stay for inspection.
FINISHED_RETENTION = timedelta(days=7)
_PRUNE_EVERY = timedelta(hours=1)
_CLAIM_TRIES = 5
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class JobRun:
    """What became of one claimed job: ``succeeded``, ``todo`` (retry at ``retry_at``)
    or ``failed``."""

    job_id: int
    task: str
    status: JobStatus
    attempts: int
    error: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Claim:
    job_id: int
    task: str
    args: dict[str, Any]
    attempts: int
    #: Its last attempt was abandoned by a stopped runner and it has no attempt left.
    exhausted: bool


def periodic_lock(name: str) -> str:
    """The queueing lock that keeps one pending run of a periodic job."""
    return f"periodic:{name}"


def next_periodic_run(now: datetime, every: timedelta, *, last_run: datetime | None) -> datetime:
    """When a periodic job runs next: on multiples of ``every`` since the Unix epoch
    (hourly jobs on the hour), once right away if a run was missed while no runner ran."""
    floor = _EPOCH + ((now - _EPOCH) // every) * every
    if last_run is None:
        return floor + every
    due = _EPOCH + ((last_run - _EPOCH) // every + 1) * every
    return floor if due <= now else due


def _no_jitter() -> float:
    return 0.0


class InProcessRunner:
    """Runs jobs of the ``jobs`` table one at a time; ``run_forever`` is the service."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        registry: JobRegistry,
        policy: JobRetryPolicy | None = None,
        wakeup: asyncio.Event | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        jitter: Callable[[], float] = _no_jitter,
    ) -> None:
        self._ctx = ctx
        self._registry = registry
        self._policy = policy or JobRetryPolicy.from_settings(ctx.settings.jobs)
        self._wakeup = wakeup or asyncio.Event()
        self._lease = timedelta(seconds=lease_seconds)
        self._jitter = jitter
        self._next_periodic_check: dict[str, datetime] = {}
        self._next_prune: datetime | None = None

    async def run_forever(self) -> None:
        """Run due jobs, then wait for a defer in this process or the poll interval.

        Never returns; cancel it to stop. A job cancelled mid-run stays ``doing`` and
        is run again once its lease expires.
        """
        poll = self._ctx.settings.jobs.poll_interval_seconds
        log.info("job runner started", poll_interval_seconds=poll)
        while True:
            self._wakeup.clear()
            try:
                await self.run_until_idle()
                await self.prune_finished()
            except Exception:
                log.exception("job runner pass failed; trying again after the poll interval")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll):
                    await self._wakeup.wait()

    async def run_until_idle(self, *, limit: int = 10_000) -> list[JobRun]:
        """Schedule periodic jobs, then run due jobs until none is left (or ``limit``)."""
        await self.schedule_periodic()
        runs: list[JobRun] = []
        while len(runs) < limit and (run := await self._run_next()) is not None:
            runs.append(run)
        return runs

    async def run_once(self) -> JobRun | None:
        """Schedule periodic jobs, then run at most one due job."""
        await self.schedule_periodic()
        return await self._run_next()

    # -- running one job ---------------------------------------------------------

    async def _run_next(self) -> JobRun | None:
        claim = await self._claim()
        if claim is None:
            return None
        if claim.exhausted:
            error = "the runner stopped during the last attempt and its lease expired"
            reason = f"gave up after {claim.attempts} attempts"
            return await self._finish(claim, JobStatus.FAILED, error=f"{error} ({reason})")
        try:
            definition = self._registry.get(claim.task)
        except UnknownJob as exc:
            return await self._finish(claim, JobStatus.FAILED, error=str(exc))
        return await self._execute(definition, claim)

    async def _execute(self, definition: JobDefinition, claim: _Claim) -> JobRun:
        log.info("job started", job_id=claim.job_id, task=claim.task, attempt=claim.attempts)
        limit = self._lease.total_seconds()
        timeout = asyncio.timeout(limit)
        try:
            async with timeout:
                await definition.run(self._ctx, claim.args)
        except Exception as exc:
            error = f"timed out after {limit:g} s" if timeout.expired() else _describe(exc)
            log.warning("job failed", job_id=claim.job_id, task=claim.task, exc_info=exc)
            return await self._after_failure(claim, exc, error)
        return await self._finish(claim, JobStatus.SUCCEEDED)

    async def _after_failure(self, claim: _Claim, exc: Exception, error: str) -> JobRun:
        decision = self._policy.decide(claim.attempts, exc, jitter=self._jitter())
        if not decision.retry:
            return await self._finish(claim, JobStatus.FAILED, error=f"{error} ({decision.reason})")
        retry_at = self._ctx.clock.now() + timedelta(seconds=decision.delay_seconds)
        return await self._finish(claim, JobStatus.TODO, error=error, retry_at=retry_at)

    async def _claim(self) -> _Claim | None:
        for _ in range(_CLAIM_TRIES):
            now = self._ctx.clock.now()
            due = or_(
                and_(Job.status == JobStatus.TODO, Job.run_at <= now),
                and_(Job.status == JobStatus.DOING, Job.locked_until < now),
            )
            async with self._ctx.sessions() as session, session.begin():
                row = (
                    await session.execute(
                        select(Job.id, Job.task, Job.args, Job.attempts, Job.status)
                        .where(due)
                        .order_by(Job.run_at, Job.id)
                        .limit(1)
                        .with_for_update(skip_locked=True)
                    )
                ).one_or_none()
                if row is None:
                    return None
                exhausted = (
                    row.status == JobStatus.DOING and row.attempts >= self._policy.max_attempts
                )
                attempts = row.attempts if exhausted else row.attempts + 1
                taken = await session.execute(
                    update(Job)
                    .where(Job.id == row.id, Job.attempts == row.attempts, due)
                    .values(
                        status=JobStatus.DOING, attempts=attempts, locked_until=now + self._lease
                    )
                )
            if _rowcount(taken) == 1:
                return _Claim(row.id, row.task, dict(row.args), attempts, exhausted)
        return None  # other runners keep winning the race; they are doing the work

    async def _finish(
        self,
        claim: _Claim,
        status: JobStatus,
        *,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> JobRun:
        now = self._ctx.clock.now()
        values: dict[str, Any] = {"status": status, "locked_until": None}
        if error is not None:
            values["last_error"] = error
        if status == JobStatus.TODO:
            values["run_at"] = retry_at
        else:
            values.update(finished_at=now, queueing_lock=None)
        async with self._ctx.sessions() as session, session.begin():
            result = await session.execute(
                update(Job)
                .where(
                    Job.id == claim.job_id,
                    Job.status == JobStatus.DOING,
                    Job.attempts == claim.attempts,
                )
                .values(**values)
            )
        if _rowcount(result) != 1:
            log.warning("job lease lost before it finished", job_id=claim.job_id)
        log.info("job finished", job_id=claim.job_id, task=claim.task, status=status.value)
        return JobRun(claim.job_id, claim.task, status, claim.attempts, error, retry_at)

    # -- periodic jobs and housekeeping -----------------------------------------

    async def schedule_periodic(self) -> None:
        """Defer each periodic job that has no run pending (checked only when due)."""
        now = self._ctx.clock.now()
        for definition in self._registry.periodic():
            check_at = self._next_periodic_check.get(definition.name)
            if check_at is None or check_at <= now:
                self._next_periodic_check[definition.name] = await self._ensure_pending(
                    definition, now
                )

    async def _ensure_pending(self, definition: JobDefinition, now: datetime) -> datetime:
        """Make sure one run is pending; answer when to look again."""
        assert definition.every is not None
        lock = periodic_lock(definition.name)
        try:
            async with self._ctx.sessions() as session, session.begin():
                pending = await session.scalar(select(Job.run_at).where(Job.queueing_lock == lock))
                if pending is not None:
                    return pending
                last_run = await session.scalar(
                    select(func.max(Job.run_at)).where(
                        Job.task == definition.name,
                        Job.status.in_([JobStatus.SUCCEEDED, JobStatus.FAILED]),
                    )
                )
                run_at = next_periodic_run(now, definition.every, last_run=last_run)
                session.add(
                    Job(
                        task=definition.name,
                        args={},
                        status=JobStatus.TODO,
                        attempts=0,
                        run_at=run_at,
                        queueing_lock=lock,
                        created_at=now,
                    )
                )
        except IntegrityError:
            return now  # another runner deferred it at the same moment
        return run_at

    async def prune_finished(self) -> int:
        """Delete succeeded rows older than ``FINISHED_RETENTION`` (at most hourly)."""
        now = self._ctx.clock.now()
        if self._next_prune is not None and now < self._next_prune:
            return 0
        self._next_prune = now + _PRUNE_EVERY
        async with self._ctx.sessions() as session, session.begin():
            result = await session.execute(
                delete(Job).where(
                    Job.status == JobStatus.SUCCEEDED,
                    Job.finished_at < now - FINISHED_RETENTION,
                )
            )
        return _rowcount(result)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
