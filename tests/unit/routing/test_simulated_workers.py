"""The demo's simulated agents never get a real customer's contact (``model.serves``)."""

from __future__ import annotations

from opencx.core.enums import PresenceState
from opencx.core.routing.model import Target
from tests.unit.routing.builders import AVAILABLE, offers, one_queue_router, queue, task, worker


def test_a_real_task_waits_for_a_real_worker_while_simulated_ones_are_free() -> None:
    router = one_queue_router()
    router.add_worker(worker(1, simulated=True), presence=AVAILABLE, now=0, idle_since=0)
    assert offers(router.submit(task(10, at=1), now=1)) == []
    assert router.why_not(1, 10, now=1) == (
        "is a simulated agent, and the task is a real customer's"
    )
    decisions = router.add_worker(worker(2), presence=AVAILABLE, now=2, idle_since=2)
    assert offers(decisions) == [(10, 2)]


def test_a_simulated_task_goes_to_simulated_and_real_workers_alike() -> None:
    router = one_queue_router()
    router.add_worker(worker(1, simulated=True), presence=AVAILABLE, now=0, idle_since=0)
    router.add_worker(worker(2), presence=AVAILABLE, now=0, idle_since=5)
    assert offers(router.submit(task(10, at=6, simulated=True), now=6)) == [(10, 1)]
    assert offers(router.submit(task(11, at=7, simulated=True), now=7)) == [(11, 2)]


def test_a_freed_simulated_worker_passes_over_the_real_task_ahead_of_a_simulated_one() -> None:
    router = one_queue_router()
    router.add_worker(worker(1, simulated=True), presence=PresenceState.NOT_READY, now=0)
    router.submit(task(10, at=1), now=1)
    router.submit(task(11, at=2, simulated=True), now=2)
    decisions = router.set_presence(1, AVAILABLE, now=3)
    assert offers(decisions) == [(11, 1)]


def test_a_known_simulated_agent_is_still_no_one_for_a_real_customer() -> None:
    targets = (Target(queue_id=1, preferred="last_agent_ids"),)
    router = one_queue_router(queue(1), targets=targets)
    router.add_worker(worker(1, simulated=True), presence=AVAILABLE, now=0)
    assert offers(router.submit(task(10, last_agent_ids=[1]), now=1)) == []


def test_only_a_true_mark_counts() -> None:
    router = one_queue_router()
    router.add_worker(worker(1, simulated="yes"), presence=AVAILABLE, now=0)
    assert offers(router.submit(task(10, simulated="yes"), now=1)) == [(10, 1)]
    router.add_worker(worker(2, simulated=True), presence=AVAILABLE, now=2)
    assert offers(router.submit(task(11, simulated="yes"), now=3)) == []
