"""A supervisor's queues and agents' contacts in hand: the reducers against a model of
the rows they follow (events applied to a view == the view read afresh)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from opencx.core.enums import InteractionState, PresenceState, Role, SiteKind
from opencx.core.events import DomainEvent, EventType
from opencx.core.live_views import (
    AgentStatus,
    QueueStatus,
    SiteStatus,
    SupervisorView,
    WaitingContact,
    apply,
    relevant,
    view_json,
    waiting_since,
)
from opencx.core.permissions import Principal

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
VIEWER = Principal(user_id=100, role=Role.SUPERVISOR, site_id=1)
PARTNER = Principal(user_id=101, role=Role.SUPERVISOR, site_id=2, site_kind=SiteKind.PARTNER)
#: Queues 1 and 2 are shown; 3 is another site's.
QUEUES = {
    1: QueueStatus(1, "Billing", 1, "chat", 20),
    2: QueueStatus(2, "Chat FR", 1, "chat", 30),
}
_I = InteractionState


def agent(user_id: int) -> AgentStatus:
    return AgentStatus(
        user_id, f"Agent {user_id}", Role.AGENT, 1, PresenceState.AVAILABLE, None, T0
    )


def view(**changes: Any) -> SupervisorView:
    return SupervisorView(
        agents={1: agent(1), 2: agent(2)},
        sites={1: SiteStatus(1, "Lyon", SiteKind.INTERNAL, is_open=True)},
        queues=QUEUES,
        **changes,
    )


def event(type_: EventType, kind: str, entity_id: int, **payload: Any) -> DomainEvent:
    return DomainEvent(
        type=type_,
        entity_kind=kind,
        entity_id=entity_id,
        occurred_at=T0,
        payload=payload,
        site_id=1,
    )


# --- waiting contacts: a model of the interactions' rows --------------------------------


@dataclass
class Row:
    state: InteractionState
    queue_id: int | None
    arrived_at: datetime
    queued_at: datetime | None = None
    offered_at: datetime | None = None

    def since(self) -> datetime | None:
        return waiting_since(
            self.state,
            queued_at=self.queued_at,
            offered_at=self.offered_at,
            arrived_at=self.arrived_at,
        )


@dataclass
class Floor:
    """Interactions as the database holds them, and the events their moves record."""

    rows: dict[int, Row] = field(default_factory=dict)
    events: list[DomainEvent] = field(default_factory=list)
    clock: int = 0

    def now(self) -> datetime:
        self.clock += 7
        return T0 + timedelta(seconds=self.clock)

    def create(self, interaction_id: int, queue_id: int | None, state: InteractionState) -> None:
        if interaction_id in self.rows:
            return
        row = Row(state, queue_id, self.now())
        self.rows[interaction_id] = row
        self._stamp(row, state)
        self._record(EventType.INTERACTION_CREATED, interaction_id, row)

    def move(self, interaction_id: int, state: InteractionState, queue_id: int | None) -> None:
        row = self.rows.get(interaction_id)
        if row is None or row.state in (_I.ENDED, _I.ABANDONED):
            return
        if queue_id is not None:
            row.queue_id = queue_id
        row.state = state
        self._stamp(row, state)
        self._record(EventType.INTERACTION_STATE_CHANGED, interaction_id, row)

    def step(self, interaction_id: int, queue_id: int | None) -> None:
        """A routing step of the interaction's task (``task.updated``)."""
        row = self.rows.get(interaction_id)
        if row is None:
            return
        if queue_id is not None:
            row.queue_id = queue_id
        payload: dict[str, Any] = {"interaction_id": interaction_id, "queue_id": queue_id}
        since = row.since()
        if since is not None:
            payload["waiting_since"] = since.isoformat()
        self.events.append(event(EventType.TASK_UPDATED, "task", 500 + interaction_id, **payload))

    def fresh(self) -> dict[int, WaitingContact]:
        found = {}
        for key, row in self.rows.items():
            since = row.since()
            if since is not None and row.queue_id in QUEUES:
                found[key] = WaitingContact(key, row.queue_id, since)
        return found

    def _stamp(self, row: Row, state: InteractionState) -> None:
        now = self.now()
        if state is _I.QUEUED and row.queued_at is None:
            row.queued_at = now
        if state is _I.OFFERED and row.offered_at is None:
            row.offered_at = now

    def _record(self, type_: EventType, interaction_id: int, row: Row) -> None:
        payload: dict[str, Any] = {"state": row.state.value, "queue_id": row.queue_id}
        since = row.since()
        if since is not None:
            payload["waiting_since"] = since.isoformat()
        self.events.append(event(type_, "interaction", interaction_id, **payload))


_IDS = st.integers(1, 4)
_QUEUE_IDS = st.sampled_from([1, 2, 3, None])
_MOVES = st.lists(
    st.one_of(
        st.tuples(st.just("create"), _IDS, _QUEUE_IDS, st.sampled_from([_I.CREATED, _I.QUEUED])),
        st.tuples(st.just("move"), _IDS, _QUEUE_IDS, st.sampled_from(list(InteractionState))),
        st.tuples(st.just("step"), _IDS, _QUEUE_IDS, st.none()),
    ),
    max_size=30,
)


@given(before=_MOVES, after=_MOVES)
def test_events_applied_to_a_stale_view_equal_a_fresh_one(
    before: list[tuple[str, int, int | None, InteractionState | None]],
    after: list[tuple[str, int, int | None, InteractionState | None]],
) -> None:
    floor = Floor()
    play(floor, before)
    stale = view(waiting=floor.fresh())
    floor.events.clear()
    play(floor, after)
    current = stale
    for moved in floor.events:
        if relevant(current, moved, VIEWER):
            current = apply(current, moved)
            assert not current.needs_resync, moved
    assert isinstance(current, SupervisorView)
    assert current.waiting == floor.fresh()


def play(floor: Floor, moves: list[tuple[str, int, int | None, InteractionState | None]]) -> None:
    for kind, interaction_id, queue_id, state in moves:
        if kind == "create" and state is not None:
            floor.create(interaction_id, queue_id, state)
        elif kind == "move" and state is not None:
            floor.move(interaction_id, state, queue_id)
        else:
            floor.step(interaction_id, queue_id)


def test_a_queue_shows_its_waiting_contacts_longest_first() -> None:
    floor = Floor()
    floor.create(1, 1, _I.QUEUED)
    floor.create(2, 1, _I.QUEUED)
    floor.create(3, 3, _I.QUEUED)  # another site's queue
    floor.move(1, _I.OFFERED, 1)  # still waiting: the offer may be declined
    current = view()
    for moved in floor.events:
        current = apply(current, moved) if relevant(current, moved, VIEWER) else current
    [billing, chat] = view_json(current)["queues"]
    assert (billing["name"], chat["waiting"]) == ("Billing", [])
    assert [c["interaction_id"] for c in billing["waiting"]] == [1, 2]
    assert billing["waiting"][0]["since"] == floor.rows[1].queued_at.isoformat()  # type: ignore[union-attr]


def test_a_waiting_event_without_its_since_asks_for_a_resync() -> None:
    moved = event(EventType.INTERACTION_STATE_CHANGED, "interaction", 5, state="queued", queue_id=1)
    assert relevant(view(), moved, VIEWER)
    assert apply(view(), moved).needs_resync


def test_a_queue_change_asks_for_a_resync_and_other_sites_queues_are_not_heard() -> None:
    changed = event(EventType.QUEUE_CHANGED, "queue", 1, action="update")
    assert apply(view(), changed).needs_resync
    elsewhere = DomainEvent(
        type=EventType.QUEUE_CHANGED,
        entity_kind="queue",
        entity_id=9,
        occurred_at=T0,
        payload={},
        site_id=1,
    )
    assert not relevant(view(), elsewhere, PARTNER)
    queued = event(
        EventType.INTERACTION_STATE_CHANGED, "interaction", 5, state="queued", queue_id=3
    )
    assert not relevant(view(), queued, VIEWER)


# --- contacts in hand ------------------------------------------------------------------


def reservation(task_id: int, worker_id: int, state: str) -> DomainEvent:
    return event(
        EventType.RESERVATION_UPDATED,
        "reservation",
        900 + task_id,
        task_id=task_id,
        worker_id=worker_id,
        state=state,
    )


def test_an_agent_holds_a_contact_from_accepting_until_the_offer_ends() -> None:
    current = view()
    for moved in (
        reservation(7, 1, "accepted"),
        reservation(8, 1, "accepted"),
        reservation(9, 2, "accepted"),
        reservation(7, 1, "completed"),  # wrapped up or handed on
        reservation(10, 9, "accepted"),  # someone the view does not show
    ):
        if relevant(current, moved, VIEWER):
            current = apply(current, moved)
    assert isinstance(current, SupervisorView)
    assert current.handling == {8: 1, 9: 2}
    ended = event(EventType.TASK_ENDED, "task", 9, outcome="completed")
    assert relevant(current, ended, VIEWER)
    current = apply(current, ended)
    agents = view_json(current)["agents"]
    assert [a["contacts"] for a in agents] == [[8], []]


def test_a_malformed_reservation_asks_for_a_resync() -> None:
    broken = event(EventType.RESERVATION_UPDATED, "reservation", 1, worker_id=1, state="accepted")
    assert relevant(view(), broken, VIEWER)
    assert apply(view(), broken).needs_resync


def test_sites_show_routing_state() -> None:
    draining = event(
        EventType.SITE_CHANGED,
        "site",
        1,
        action="site.routing_state",
        routing_state="draining",
        is_open="True",
    )
    current = apply(view(), draining)
    assert view_json(current)["sites"][0]["state"] == "draining"
    closed = apply(
        current, event(EventType.SITE_CHANGED, "site", 1, action="site.update", is_open="False")
    )
    assert view_json(closed)["sites"][0]["state"] == "closed"
    reopened = apply(
        closed, event(EventType.SITE_CHANGED, "site", 1, action="site.update", is_open="True")
    )
    assert view_json(reopened)["sites"][0]["state"] == "open"
