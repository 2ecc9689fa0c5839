"""The lifecycle tables: every state reachable, terminal states final, and no sequence of
moves through ``check_transition`` or ``next_status`` ever leaves its table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.core.enums import (
    ConversationStatus,
    HelpRequestState,
    InteractionState,
    PresenceState,
    ReservationState,
    TaskStatus,
)
from opencx.core.errors import IllegalTransition
from opencx.core.lifecycles import (
    CONVERSATION_TRANSITIONS,
    HELP_REQUEST_TRANSITIONS,
    INTERACTION_TRANSITIONS,
    LIVE_RESERVATION_STATES,
    LIVE_TASK_STATUSES,
    PRESENCE_TRANSITIONS,
    RESERVATION_TRANSITIONS,
    ROUTED_TASK_STATUSES,
    TASK_EVENTS,
    TASK_TRANSITIONS,
    TaskEvent,
    check_transition,
    next_status,
)

_TABLES: list[tuple[Mapping[StrEnum, frozenset[StrEnum]], StrEnum]] = [
    (INTERACTION_TRANSITIONS, InteractionState.CREATED),  # type: ignore[list-item]
    (TASK_TRANSITIONS, TaskStatus.NEW),  # type: ignore[list-item]
    (RESERVATION_TRANSITIONS, ReservationState.PENDING),  # type: ignore[list-item]
    (PRESENCE_TRANSITIONS, PresenceState.OFFLINE),  # type: ignore[list-item]
    (CONVERSATION_TRANSITIONS, ConversationStatus.OPEN),  # type: ignore[list-item]
    (HELP_REQUEST_TRANSITIONS, HelpRequestState.OPEN),  # type: ignore[list-item]
]


def reachable(table: Mapping[StrEnum, Iterable[StrEnum]], start: StrEnum) -> set[StrEnum]:
    seen = {start}
    frontier = [start]
    while frontier:
        for nxt in table[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen


@pytest.mark.parametrize(("table", "initial"), _TABLES)
def test_every_state_has_a_row_and_is_reachable_from_the_initial_one(
    table: Mapping[StrEnum, frozenset[StrEnum]], initial: StrEnum
) -> None:
    states = set(type(initial))
    assert set(table) == states
    assert reachable(table, initial) == states
    for targets in table.values():
        assert targets <= states


def test_terminal_states_have_no_exits() -> None:
    assert not TASK_TRANSITIONS[TaskStatus.COMPLETED]
    assert not TASK_TRANSITIONS[TaskStatus.CANCELED]
    assert not TASK_TRANSITIONS[TaskStatus.FALLBACK]
    assert not TASK_TRANSITIONS[TaskStatus.REFUSED]
    for state in set(ReservationState) - LIVE_RESERVATION_STATES:
        assert not RESERVATION_TRANSITIONS[state], state
    for status in LIVE_TASK_STATUSES:
        assert TASK_TRANSITIONS[status], status


def test_every_live_task_can_still_end() -> None:
    ended = {status for status, exits in TASK_TRANSITIONS.items() if not exits}
    for status in LIVE_TASK_STATUSES:
        assert reachable(TASK_TRANSITIONS, status) & ended, status  # type: ignore[arg-type]


def test_a_waiting_task_is_reached_two_ways_and_the_event_says_which() -> None:
    assert next_status(TaskStatus.RESERVED, TaskEvent.END_OFFER) is TaskStatus.WAITING
    assert next_status(TaskStatus.ASSIGNED, TaskEvent.TRANSFER) is TaskStatus.WAITING
    with pytest.raises(IllegalTransition):
        next_status(TaskStatus.RESERVED, TaskEvent.TRANSFER)  # an offer is not transferred
    with pytest.raises(IllegalTransition):
        next_status(TaskStatus.ASSIGNED, TaskEvent.END_OFFER)


def test_the_router_holds_exactly_the_live_statuses_past_new() -> None:
    assert {TaskStatus.NEW} == LIVE_TASK_STATUSES - ROUTED_TASK_STATUSES
    # A task is taken in (or refused) before anything else happens to it.
    assert set(TASK_EVENTS[TaskStatus.NEW]) == {TaskEvent.SUBMIT, TaskEvent.REFUSE}


@pytest.mark.parametrize(("table", "initial"), _TABLES)
@given(data=st.data())
def test_random_moves_never_leave_the_table(
    table: Mapping[StrEnum, frozenset[StrEnum]], initial: StrEnum, data: st.DataObject
) -> None:
    """Whatever is asked, an allowed move lands in the table and a refused one changes
    nothing; a terminal state refuses everything."""
    current = initial
    targets = st.sampled_from(sorted(type(initial)))
    for target in data.draw(st.lists(targets, max_size=30)):
        if target not in table[current]:
            with pytest.raises(IllegalTransition) as refused:
                check_transition(table, current, target)
            assert refused.value.extra["current"] == current.value
            continue
        check_transition(table, current, target)
        current = target
    assert current in table


@given(events=st.lists(st.sampled_from(sorted(TaskEvent)), max_size=30))
def test_random_task_events_follow_the_event_table(events: list[TaskEvent]) -> None:
    status = TaskStatus.NEW
    for event in events:
        if event in TASK_EVENTS[status]:
            nxt = next_status(status, event)
            assert nxt in TASK_TRANSITIONS[status]
            status = nxt
        else:
            with pytest.raises(IllegalTransition) as refused:
                next_status(status, event)
            assert refused.value.extra["current"] == status.value
    assert status in TASK_TRANSITIONS
