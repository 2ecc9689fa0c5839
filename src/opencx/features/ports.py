"""The edges services talk through; each has an in-process implementation and a fake
in ``opencx.testing``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from opencx.core.events import DomainEvent

__all__ = [
    "BlobStore",
    "Clock",
    "HttpTransport",
    "JobQueue",
    "MailNotSent",
    "MailTransport",
    "Publisher",
]

#: Every HTTP request to the outside (providers' APIs, their media) goes through the
#: context's transport: httpx's own small interface, so a test hands in
#: ``httpx.MockTransport`` (``opencx.testing.FakeHttp``) and the process one pool.
HttpTransport = httpx.AsyncBaseTransport


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


class MailNotSent(Exception):
    """The relay did not take the message: no connection, a refusal, a timeout.
    ``code`` is the SMTP reply code when the server gave one."""

    def __init__(self, reason: str, *, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class MailTransport(Protocol):
    """Hands an e-mail to the outgoing relay; raises ``MailNotSent`` when it was not
    taken. ``sender`` and ``recipients`` default to the message's own headers."""

    async def send(
        self,
        message: EmailMessage,
        *,
        sender: str | None = None,
        recipients: Sequence[str] | None = None,
    ) -> None: ...
