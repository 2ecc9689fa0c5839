"""The router's inbox: any node writes a command in its own transaction, the active
router carries them out in order, and a caller that needs the outcome waits for it.

Rules:
- a command is committed with the change that caused it (a new task, a presence
  change), so nothing asked of the router is lost, whichever node asked;
- the active router marks each command done in the transaction that applies it;
  a refusal is stored as a problem (code, detail) and raised again for the caller;
- waiting for an outcome is bounded: no active router within the wait is a 503. The
  router hands each outcome to its waiters (``outcomes``); nobody polls for it;
- a caller waiting on its command wakes the router with ``urgent``: the router then
  carries it out at once instead of first gathering a burst for one batch.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import (
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    OpenCXError,
)
from opencx.core.events import DomainEvent, EventType
from opencx.db.models import RoutingCommand
from opencx.features.context import AppContext
from opencx.features.events.record import insert_rows
from opencx.features.routing import outcomes
from opencx.features.routing.outcomes import Outcome
from opencx.realtime.bus import EventSource

__all__ = [
    "CommandKind",
    "Outcome",
    "await_outcome",
    "awaiting_outcomes",
    "enqueue",
    "enqueue_many",
    "listen_for_wakeups",
    "problem_of",
    "urgent_event",
    "wake_router",
    "wakeup_event",
]

#: How long a caller waits for the router to carry out its command.
OUTCOME_TIMEOUT_SECONDS = 10.0


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


@asynccontextmanager
async def awaiting_outcomes(ctx: AppContext) -> AsyncIterator[Callable[[int], None]]:
    """Wrap the transaction that enqueues a command whose outcome the caller awaits, and
    ``expect(command.id)`` in it: the router's answer cannot then come before the caller
    listens, and ``await_outcome`` need not read the command back."""
    async with outcomes.expecting(ctx) as expect:
        yield expect


async def await_outcome(
    ctx: AppContext, command_id: int, *, wait_seconds: float = OUTCOME_TIMEOUT_SECONDS
) -> Outcome:
    """Return once the router has carried out the command; raise what it refused with."""
    wake_router(urgent=True)
    await _wake_other_nodes(ctx)
    outcome = await outcomes.wait_for(ctx, command_id, wait_seconds=wait_seconds)
    if outcome.problem is not None:
        raise _error_from(outcome.problem)
    return outcome


async def _wake_other_nodes(ctx: AppContext) -> None:
    """With a bus between nodes, the router may run on another: tell it not to wait for
    its next poll (``listen_for_wakeups`` hears this there)."""
    if not getattr(ctx.publisher, "is_listening", False):
        return
    event = DomainEvent(
        type=EventType.ROUTING_COMMANDS_QUEUED,
        entity_kind="router",
        entity_id=0,
        occurred_at=ctx.clock.now(),
    )
    await ctx.publisher.publish([event])


async def listen_for_wakeups(ctx: AppContext) -> None:
    """Run beside the active router: wake it when a caller on any node waits."""
    source = ctx.publisher
    if not isinstance(source, EventSource) or not hasattr(source, "is_listening"):
        return  # no bus between nodes: callers wake the router in process
    queue = source.subscribe()
    try:
        while True:
            event = await queue.get()
            if event is None:  # dropped: a wake-up may have been lost, so take it as one
                source.unsubscribe(queue)
                queue = source.subscribe()
                wake_router(urgent=True)
            elif event.type is EventType.ROUTING_COMMANDS_QUEUED:
                wake_router(urgent=True)
    finally:
        source.unsubscribe(queue)


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


_Events = weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event]
_wakeups: _Events = weakref.WeakKeyDictionary()
_urgent: _Events = weakref.WeakKeyDictionary()


def _event_of(events: _Events) -> asyncio.Event:
    loop = asyncio.get_running_loop()
    event = events.get(loop)
    if event is None:
        event = events[loop] = asyncio.Event()
    return event


def wakeup_event() -> asyncio.Event:
    """The event a router in this process waits on between polls."""
    return _event_of(_wakeups)


def urgent_event() -> asyncio.Event:
    """Set with ``wakeup_event`` when a caller waits: the router skips its batch window."""
    return _event_of(_urgent)


def wake_router(*, urgent: bool = False) -> None:
    """Tell a router running in this process that committed commands are waiting;
    ``urgent`` when someone waits for their outcome."""
    if urgent:
        urgent_event().set()
    wakeup_event().set()
