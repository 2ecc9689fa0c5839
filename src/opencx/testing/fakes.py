"""In-memory stand-ins for the ports in ``opencx.features.ports``."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from opencx.core.errors import NotFound
from opencx.core.events import DomainEvent

__all__ = ["FakeClock", "InMemoryBlobStore", "RecordingJobQueue", "RecordingPublisher"]


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


@dataclass
class RecordingPublisher:
    events: list[DomainEvent] = field(default_factory=list)

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        self.events.extend(events)


@dataclass
class DeferredJob:
    task: str
    args: dict[str, Any]
    run_at: datetime | None
    queueing_lock: str | None


@dataclass
class RecordingJobQueue:
    jobs: list[DeferredJob] = field(default_factory=list)

    async def defer(
        self,
        task: str,
        args: dict[str, Any],
        *,
        run_at: datetime | None = None,
        queueing_lock: str | None = None,
    ) -> None:
        self.jobs.append(DeferredJob(task, args, run_at, queueing_lock))


@dataclass
class InMemoryBlobStore:
    blobs: dict[str, bytes] = field(default_factory=dict)

    async def put(self, data: bytes, *, content_type: str) -> str:
        key = hashlib.sha256(data).hexdigest()
        self.blobs[key] = data
        return key

    async def get(self, key: str) -> bytes:
        try:
            return self.blobs[key]
        except KeyError:
            raise NotFound(f"no attachment content {key!r}") from None

    async def remove_unused(
        self, key: str, *, in_use: Callable[[], Awaitable[bool]], grace_seconds: float
    ) -> bool:
        if key not in self.blobs or await in_use():
            return False
        del self.blobs[key]
        return True
