"""Live views over WebSockets: a snapshot, then the relevant events in order.

The protocol is in ``docs/realtime.md``; the views and their reducers are pure
(``opencx.core.live_views``). This module reads snapshots from the database and turns
the bus's events into the numbered messages one connection is sent.

Nothing is lost between the snapshot and the events: a feed subscribes to the bus
*before* it reads the snapshot, and drops the events the snapshot already reflects
(``SnapshotMark``, read in the same transaction as the snapshot).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import Unauthenticated
from opencx.core.events import DomainEvent, EventType
from opencx.core.live_views import (
    LIVE_ROLES,
    AgentStatus,
    AgentView,
    OfferStatus,
    SiteStatus,
    SnapshotMark,
    SupervisorView,
    View,
    apply,
    offer_status,
    relevant,
    view_json,
)
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Event, Interaction, RoutingReservation, RoutingTask, Site, User
from opencx.features.context import AppContext, transaction
from opencx.realtime.bus import EventSource, Subscription
from opencx.realtime.codec import event_to_json

__all__ = [
    "CredentialCheck",
    "FeedKind",
    "LiveFeed",
    "open_live_feed",
    "read_agent_view",
    "read_supervisor_view",
]

#: How far below the newest event id a snapshot looks for ids not yet committed.
PENDING_WINDOW = 1000


class FeedKind(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


#: Proves again the credential a connection opened with; raises ``Unauthenticated``.
CredentialCheck = Callable[[], Awaitable[object]]

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

    async def snapshot(self, *, resync: bool = False) -> dict[str, Any]:
        self.view, self._mark = await _read_view(self._ctx, self._viewer, self._kind)
        message: dict[str, Any] = {"type": "snapshot", "seq": self._next_seq()}
        if resync:
            message["resync"] = True
        message["data"] = view_json(self.view)
        return message

    async def next_message(self) -> dict[str, Any]:
        """Wait for the next message to send: an event, or a resync snapshot."""
        while True:
            event = await self._queue.get()
            if event is None:  # the bus dropped our queue: events may have been lost
                self._source.unsubscribe(self._queue)
                self._queue = self._source.subscribe()
                return await self.snapshot(resync=True)
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
        if not relevant(self.view, event, self._viewer):
            return None
        view = apply(self.view, event)
        if view.needs_resync:
            return await self.snapshot(resync=True)
        self.view = view
        return {"type": "event", "seq": self._next_seq(), "event": event_to_json(event)}

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
    ctx: AppContext, viewer: Principal, kind: FeedKind, *, recheck: CredentialCheck | None = None
) -> AsyncIterator[tuple[LiveFeed, dict[str, Any]]]:
    """Subscribe, then read the snapshot; yields the feed and the snapshot message."""
    require(viewer, _PERMISSION[kind])
    feed = LiveFeed(ctx, viewer, kind, _event_source(ctx), recheck)
    try:
        first = await feed.snapshot()
        yield feed, first
    finally:
        feed.close()


async def read_agent_view(ctx: AppContext, viewer: Principal) -> tuple[AgentView, SnapshotMark]:
    async with _snapshot_transaction(ctx) as session:
        user = await session.get(User, viewer.user_id)
        if user is None or not user.is_active:
            raise Unauthenticated("your account is no longer active; sign in again")
        return AgentView(me=_status(user), offers=await _offers(session, user.id)), await _mark(
            session
        )


async def read_supervisor_view(
    ctx: AppContext, viewer: Principal
) -> tuple[SupervisorView, SnapshotMark]:
    require(viewer, Permission.SUPERVISE)
    users = select(User).where(User.is_active.is_(True), User.role.in_(LIVE_ROLES))
    sites = select(Site)
    visible = viewer.visible_site_ids
    if visible is not None:
        users = users.where(User.site_id.in_(visible))
        sites = sites.where(Site.id.in_(visible))
    async with _snapshot_transaction(ctx) as session:
        agents = {user.id: _status(user) for user in await session.scalars(users)}
        site_rows = {
            site.id: SiteStatus(site.id, site.name, site.kind, site.is_open)
            for site in await session.scalars(sites)
        }
        view = SupervisorView(agents=agents, sites=site_rows)
        return view, await _mark(session)


async def _read_view(
    ctx: AppContext, viewer: Principal, kind: FeedKind
) -> tuple[View, SnapshotMark]:
    if kind is FeedKind.SUPERVISOR:
        return await read_supervisor_view(ctx, viewer)
    return await read_agent_view(ctx, viewer)


@asynccontextmanager
async def _snapshot_transaction(ctx: AppContext) -> AsyncIterator[AsyncSession]:
    """One consistent read: PostgreSQL's default isolation would let each statement
    see a different moment; SQLite's transactions are serialised already."""
    async with transaction(ctx) as session:
        if ctx.engine.dialect.name == "postgresql":
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session


async def _mark(session: AsyncSession) -> SnapshotMark:
    last = await session.scalar(select(func.max(Event.id))) or 0
    floor = max(last - PENDING_WINDOW, 0)
    seen = set(await session.scalars(select(Event.id).where(Event.id > floor)))
    return SnapshotMark(last, frozenset(range(floor + 1, last + 1)) - seen)


async def _offers(session: AsyncSession, user_id: int) -> dict[int, OfferStatus]:
    stmt = (
        select(RoutingReservation, RoutingTask, Interaction.conversation_id)
        .join(RoutingTask, RoutingTask.id == RoutingReservation.task_id)
        .join(Interaction, Interaction.id == RoutingTask.interaction_id)
        .where(RoutingReservation.worker_id == user_id, RoutingReservation.state == "pending")
    )
    offers: dict[int, OfferStatus] = {}
    for reservation, task, conversation_id in await session.execute(stmt):
        offer = offer_status(
            {
                "reservation_id": reservation.id,
                "task_id": task.id,
                "interaction_id": task.interaction_id,
                "conversation_id": conversation_id,
                "channel": task.channel.value,
                "queue_id": reservation.queue_id,
                "expires_at": reservation.expires_at.astimezone(UTC).isoformat(),
                "callback": reservation.callback,
            }
        )
        if offer is not None:
            offers[offer.reservation_id] = offer
    return offers


def _status(user: User) -> AgentStatus:
    return AgentStatus(
        user_id=user.id,
        display_name=user.display_name,
        role=user.role,
        site_id=user.site_id,
        presence=user.presence,
        reason=user.presence_reason,
        since=user.presence_since,
    )


def _event_source(ctx: AppContext) -> EventSource:
    if isinstance(ctx.publisher, EventSource):
        return ctx.publisher
    raise RuntimeError(
        f"live views need an event bus, but the publisher is {type(ctx.publisher).__name__}"
    )
