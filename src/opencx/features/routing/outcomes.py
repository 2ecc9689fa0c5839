"""The outcomes of the router's commands, delivered to the callers waiting for them.

Rules:
- the active router announces the outcome of each command it carried out (but
  ``submit``, which nobody waits for) right after the commit that marked it done:
  waiters in its own process are woken at once, and a ``routing.commands_done`` message
  on the bus wakes those of every other node; nobody polls;
- a waiter registers before its command commits (``expecting``), so the router cannot
  answer before anyone listens; one that registers after the commit reads its
  command's row once, in case the answer came first;
- the bus is not trusted alone: a waiter reads its command's row every
  ``RECHECK_SECONDS`` in case a message was lost (a link down), and gives up at its
  deadline with a 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opencx.core.errors import Unavailable
from opencx.core.events import DomainEvent, EventType
from opencx.db.models import RoutingCommand, RoutingReservation
from opencx.features.context import AppContext
from opencx.realtime.bus import EventSource, Subscription

__all__ = [
    "RECHECK_SECONDS",
    "Outcome",
    "announce",
    "expecting",
    "reservation_values",
    "wait_for",
]

#: How often a waiter reads its command's row, in case the bus lost the answer.
RECHECK_SECONDS = 1.0
_KEY = "routing.outcomes"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the router did with one command: refused it (``problem``), or carried it
    out; for an accept or reject, the reservation as the router left it (JSON values,
    as ``reservation_values`` gives them), when the router knew it."""

    command_id: int
    problem: dict[str, Any] | None = None
    reservation: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "command_id": self.command_id,
            "problem": self.problem,
            "reservation": self.reservation,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(int(data["command_id"]), data.get("problem"), data.get("reservation"))


def reservation_values(row: RoutingReservation) -> dict[str, Any]:
    def at(value: datetime | None) -> str | None:
        return value.astimezone(UTC).isoformat() if value is not None else None

    return {
        "id": row.id,
        "task_id": row.task_id,
        "worker_id": row.worker_id,
        "queue_id": row.queue_id,
        "state": row.state,
        "callback": row.callback,
        "offered_at": at(row.offered_at),
        "expires_at": at(row.expires_at),
        "accepted_at": at(row.accepted_at),
        "ended_at": at(row.ended_at),
    }


async def announce(ctx: AppContext, outcomes: Sequence[Outcome], *, epoch: int) -> None:
    """Tell the waiters (here, then on every node) what the router did; call it after
    the commit that marked the commands done."""
    if not outcomes:
        return
    _waiters(ctx).settle(outcomes)
    event = DomainEvent(
        type=EventType.ROUTING_COMMANDS_DONE,
        entity_kind="router",
        entity_id=epoch,
        occurred_at=ctx.clock.now(),
        payload={"outcomes": [outcome.to_json() for outcome in outcomes]},
    )
    await ctx.publisher.publish([event])


@asynccontextmanager
async def expecting(ctx: AppContext) -> AsyncIterator[Callable[[int], None]]:
    """``expect(command_id)`` registers a waiter for a command about to commit; wrap
    the transaction in this, so that a command that never commits is forgotten."""
    waiters = _waiters(ctx)
    expected: list[int] = []

    def expect(command_id: int) -> None:
        waiters.expect(command_id)
        expected.append(command_id)

    try:
        yield expect
    except BaseException:
        for command_id in expected:
            waiters.forget(command_id)
        raise


async def wait_for(ctx: AppContext, command_id: int, *, wait_seconds: float) -> Outcome:
    """The command's outcome, once the router has carried it out."""
    waiters = _waiters(ctx)
    registered = waiters.expecting(command_id)
    future = waiters.expect(command_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    try:
        if not registered and (found := await _read(ctx, command_id)) is not None:
            return found
        while True:
            timeout = max(min(RECHECK_SECONDS, deadline - loop.time()), 0.0)
            done, _ = await asyncio.wait({future}, timeout=timeout)
            if done:
                return future.result()
            if (found := await _read(ctx, command_id)) is not None:
                return found  # the bus lost the router's answer
            if loop.time() >= deadline:
                raise Unavailable(
                    "the router has not answered yet; the request is recorded and will be "
                    "carried out when a router is active",
                    command_id=command_id,
                )
    finally:
        waiters.forget(command_id)


async def _read(ctx: AppContext, command_id: int) -> Outcome | None:
    async with ctx.sessions() as session:
        row = await session.get(RoutingCommand, command_id)
    if row is None or row.done_at is None:
        return None
    return Outcome(command_id, row.error)


class _Waiters:
    """This process's waiters, by command id, and while there are any, a subscription
    to the bus that hears other nodes' routers."""

    def __init__(self, ctx: AppContext, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        publisher = ctx.publisher
        self._source = publisher if isinstance(publisher, EventSource) else None
        self._futures: dict[int, asyncio.Future[Outcome]] = {}
        self._queue: Subscription | None = None
        self._listener: asyncio.Task[None] | None = None

    def expecting(self, command_id: int) -> bool:
        return command_id in self._futures

    def expect(self, command_id: int) -> asyncio.Future[Outcome]:
        future = self._futures.get(command_id)
        if future is None:
            future = self._futures[command_id] = self.loop.create_future()
        if self._source is not None and self._listener is None:
            self._queue = self._source.subscribe()
            self._listener = self.loop.create_task(self._listen(), name="opencx-outcomes")
        return future

    def forget(self, command_id: int) -> None:
        self._futures.pop(command_id, None)
        if self._futures or self._listener is None:
            return
        self._listener.cancel()
        self._listener = None
        self._unsubscribe()

    def settle(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            future = self._futures.get(outcome.command_id)
            if future is not None and not future.done():
                future.set_result(outcome)

    async def _listen(self) -> None:
        while self._queue is not None and self._source is not None:
            event = await self._queue.get()
            if event is None:  # dropped by the bus: the waiters' rechecks cover the gap
                self._unsubscribe()
                self._queue = self._source.subscribe()
            elif event.type is EventType.ROUTING_COMMANDS_DONE:
                self.settle(_outcomes_in(event))

    def _unsubscribe(self) -> None:
        if self._queue is not None and self._source is not None:
            self._source.unsubscribe(self._queue)
        self._queue = None


def _outcomes_in(event: DomainEvent) -> list[Outcome]:
    return [Outcome.from_json(data) for data in event.payload.get("outcomes", [])]


def _waiters(ctx: AppContext) -> _Waiters:
    loop = asyncio.get_running_loop()
    waiters = ctx.local.get(_KEY)
    if not isinstance(waiters, _Waiters) or waiters.loop is not loop:
        waiters = ctx.local[_KEY] = _Waiters(ctx, loop)
    return waiters
