"""The durable in-process job queue: rows in the ``jobs`` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opencx.db.models import Job
from opencx.features.ports import Clock

__all__ = ["DatabaseJobQueue"]


class DatabaseJobQueue:
    """``defer`` writes a row; the runner picks due rows. Survives restarts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def defer(
        self,
        task: str,
        args: dict[str, Any],
        *,
        run_at: datetime | None = None,
        queueing_lock: str | None = None,
    ) -> None:
        async with self._sessions() as session, session.begin():
            if queueing_lock is not None:
                pending = await session.scalar(
                    select(Job.id).where(Job.queueing_lock == queueing_lock)
                )
                if pending is not None:
                    return
            session.add(
                Job(
                    task=task,
                    args=args,
                    run_at=run_at or self._clock.now(),
                    queueing_lock=queueing_lock,
                    created_at=self._clock.now(),
                )
            )
