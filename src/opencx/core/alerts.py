"""A queue's alert thresholds, and which of them its live figures cross.

Rules:
- a supervisor may set, per queue, a **most contacts waiting**, a **longest wait** (in
  seconds) and a **least service level** (a fraction, 0 to 1); each is optional, and a
  threshold not set is never crossed;
- *waiting* is crossed when more contacts wait than the most allowed (``waiting >
  max_waiting``), *longest wait* when the contact waiting longest has waited more than
  the limit, *service level* when the queue's service level of the current 15-minute
  interval (``core.kpis.service_level``, the variant shown) is below the least allowed;
  a service level not known yet (no contact in the interval) crosses nothing;
- the rule is pure: the cockpit's browser module (``static/cockpit/alerts.js``) applies
  the same one to the live view, second by second.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Breach", "Thresholds", "breaches", "thresholds_json"]


class Breach(StrEnum):
    """Which threshold a queue crosses."""

    WAITING = "waiting"
    LONGEST_WAIT = "longest_wait"
    SERVICE_LEVEL = "service_level"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """A queue's alert thresholds; ``None`` where not set."""

    max_waiting: int | None = None
    max_longest_wait_seconds: int | None = None
    min_service_level: float | None = None

    @property
    def is_empty(self) -> bool:
        return (
            self.max_waiting is None
            and self.max_longest_wait_seconds is None
            and self.min_service_level is None
        )


def breaches(
    thresholds: Thresholds,
    *,
    waiting: int,
    longest_wait_seconds: float | None,
    service_level: float | None,
) -> tuple[Breach, ...]:
    """The thresholds the figures cross, in ``Breach`` order."""
    found: list[Breach] = []
    if thresholds.max_waiting is not None and waiting > thresholds.max_waiting:
        found.append(Breach.WAITING)
    limit = thresholds.max_longest_wait_seconds
    if limit is not None and longest_wait_seconds is not None and longest_wait_seconds > limit:
        found.append(Breach.LONGEST_WAIT)
    least = thresholds.min_service_level
    if least is not None and service_level is not None and service_level < least:
        found.append(Breach.SERVICE_LEVEL)
    return tuple(found)


def thresholds_json(thresholds: Thresholds) -> dict[str, Any]:
    return {
        "max_waiting": thresholds.max_waiting,
        "max_longest_wait_seconds": thresholds.max_longest_wait_seconds,
        "min_service_level": thresholds.min_service_level,
    }
