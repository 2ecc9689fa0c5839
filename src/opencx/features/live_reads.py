"""Reading live views from the database: snapshots, and the details of an event that a
view needs and the event does not carry (``core.live_views.needs_details``).

Rules:
- a snapshot is read in one consistent transaction, with the ``SnapshotMark`` of the
  events it reflects;
- an agent's work in hand is what the reducers build from events: tasks assigned to
  them (``held`` when the interaction is on hold, else ``active``, since the
  reservation was accepted), and tasks they completed whose interaction is still in
  wrap-up (until the router's wrap-up of the task ends);
- an offer's ``transfer_note`` is the note of the transfer that ended the task's last
  handling (none when that transfer carried none, or the task was never handed on);
- an offer's and a work item's customer is named by ``core.identities.customer_label``;
- a supervisor's queues are those of the sites they see; their waiting contacts are the
  interactions queued or offered in them (``core.live_views.waiting_since``), and an
  agent's contacts in hand are the tasks assigned to them through an accepted offer;
- a queue's members are the agents shown that routing's membership rule takes
  (``core.routing.membership.serves``), with their capacity on its channel; its
  thresholds are its ``queue_thresholds`` row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from opencx.core.enums import (
    HelpRequestState,
    IdentityKind,
    InteractionState,
    ReservationState,
    TaskStatus,
)
from opencx.core.errors import Unauthenticated
from opencx.core.events import DomainEvent, EventType
from opencx.core.identities import customer_label
from opencx.core.live_views import (
    LIVE_ROLES,
    WAITING_STATES,
    AgentStatus,
    AgentView,
    HelpRequestStatus,
    OfferStatus,
    QueueStatus,
    SiteStatus,
    SnapshotMark,
    SupervisorView,
    View,
    WaitingContact,
    WorkItem,
    WorkState,
    help_request_json,
    needs_details,
    offer_json,
    offer_status,
    waiting_since,
)
from opencx.core.permissions import Permission, Principal, require
from opencx.core.routing.membership import serves
from opencx.db.models import (
    Conversation,
    ConversationNote,
    Customer,
    CustomerIdentity,
    Event,
    HelpRequest,
    Interaction,
    Queue,
    QueueThreshold,
    RoutingReservation,
    RoutingTask,
    RoutingWorker,
    Site,
    User,
)
from opencx.features.context import AppContext, transaction
from opencx.features.directory.thresholds import thresholds_of
from opencx.features.routing.state import load_workers, queue_spec, to_datetime

__all__ = ["read_agent_view", "read_details", "read_supervisor_view"]

#: How far below the newest event id a snapshot looks for ids not yet committed.
PENDING_WINDOW = 1000


async def read_agent_view(ctx: AppContext, viewer: Principal) -> tuple[AgentView, SnapshotMark]:
    async with _snapshot_transaction(ctx) as session:
        user = await session.get(User, viewer.user_id)
        if user is None or not user.is_active:
            raise Unauthenticated("your account is no longer active; sign in again")
        offers = [offer_status(data) for data in await _offers(session, user_id=user.id)]
        view = AgentView(
            me=_status(user),
            offers={o.reservation_id: o for o in offers if o is not None},
            conversations={item.task_id: item for item in await _work(session, user.id)},
            help_pending=frozenset(await _open_help_ids(session, user.id)),
        )
        return view, await _mark(session)


async def read_supervisor_view(
    ctx: AppContext, viewer: Principal
) -> tuple[SupervisorView, SnapshotMark]:
    require(viewer, Permission.SUPERVISE)
    users = select(User).where(User.is_active.is_(True), User.role.in_(LIVE_ROLES))
    sites = select(Site)
    help_requests = select(HelpRequest).where(HelpRequest.state == HelpRequestState.OPEN)
    queues = select(Queue)
    visible = viewer.visible_site_ids
    if visible is not None:
        users = users.where(User.site_id.in_(visible))
        sites = sites.where(Site.id.in_(visible))
        help_requests = help_requests.where(HelpRequest.site_id.in_(visible))
        queues = queues.where(Queue.site_id.in_(visible))
    async with _snapshot_transaction(ctx) as session:
        agents = {user.id: _status(user) for user in await session.scalars(users)}
        site_rows = {
            site.id: SiteStatus(site.id, site.name, site.kind, site.is_open, site.routing_state)
            for site in await session.scalars(sites)
        }
        requests = {row.id: _help_status(row) for row in await session.scalars(help_requests)}
        queue_rows = await _queue_statuses(
            session, ctx, list(await session.scalars(queues)), set(agents)
        )
        view = SupervisorView(
            agents=agents,
            sites=site_rows,
            help_requests=requests,
            queues=queue_rows,
            waiting=await _waiting(session, set(queue_rows)),
            handling=await _handling(session, set(agents)),
        )
        return view, await _mark(session)


async def read_details(ctx: AppContext, view: View, event: DomainEvent) -> dict[str, Any] | None:
    """What ``view`` needs to apply ``event`` beside its payload (``needs_details``): the
    offer a ``reservation.created`` makes, as a snapshot shows it; the help request a
    ``help.requested`` opens. ``None`` when it needs none, or it is gone."""
    if not needs_details(view, event):
        return None
    async with transaction(ctx) as session:
        if isinstance(view, AgentView):
            found = await _offers(session, user_id=view.me.user_id, reservation_id=event.entity_id)
            return found[0] if found else None
        if event.type is EventType.HELP_REQUESTED:
            row = await session.get(HelpRequest, event.entity_id)
            return help_request_json(_help_status(row)) if row is not None else None
    return None


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


# --- offers ----------------------------------------------------------------------------


async def _offers(
    session: AsyncSession, *, user_id: int, reservation_id: int | None = None
) -> list[dict[str, Any]]:
    """The agent's pending offers (or the one named, whatever its state), as JSON."""
    stmt = _contact_rows().where(RoutingReservation.worker_id == user_id)
    if reservation_id is None:
        stmt = stmt.where(RoutingReservation.state == ReservationState.PENDING)
    else:
        stmt = stmt.where(RoutingReservation.id == reservation_id)
    rows = (await session.execute(stmt.order_by(RoutingReservation.id))).all()
    names = await _customer_names(session, {row.customer_id for row in rows})
    notes = await _transfer_notes(session, [row.RoutingTask.id for row in rows])
    offers = []
    for row in rows:
        reservation, task = row.RoutingReservation, row.RoutingTask
        offer = OfferStatus(
            reservation_id=reservation.id,
            task_id=task.id,
            interaction_id=task.interaction_id,
            conversation_id=row.Interaction.conversation_id,
            channel=task.channel.value,
            queue_id=reservation.queue_id,
            expires_at=_iso(reservation.expires_at),
            callback=reservation.callback,
            customer_id=row.customer_id,
            customer_name=names.get(row.customer_id),
            queue_name=row.queue_name,
            waiting_since=_iso(task.created_at),
            auto_accept=bool(row.auto_accept),
            transfer_note=notes.get(task.id),
            subject=row.subject or None,
        )
        offers.append(offer_json(offer))
    return offers


def _contact_rows() -> Select[RoutingReservation, RoutingTask, Interaction, int, str, str, bool]:
    """Reservations with their task, interaction, conversation's customer and subject,
    and queue."""
    return (
        select(
            RoutingReservation,
            RoutingTask,
            Interaction,
            Conversation.customer_id,
            Conversation.subject,
            Queue.name.label("queue_name"),
            Queue.auto_accept,
        )
        .join(RoutingTask, RoutingTask.id == RoutingReservation.task_id)
        .join(Interaction, Interaction.id == RoutingTask.interaction_id)
        .join(Conversation, Conversation.id == Interaction.conversation_id)
        .outerjoin(Queue, Queue.id == RoutingReservation.queue_id)
    )


_HANDED = aliased(RoutingReservation)


async def _transfer_notes(session: AsyncSession, task_ids: Iterable[int]) -> dict[int, str]:
    """Per task, the note of the transfer that ended its last handling, if it had one."""
    wanted = sorted(set(task_ids))
    if not wanted:
        return {}
    last_handled = (
        select(func.max(_HANDED.id))
        .where(
            _HANDED.task_id == ConversationNote.task_id, _HANDED.state == ReservationState.COMPLETED
        )
        .correlate(ConversationNote)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(ConversationNote.task_id, ConversationNote.body).where(
            ConversationNote.task_id.in_(wanted),
            ConversationNote.transfer.is_(True),
            ConversationNote.reservation_id == last_handled,
        )
    )
    return {task_id: body for task_id, body in rows if task_id is not None}


async def _customer_names(
    session: AsyncSession, customer_ids: Iterable[int]
) -> dict[int, str | None]:
    wanted = sorted(set(customer_ids))
    if not wanted:
        return {}
    stmt = select(Customer.id, Customer.display_name).where(Customer.id.in_(wanted))
    names: dict[int, str] = dict((await session.execute(stmt)).all())
    nameless = sorted(customer for customer, name in names.items() if not name.strip())
    identities: dict[int, list[tuple[IdentityKind, str, bool]]] = {}
    if nameless:
        rows = await session.execute(
            select(
                CustomerIdentity.customer_id,
                CustomerIdentity.kind,
                CustomerIdentity.value,
                CustomerIdentity.confirmed,
            )
            .where(CustomerIdentity.customer_id.in_(nameless))
            .order_by(CustomerIdentity.id)
        )
        for customer_id, kind, value, confirmed in rows:
            identities.setdefault(customer_id, []).append((kind, value, confirmed))
    return {c: customer_label(name, identities.get(c, [])) for c, name in names.items()}


# --- work in hand ------------------------------------------------------------------------


async def _work(session: AsyncSession, user_id: int) -> list[WorkItem]:
    mine = and_(RoutingTask.worker_id == user_id, RoutingReservation.worker_id == user_id)
    assigned = _contact_rows().where(
        mine,
        RoutingTask.status == TaskStatus.ASSIGNED,
        RoutingReservation.state == ReservationState.ACCEPTED,
    )
    wrapping = _contact_rows().where(
        mine,
        Interaction.agent_id == user_id,
        Interaction.state == InteractionState.WRAP_UP,
        RoutingTask.status == TaskStatus.COMPLETED,
        RoutingReservation.state == ReservationState.COMPLETED,
    )
    rows = [
        *(await session.execute(assigned)).all(),
        *(await session.execute(wrapping.order_by(RoutingReservation.id))).all(),
    ]
    names = await _customer_names(session, {row.customer_id for row in rows})
    wraps = await _wraps(session, user_id)
    items: dict[int, WorkItem] = {}
    for row in rows:  # a task's latest reservation wins
        reservation, task, interaction = row.RoutingReservation, row.RoutingTask, row.Interaction
        state = _work_state(interaction.state)
        items[task.id] = WorkItem(
            task_id=task.id,
            interaction_id=interaction.id,
            conversation_id=interaction.conversation_id,
            channel=task.channel.value,
            queue_id=reservation.queue_id,
            queue_name=row.queue_name,
            customer_id=row.customer_id,
            customer_name=names.get(row.customer_id),
            subject=row.subject or None,
            state=state,
            since=_accepted_at(reservation, task),
            wrap_up_until=wraps.get(task.id) if state is WorkState.WRAP_UP else None,
        )
    return list(items.values())


def _work_state(state: InteractionState) -> WorkState:
    if state is InteractionState.WRAP_UP:
        return WorkState.WRAP_UP
    return WorkState.HELD if state is InteractionState.HELD else WorkState.ACTIVE


def _accepted_at(reservation: RoutingReservation, task: RoutingTask) -> datetime:
    """When the agent accepted it (reservations accepted before this was kept fall back
    on the task's, then the offer's time)."""
    moment = reservation.accepted_at or task.accepted_at or reservation.offered_at
    return moment.astimezone(UTC)


async def _wraps(session: AsyncSession, user_id: int) -> dict[int, datetime]:
    """The router's wrap-ups of the agent: until when, per task."""
    row = await session.get(RoutingWorker, user_id)
    found: dict[int, datetime] = {}
    for wrap in row.wraps if row is not None else []:
        try:
            found[int(wrap["task_id"])] = to_datetime(float(wrap["until"]))
        except (KeyError, TypeError, ValueError):
            continue
    return found


# --- queues ------------------------------------------------------------------------------


async def _queue_statuses(
    session: AsyncSession, ctx: AppContext, queues: list[Queue], agent_ids: set[int]
) -> dict[int, QueueStatus]:
    """The queues with their members among the agents shown, and thresholds."""
    if not queues:
        return {}
    ids = sorted(queue.id for queue in queues)
    limits = {
        row.queue_id: row
        for row in await session.scalars(
            select(QueueThreshold).where(QueueThreshold.queue_id.in_(ids))
        )
    }
    members: dict[int, dict[int, int]] = {queue.id: {} for queue in queues}
    specs = [queue_spec(queue) for queue in queues]
    channels = {queue.id: queue.channel for queue in queues}
    workers = await load_workers(session, ctx.settings.routing)
    for worker_id, (worker, _presence) in workers.items():
        if worker_id not in agent_ids:
            continue
        for queue_id in serves(worker, specs):
            members[queue_id][worker_id] = worker.capacity.get(channels[queue_id], 0)
    found: dict[int, QueueStatus] = {}
    for queue in queues:
        found[queue.id] = QueueStatus(
            queue_id=queue.id,
            name=queue.name,
            site_id=queue.site_id,
            channel=queue.channel.value,
            service_level_seconds=queue.service_level_seconds,
            members=members[queue.id],
            expected_handle_seconds=float(queue.expected_handle_seconds),
            thresholds=thresholds_of(limits.get(queue.id)),
        )
    return found


async def _waiting(session: AsyncSession, queue_ids: set[int]) -> dict[int, WaitingContact]:
    """The contacts waiting in those queues, by interaction."""
    if not queue_ids:
        return {}
    rows = await session.execute(
        select(
            Interaction.id,
            Interaction.queue_id,
            Interaction.state,
            Interaction.queued_at,
            Interaction.offered_at,
            Interaction.arrived_at,
        ).where(
            Interaction.state.in_(sorted(WAITING_STATES)),
            Interaction.queue_id.in_(sorted(queue_ids)),
        )
    )
    found: dict[int, WaitingContact] = {}
    for row in rows:
        since = waiting_since(
            row.state, queued_at=row.queued_at, offered_at=row.offered_at, arrived_at=row.arrived_at
        )
        if since is not None and row.queue_id is not None:
            found[row.id] = WaitingContact(row.id, row.queue_id, since.astimezone(UTC))
    return found


async def _handling(session: AsyncSession, agent_ids: set[int]) -> dict[int, int]:
    """The tasks the agents have in hand (an accepted offer): task id: agent id."""
    if not agent_ids:
        return {}
    rows = await session.execute(
        select(RoutingReservation.task_id, RoutingReservation.worker_id)
        .join(RoutingTask, RoutingTask.id == RoutingReservation.task_id)
        .where(
            RoutingReservation.state == ReservationState.ACCEPTED,
            RoutingTask.status == TaskStatus.ASSIGNED,
            RoutingReservation.worker_id.in_(sorted(agent_ids)),
        )
    )
    return {int(task_id): int(worker_id) for task_id, worker_id in rows}


# --- help requests -----------------------------------------------------------------------


async def _open_help_ids(session: AsyncSession, user_id: int) -> list[int]:
    stmt = select(HelpRequest.id).where(
        HelpRequest.agent_id == user_id, HelpRequest.state == HelpRequestState.OPEN
    )
    return list(await session.scalars(stmt))


def _help_status(row: HelpRequest) -> HelpRequestStatus:
    return HelpRequestStatus(
        help_request_id=row.id,
        conversation_id=row.conversation_id,
        agent_id=row.agent_id,
        site_id=row.site_id,
        question=row.question,
        created_at=row.created_at.astimezone(UTC),
    )


def _status(user: User) -> AgentStatus:
    return AgentStatus(
        user_id=user.id,
        display_name=user.display_name,
        role=user.role,
        site_id=user.site_id,
        presence=user.presence,
        reason=user.presence_reason,
        since=user.presence_since,
        simulated=user.simulated,
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
