"""Live views over WebSockets: a snapshot, then the relevant events in order.

The protocol is in ``docs/realtime.md``; the views and their reducers are pure
(``opencx.core.live_views``), their snapshots and events' details are read by
``opencx.features.live_reads``. This module turns the bus's events into the numbered
messages one connection is sent.

Nothing is lost between the snapshot and the events: a feed subscribes to the bus
*before* it reads the snapshot, and drops the events the snapshot already reflects
(``SnapshotMark``, read in the same transaction as the snapshot).

An agent's feed hears every event only until its view is up to date with all it was
handed (its queue is empty); then it listens only on its view's keys
(``opencx.core.live_routes``), and again each time its queue runs empty, so that the bus
hands it only what may concern it. Any resync hears everything again until it is up to
date.

A desktop that follows its inbox (``inbox=True``) also hears routing's steps in the
queues it serves and is sent ``{"type": "inbox", "views": [...]}`` when they may have
changed its ``waiting`` or ``team`` view: no conversation data, at most one a second
(``INBOX_EVERY``), after the events that caused it. The desktop reads the view again,
through the inbox's own permission checks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any

from opencx.core.events import DomainEvent, EventType
from opencx.core.live_routes import agent_interests, inbox_keys, inbox_views_touched
from opencx.core.live_views import AgentView, SnapshotMark, View, apply, relevant, view_json
from opencx.core.permissions import Permission, Principal, require
from opencx.features.context import AppContext
from opencx.features.inbox.eligibility import read_served_queues
from opencx.features.live_reads import read_agent_view, read_details, read_supervisor_view
from opencx.realtime.bus import EventSource, Subscription
from opencx.realtime.codec import event_to_json

__all__ = [
    "CredentialCheck",
    "FeedKind",
    "LiveFeed",
    "open_live_feed",
    "read_agent_view",
    "read_details",
    "read_supervisor_view",
]


class FeedKind(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


#: Proves again the credential a connection opened with; raises ``Unauthenticated``.
CredentialCheck = Callable[[], Awaitable[object]]

#: Seconds between two inbox notices to one desktop: a busy queue must not flood it.
INBOX_EVERY = 1.0

_PERMISSION = {
    FeedKind.AGENT: Permission.PRESENCE_SET_OWN,
    FeedKind.SUPERVISOR: Permission.SUPERVISE,
}


class LiveFeed:
    """One connection's stream: a snapshot, then ``next_message`` again and again.

    It subscribes when made, before its first snapshot is read. When the viewer's
    sessions or tokens end (``user.access_ended``), ``recheck`` proves the connection's
    own credential again: its ``Unauthenticated`` ends the feed."""

    def __init__(
        self,
        ctx: AppContext,
        viewer: Principal,
        kind: FeedKind,
        source: EventSource,
        recheck: CredentialCheck | None = None,
        *,
        inbox: bool = False,
    ) -> None:
        self._ctx = ctx
        self._recheck = recheck
        self._viewer = viewer
        self._kind = kind
        self._source = source
        self._queue: Subscription = source.subscribe()
        self._seq = -1
        self.view: View | None = None
        self._mark = SnapshotMark(0)
        self._follows_inbox = inbox and kind is FeedKind.AGENT
        self._inbox_queues: frozenset[int] | None = frozenset()
        self._inbox_pending: set[str] = set()
        self._inbox_sent = float("-inf")

    async def snapshot(self, *, resync: bool = False) -> dict[str, Any]:
        self.view, self._mark = await _read_view(self._ctx, self._viewer, self._kind)
        if self._follows_inbox:
            self._inbox_queues = await read_served_queues(self._ctx, self._viewer)
            self._inbox_pending.clear()  # the desktop reads its views again on a snapshot
        message: dict[str, Any] = {"type": "snapshot", "seq": self._next_seq()}
        if resync:
            message["resync"] = True
        message["data"] = view_json(self.view)
        return message

    async def next_message(self) -> dict[str, Any]:
        """Wait for the next message to send: an event, or a resync snapshot."""
        while True:
            if self._queue.empty():
                self._narrow()
                if self._inbox_pending:
                    due = self._inbox_sent + INBOX_EVERY - time.monotonic()
                    if due <= 0:
                        return self._inbox_notice()
                    try:
                        async with asyncio.timeout(due):
                            event = await self._queue.get()
                    except TimeoutError:
                        return self._inbox_notice()
                else:
                    event = await self._queue.get()
            else:
                event = self._queue.get_nowait()
            if event is None:  # the bus dropped our queue: events may have been lost
                return await self._resync()
            if self._recheck is not None and self._ends_my_access(event):
                await self._recheck()
            message = await self._consider(event)
            if message is not None:
                return message

    def close(self) -> None:
        self._source.unsubscribe(self._queue)

    async def _consider(self, event: DomainEvent) -> dict[str, Any] | None:
        assert self.view is not None, "snapshot() comes first"
        if event.id is not None and self._mark.covers(event.id):
            return None
        if self._follows_inbox:
            self._inbox_pending.update(inbox_views_touched(self._inbox_queues, event))
        if not relevant(self.view, event, self._viewer):
            return None
        details = await read_details(self._ctx, self.view, event)
        view = apply(self.view, event, details)
        if view.needs_resync or not self._hears_all_of(view):
            return await self._resync()
        self.view = view
        message = {"type": "event", "seq": self._next_seq(), "event": event_to_json(event)}
        if details is not None:
            message["details"] = details
        return message

    async def _resync(self) -> dict[str, Any]:
        """A fresh snapshot, hearing every event again until it is up to date."""
        self._source.unsubscribe(self._queue)
        self._queue = self._source.subscribe()
        return await self.snapshot(resync=True)

    def _inbox_notice(self) -> dict[str, Any]:
        self._inbox_sent = time.monotonic()
        views = sorted(self._inbox_pending)
        self._inbox_pending.clear()
        return {"type": "inbox", "seq": self._next_seq(), "views": views}

    def _narrow(self) -> None:
        """Up to date with every event handed so far: listen only on the view's keys."""
        if isinstance(self.view, AgentView):
            keys = agent_interests(self.view)
            if self._follows_inbox:
                keys |= inbox_keys(self._inbox_queues)
            self._source.listen_on(self._queue, keys)

    def _hears_all_of(self, view: View) -> bool:
        """Whether the bus hands this feed every event ``view`` may need: its keys grew
        with the events it was handed, never past what those events announced."""
        keys = self._source.keys_of(self._queue)
        return keys is None or not isinstance(view, AgentView) or agent_interests(view) <= keys

    def _ends_my_access(self, event: DomainEvent) -> bool:
        return (
            event.type is EventType.USER_ACCESS_ENDED
            and event.entity_kind == "user"
            and event.entity_id == self._viewer.user_id
        )

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq


@asynccontextmanager
async def open_live_feed(
    ctx: AppContext,
    viewer: Principal,
    kind: FeedKind,
    *,
    recheck: CredentialCheck | None = None,
    inbox: bool = False,
) -> AsyncIterator[tuple[LiveFeed, dict[str, Any]]]:
    """Subscribe, then read the snapshot; yields the feed and the snapshot message."""
    require(viewer, _PERMISSION[kind])
    feed = LiveFeed(ctx, viewer, kind, _event_source(ctx), recheck, inbox=inbox)
    try:
        first = await feed.snapshot()
        yield feed, first
    finally:
        feed.close()


async def _read_view(
    ctx: AppContext, viewer: Principal, kind: FeedKind
) -> tuple[View, SnapshotMark]:
    if kind is FeedKind.SUPERVISOR:
        return await read_supervisor_view(ctx, viewer)
    return await read_agent_view(ctx, viewer)


def _event_source(ctx: AppContext) -> EventSource:
    if isinstance(ctx.publisher, EventSource):
        return ctx.publisher
    raise RuntimeError(
        f"live views need an event bus, but the publisher is {type(ctx.publisher).__name__}"
    )
