"""Agent presence: which moves are allowed, and with which reason codes.

Rules:
- the move must be in ``PRESENCE_TRANSITIONS`` (``IllegalTransition`` otherwise); going
  to the state one is already in is only a move for ``not_ready``, whose reason changes;
- ``not_ready`` needs a reason from ``NOT_READY_REASONS``; other states take none
  (``InvalidInput`` otherwise, with ``field="reason"``);
- ``not_ready`` with the reason already set changes nothing, so it is refused too;
- a refused move changes nothing: ``plan_presence_change`` only returns the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opencx.core.enums import PresenceState
from opencx.core.errors import IllegalTransition, InvalidInput
from opencx.core.lifecycles import PRESENCE_TRANSITIONS, check_transition

__all__ = ["NOT_READY_REASONS", "PresenceChange", "plan_presence_change"]

#: Why an agent is not ready. Stored and reported on: add codes, never rename them.
NOT_READY_REASONS: frozenset[str] = frozenset(
    {
        "break",
        "lunch",
        "training",
        "meeting",
        "admin",
        "coaching",
        "technical_issue",
        "missed_offers",  # set by routing after too many offers left unanswered
    }
)


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """The decision: the agent goes from ``previous`` to ``state`` at ``since``."""

    previous: PresenceState
    state: PresenceState
    reason: str | None
    since: datetime


def plan_presence_change(
    current: PresenceState,
    current_reason: str | None,
    *,
    target: PresenceState,
    reason: str | None,
    now: datetime,
) -> PresenceChange:
    """Check a presence move and return it; raise before anything changes."""
    _check_reason(target, reason)
    check_transition(PRESENCE_TRANSITIONS, current, target)
    if target is current and reason == current_reason:
        raise IllegalTransition(
            f"already {current.value!r} for {reason!r}",
            current=current.value,
            target=target.value,
        )
    return PresenceChange(previous=current, state=target, reason=reason, since=now)


def _check_reason(target: PresenceState, reason: str | None) -> None:
    if target is PresenceState.NOT_READY:
        if reason is None:
            raise InvalidInput("a not_ready presence needs a reason", field="reason")
        if reason not in NOT_READY_REASONS:
            raise InvalidInput(
                f"unknown reason {reason!r}; use one of {', '.join(sorted(NOT_READY_REASONS))}",
                field="reason",
            )
    elif reason is not None:
        raise InvalidInput(f"a {target.value} presence takes no reason", field="reason")
