"""Agent presence moves: the transition table and the reason codes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from opencx.core.enums import PresenceState
from opencx.core.errors import IllegalTransition, InvalidInput
from opencx.core.lifecycles import PRESENCE_TRANSITIONS
from opencx.core.presence import NOT_READY_REASONS, PresenceChange, plan_presence_change

P = PresenceState
NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)


def reason_for(state: PresenceState) -> str | None:
    return "break" if state is P.NOT_READY else None


def test_going_available_is_decided_with_its_time() -> None:
    change = plan_presence_change(P.OFFLINE, None, target=P.AVAILABLE, reason=None, now=NOW)
    assert change == PresenceChange(previous=P.OFFLINE, state=P.AVAILABLE, reason=None, since=NOW)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(P, P)))
def test_every_move_is_allowed_exactly_when_the_table_says(
    current: PresenceState, target: PresenceState
) -> None:
    # From not_ready for lunch, so that not_ready for a break is a real change.
    current_reason = "lunch" if current is P.NOT_READY else None

    def plan() -> PresenceChange:
        return plan_presence_change(
            current, current_reason, target=target, reason=reason_for(target), now=NOW
        )

    if target in PRESENCE_TRANSITIONS[current]:
        assert plan().state is target
    else:
        with pytest.raises(IllegalTransition) as raised:
            plan()
        assert raised.value.extra["current"] == current.value


def test_not_ready_can_change_its_reason_but_not_repeat_it() -> None:
    change = plan_presence_change(P.NOT_READY, "break", target=P.NOT_READY, reason="lunch", now=NOW)
    assert (change.previous, change.reason) == (P.NOT_READY, "lunch")
    with pytest.raises(IllegalTransition, match="already"):
        plan_presence_change(P.NOT_READY, "lunch", target=P.NOT_READY, reason="lunch", now=NOW)


def test_not_ready_needs_a_known_reason() -> None:
    with pytest.raises(InvalidInput, match="needs a reason") as missing:
        plan_presence_change(P.AVAILABLE, None, target=P.NOT_READY, reason=None, now=NOW)
    assert missing.value.extra["field"] == "reason"
    with pytest.raises(InvalidInput, match="unknown reason 'nap'"):
        plan_presence_change(P.AVAILABLE, None, target=P.NOT_READY, reason="nap", now=NOW)


@pytest.mark.parametrize("target", [P.AVAILABLE, P.OFFLINE])
def test_other_states_take_no_reason(target: PresenceState) -> None:
    with pytest.raises(InvalidInput, match="takes no reason"):
        plan_presence_change(P.NOT_READY, "break", target=target, reason="break", now=NOW)


@pytest.mark.parametrize("reason", sorted(NOT_READY_REASONS))
def test_every_reason_of_the_vocabulary_is_accepted(reason: str) -> None:
    change = plan_presence_change(P.AVAILABLE, None, target=P.NOT_READY, reason=reason, now=NOW)
    assert change.reason == reason
