"""The edges services talk through; each has an in-process implementation and a fake
in ``opencx.testing``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from opencx.core.events import DomainEvent

__all__ = ["BlobStore", "Clock", "JobQueue", "Publisher"]


class Clock(Protocol):
    def now(self) -> datetime: ...


class Publisher(Protocol):
    """Delivers committed events to live subscribers, on this node and others."""

    async def publish(self, events: Sequence[DomainEvent]) -> None: ...


class JobQueue(Protocol):
    """Durable background work; ``task`` names a function registered in ``opencx.jobs``."""

    async def defer(
        self,
        task: str,
        args: dict[str, Any],
        *,
        run_at: datetime | None = None,
        queueing_lock: str | None = None,
    ) -> None: ...


class BlobStore(Protocol):
    """Attachment bytes, addressed by an opaque key."""

    async def put(self, data: bytes, *, content_type: str) -> str: ...

    async def get(self, key: str) -> bytes: ...

    async def remove_unused(
        self, key: str, *, in_use: Callable[[], Awaitable[bool]], grace_seconds: float
    ) -> bool:
        """Remove the blob unless ``in_use()`` or it was written within the grace
        period; whether it was removed."""
        ...
