"""What the router decided: the only output of the engine, applied by the service layer.

Rules:
- decisions are facts in the order they were taken; applying them in that order to the
  stored state reproduces the router's state;
- a decision names everything its application needs, so applying one reads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from opencx.core.routing.model import FallbackAction, Instant, ReservationState

__all__ = [
    "Decision",
    "Fallback",
    "Offer",
    "OfferEnded",
    "SetNotReady",
    "StepChanged",
    "WrapUpEnded",
]


@dataclass(frozen=True, slots=True)
class Offer:
    """Reserve ``task_id`` for ``worker_id`` until ``expires_at``; the worker's capacity is
    taken from now. ``callback`` says the worker is to call the customer back."""

    task_id: int
    worker_id: int
    queue_id: int | None
    at: Instant
    expires_at: Instant
    callback: bool = False


@dataclass(frozen=True, slots=True)
class OfferEnded:
    """A pending offer ended without acceptance: ``timed_out``, ``rescinded`` (the worker's
    site closed) — the task waits again and the worker's capacity is freed."""

    task_id: int
    worker_id: int
    state: ReservationState
    at: Instant


@dataclass(frozen=True, slots=True)
class StepChanged:
    """The task moved to another workflow step (timeout, skip, closure, transfer)."""

    task_id: int
    filter_index: int | None
    step_index: int | None
    queue_id: int | None
    priority: int
    at: Instant


@dataclass(frozen=True, slots=True)
class Fallback:
    """No target can take the task: it leaves routing for ``action``."""

    task_id: int
    action: FallbackAction
    reason: str
    at: Instant


@dataclass(frozen=True, slots=True)
class SetNotReady:
    """The worker missed too many offers in a row: set them not ready for ``reason``."""

    worker_id: int
    reason: str
    at: Instant


@dataclass(frozen=True, slots=True)
class WrapUpEnded:
    """The worker's wrap-up after ``task_id`` is over; the capacity it held is free."""

    task_id: int
    worker_id: int
    at: Instant


Decision = Offer | OfferEnded | StepChanged | Fallback | SetNotReady | WrapUpEnded
