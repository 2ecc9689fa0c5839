"""The durable in-process job queue: rows in the ``jobs`` table.

``defer`` writes a row; ``opencx.jobs.runner.InProcessRunner`` claims due rows. A row
outlives the process that wrote it, so deferred work survives a restart.

A ``queueing_lock`` admits one job per lock while that job is waiting or running: a
second ``defer`` with the same lock is dropped. The runner clears the lock when the
job succeeds or fails for good, so the lock can be deferred again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opencx.db.models import Job
from opencx.features.ports import Clock

__all__ = ["DatabaseJobQueue", "JobStatus"]


class JobStatus(StrEnum):
    """``todo`` → ``doing`` → ``succeeded`` | ``failed``; a retry goes back to ``todo``."""

    TODO = "todo"
    DOING = "doing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DatabaseJobQueue:
    """``defer`` writes a row; the runner picks due rows. Survives restarts.

    ``wakeup`` is set after each defer, so a runner in the same process starts the
    job at once instead of at its next poll.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self.wakeup = asyncio.Event()

    async def defer(
        self,
        task: str,
        args: dict[str, Any],
        *,
        run_at: datetime | None = None,
        queueing_lock: str | None = None,
    ) -> None:
        try:
            async with self._sessions() as session, session.begin():
                if queueing_lock is not None and await _lock_taken(session, queueing_lock):
                    return
                now = self._clock.now()
                session.add(
                    Job(
                        task=task,
                        args=args,
                        status=JobStatus.TODO,
                        attempts=0,
                        run_at=run_at or now,
                        queueing_lock=queueing_lock,
                        created_at=now,
                    )
                )
        except IntegrityError:
            # A concurrent defer with the same lock won the unique constraint.
            if queueing_lock is None:
                raise
            return
        self.wakeup.set()


async def _lock_taken(session: AsyncSession, queueing_lock: str) -> bool:
    found = await session.scalar(select(Job.id).where(Job.queueing_lock == queueing_lock))
    return found is not None
