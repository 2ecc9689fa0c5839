"""The cockpit's pure rules: a queue's thresholds crossed (``core.alerts``), its members
by state and the estimated wait of a newcomer (``core._live_queues.staffing``), as the
supervisor's snapshot shows them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.core import kpis
from opencx.core._live_queues import Staffing, estimated_wait, staffing
from opencx.core.alerts import Breach, Thresholds, breaches
from opencx.core.enums import PresenceState, Role, SiteKind
from opencx.core.live_views import (
    AgentStatus,
    QueueStatus,
    SiteStatus,
    SupervisorView,
    WaitingContact,
    view_json,
)
from opencx.core.routing.wait_time import wait_at_position

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_P = PresenceState

# --- thresholds -------------------------------------------------------------------------


def test_each_threshold_is_crossed_only_strictly_beyond_it() -> None:
    limits = Thresholds(max_waiting=3, max_longest_wait_seconds=60, min_service_level=0.8)
    calm = breaches(limits, waiting=3, longest_wait_seconds=60, service_level=0.8)
    assert calm == ()
    crossed = breaches(limits, waiting=4, longest_wait_seconds=61, service_level=0.79)
    assert crossed == (Breach.WAITING, Breach.LONGEST_WAIT, Breach.SERVICE_LEVEL)


def test_a_figure_not_known_yet_crosses_nothing() -> None:
    limits = Thresholds(max_longest_wait_seconds=1, min_service_level=1.0)
    assert breaches(limits, waiting=0, longest_wait_seconds=None, service_level=None) == ()


def test_a_threshold_of_zero_waiting_alerts_on_the_first_contact() -> None:
    limits = Thresholds(max_waiting=0)
    assert breaches(limits, waiting=0, longest_wait_seconds=None, service_level=None) == ()
    assert breaches(limits, waiting=1, longest_wait_seconds=0, service_level=None) == (
        Breach.WAITING,
    )


figures = st.fixed_dictionaries(
    {
        "waiting": st.integers(0, 500),
        "longest_wait_seconds": st.none() | st.floats(0, 10_000),
        "service_level": st.none() | st.floats(0, 1),
    }
)
limits = st.builds(
    Thresholds,
    st.none() | st.integers(0, 500),
    st.none() | st.integers(1, 10_000),
    st.none() | st.floats(0, 1),
)


@given(figures)
def test_no_threshold_set_crosses_nothing(now: dict[str, object]) -> None:
    assert breaches(Thresholds(), **now) == ()  # type: ignore[arg-type]


@given(limits, figures, st.integers(0, 100))
def test_more_contacts_waiting_never_clears_an_alert(
    thresholds: Thresholds, now: dict[str, object], more: int
) -> None:
    before = set(breaches(thresholds, **now))  # type: ignore[arg-type]
    worse = {**now, "waiting": int(now["waiting"]) + more}  # type: ignore[call-overload]
    assert before <= set(breaches(thresholds, **worse))


@given(limits, figures)
def test_an_alert_names_a_threshold_that_is_set(
    thresholds: Thresholds, now: dict[str, object]
) -> None:
    set_ = {
        Breach.WAITING: thresholds.max_waiting,
        Breach.LONGEST_WAIT: thresholds.max_longest_wait_seconds,
        Breach.SERVICE_LEVEL: thresholds.min_service_level,
    }
    for breach in breaches(thresholds, **now):  # type: ignore[arg-type]
        assert set_[breach] is not None


# --- staffing and estimated wait ------------------------------------------------------------


def test_members_are_counted_by_state_and_offline_ones_not_at_all() -> None:
    counted = staffing(
        [
            (_P.AVAILABLE, 0, 2),  # available, free
            (_P.AVAILABLE, 1, 2),  # busy, and still free for a second chat
            (_P.AVAILABLE, 2, 2),  # busy, full
            (_P.NOT_READY, 1, 2),  # busy finishing a contact while not ready
            (_P.NOT_READY, 0, 2),  # away
            (_P.OFFLINE, 0, 2),  # not counted
        ]
    )
    assert counted == Staffing(available=1, busy=3, away=1, free=2, slots=10)


members = st.lists(
    st.tuples(st.sampled_from(list(PresenceState)), st.integers(0, 3), st.integers(0, 3)),
    max_size=30,
)


@given(members)
def test_every_logged_in_member_is_in_exactly_one_state(
    found: list[tuple[PresenceState, int, int]],
) -> None:
    counted = staffing(found)
    logged_in = [m for m in found if m[0] is not PresenceState.OFFLINE]
    assert counted.available + counted.busy + counted.away == len(logged_in)
    assert counted.free <= counted.available + counted.busy
    assert counted.slots == sum(slots for _, _, slots in logged_in)


def test_the_estimated_wait_is_routing_formula_at_the_next_place() -> None:
    queue = QueueStatus(1, "Billing", 1, "chat", 20, expected_handle_seconds=240.0)
    staffed = Staffing(available=0, busy=2, away=0, free=0, slots=4)
    assert estimated_wait(queue, staffed, 3) == wait_at_position(4, free=0, slots=4, aht=240.0)
    assert estimated_wait(queue, staffed, 3) == pytest.approx(240.0)
    # the day's AHT, where the report knows it, comes before the expected time
    assert estimated_wait(queue, staffed, 3, aht=100.0) == pytest.approx(100.0)
    assert estimated_wait(queue, Staffing(available=1, free=1, slots=1), 0) == 0.0
    assert estimated_wait(queue, Staffing(), 5) is None  # nobody logged in


def agent(user_id: int, presence: PresenceState) -> AgentStatus:
    return AgentStatus(user_id, f"Agent {user_id}", Role.AGENT, 1, presence, None, T0)


def test_the_snapshot_shows_each_queue_members_by_state() -> None:
    queue = QueueStatus(
        1,
        "Billing",
        1,
        "chat",
        20,
        members={1: 1, 2: 1, 3: 1},
        expected_handle_seconds=300.0,
        thresholds=Thresholds(max_waiting=1),
    )
    view = SupervisorView(
        agents={1: agent(1, _P.AVAILABLE), 2: agent(2, _P.AVAILABLE), 3: agent(3, _P.OFFLINE)},
        sites={1: SiteStatus(1, "Lyon", SiteKind.INTERNAL, is_open=True)},
        queues={1: queue},
        waiting={9: WaitingContact(9, 1, T0), 10: WaitingContact(10, 1, T0)},
        handling={50: 2},  # agent 2 has a chat in hand: busy, full
    )
    shown = view_json(view)["queues"][0]
    assert shown["agents"] == {"available": 1, "busy": 1, "away": 0}
    assert shown["expected_handle_seconds"] == 300.0
    assert shown["members"] == [
        {"user_id": 1, "slots": 1},
        {"user_id": 2, "slots": 1},
        {"user_id": 3, "slots": 1},
    ]
    assert shown["thresholds"] == {
        "max_waiting": 1,
        "max_longest_wait_seconds": None,
        "min_service_level": None,
    }


# --- occupancy --------------------------------------------------------------------------------


@given(st.floats(0, 1e6), st.floats(0, 1e6))
def test_occupancy_is_a_share_of_available_time_or_unknown(busy: float, available: float) -> None:
    found = kpis.occupancy(kpis.Counters(busy_seconds=busy, available_seconds=available))
    if available == 0:
        assert found is None
    else:
        assert found is not None
        assert 0 <= found <= 1
        assert found == pytest.approx(min(1.0, busy / available))
