"""The router's inbox: any node writes a command in its own transaction, the active
router carries them out in order, and a caller that needs the outcome waits for it.

Rules:
- a command is committed with the change that caused it (a new task, a presence
  change), so nothing asked of the router is lost, whichever node asked;
- the active router marks each command done in the transaction that applies it;
  a refusal is stored as a problem (code, detail) and raised again for the caller;
- waiting for an outcome is bounded: no active router within the wait is a 503.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import (
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    OpenCXError,
    Unavailable,
)
from opencx.db.models import RoutingCommand
from opencx.features.context import AppContext
from opencx.features.eventlog import insert_rows

__all__ = [
    "CommandKind",
    "await_outcome",
    "enqueue",
    "enqueue_many",
    "problem_of",
    "wake_router",
    "wakeup_event",
]

#: How long a caller waits for the router to carry out its command.
OUTCOME_TIMEOUT_SECONDS = 10.0
_POLL_SECONDS = 0.02


class CommandKind(StrEnum):
    SUBMIT = "submit"
    ACCEPT = "accept"
    REJECT = "reject"
    COMPLETE = "complete"
    END_WRAP_UP = "end_wrap_up"
    CANCEL = "cancel"
    TRANSFER = "transfer"
    CALLBACK = "callback"
    SYNC_WORKER = "sync_worker"  # an agent's presence or profile changed
    RELOAD = "reload"  # queues, sites, hours or the workflow changed


async def enqueue(
    session: AsyncSession,
    ctx: AppContext,
    kind: CommandKind,
    *,
    task_id: int | None = None,
    worker_id: int | None = None,
    payload: dict[str, Any] | None = None,
    actor_user_id: int | None = None,
) -> RoutingCommand:
    row = RoutingCommand(
        kind=kind.value,
        task_id=task_id,
        worker_id=worker_id,
        payload=payload or {},
        actor_user_id=actor_user_id,
        created_at=ctx.clock.now(),
    )
    session.add(row)
    await session.flush()
    return row


async def enqueue_many(
    session: AsyncSession, ctx: AppContext, kind: CommandKind, *, task_ids: Sequence[int]
) -> None:
    """One ``kind`` command per task, from the system, in one statement."""
    if not task_ids:
        return
    now = ctx.clock.now()
    await insert_rows(
        session,
        RoutingCommand,
        [
            {"kind": kind.value, "task_id": task_id, "payload": {}, "created_at": now}
            for task_id in task_ids
        ],
    )


async def await_outcome(
    ctx: AppContext, command_id: int, *, wait_seconds: float = OUTCOME_TIMEOUT_SECONDS
) -> None:
    """Return once the router has carried out the command; raise what it refused with."""
    wake_router()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        async with ctx.sessions() as session:
            row = await session.get(RoutingCommand, command_id)
        if row is not None and row.done_at is not None:
            if row.error is not None:
                raise _error_from(row.error)
            return
        if loop.time() >= deadline:
            raise Unavailable(
                "the router has not answered yet; the request is recorded and will be "
                "carried out when a router is active",
                command_id=command_id,
            )
        await asyncio.sleep(_POLL_SECONDS)


_ERRORS: dict[str, type[OpenCXError]] = {
    cls.code: cls for cls in (InvalidInput, NotFound, Conflict, IllegalTransition)
}


def problem_of(exc: OpenCXError) -> dict[str, Any]:
    return {"code": exc.code, "detail": exc.detail}


def _error_from(problem: dict[str, Any]) -> OpenCXError:
    cls = _ERRORS.get(str(problem.get("code")), Conflict)
    detail = str(problem.get("detail", "the router refused the request"))
    if cls is IllegalTransition:
        return Conflict(detail)
    return cls(detail)


_wakeups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event] = (
    weakref.WeakKeyDictionary()
)


def wakeup_event() -> asyncio.Event:
    """The event a router in this process waits on between polls."""
    loop = asyncio.get_running_loop()
    event = _wakeups.get(loop)
    if event is None:
        event = _wakeups[loop] = asyncio.Event()
    return event


def wake_router() -> None:
    """Tell a router running in this process that committed commands are waiting."""
    wakeup_event().set()
