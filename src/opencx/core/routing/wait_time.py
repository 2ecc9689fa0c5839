"""Estimated wait time per queue and position, from the router's live state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opencx.core.enums import PresenceState

if TYPE_CHECKING:
    from opencx.core.routing.router import Router

__all__ = ["estimated_wait", "wait_at_position"]


def estimated_wait(router: Router, queue_id: int, *, position: int | None = None) -> float | None:
    """Seconds the task at ``position`` (a newcomer by default) should still wait.

    With ``f`` free eligible workers, positions up to ``f`` wait nothing; beyond, each
    place ahead waits for one of the ``N`` slots the queue's logged-in workers offer on
    its channel to free up: ``(position - f) × AHT / N`` (the M/M/c wait of the k-th
    in line when all are busy). AHT is the mean of the queue's recent handle times,
    or its expected one. ``None`` when nobody who could serve it is logged in.
    """
    queue = router.queues[queue_id]
    channel = queue.spec.channel
    place = queue.count() + 1 if position is None else position
    free_now = router.free_workers(channel)
    slots = 0
    free = 0
    for worker_id in queue.members:
        worker = router.workers[worker_id]
        if worker.presence is PresenceState.OFFLINE:
            continue
        slots += worker.spec.capacity.get(channel, 0)
        free += worker_id in free_now
    times = queue.handle_times
    aht = sum(times) / len(times) if times else queue.spec.expected_handle_seconds
    return wait_at_position(place, free=free, slots=slots, aht=aht)


def wait_at_position(place: int, *, free: int, slots: int, aht: float) -> float | None:
    """The formula above, from figures stored about a queue (its free workers, slots and
    average handle time), for the API to answer without the router."""
    if slots == 0:
        return None
    if place <= free:
        return 0.0
    return (place - free) * aht / slots
