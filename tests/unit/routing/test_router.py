"""The router's behaviour, one rule at a time, as a supervisor would describe it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from opencx.core.enums import PresenceState
from opencx.core.errors import Conflict, IllegalTransition, NotFound
from opencx.core.routing.decisions import (
    Fallback,
    OfferEnded,
    SetNotReady,
    StepChanged,
    WrapUpEnded,
)
from opencx.core.routing.expressions import TRUE
from opencx.core.routing.model import (
    MISSED_OFFERS_REASON,
    FallbackAction,
    Filter,
    ReservationState,
    Ring,
    RoutingPolicy,
    Selection,
    SiteState,
    SkipIf,
    Target,
    Workflow,
)
from opencx.core.routing.router import Router

from .builders import (
    AVAILABLE,
    CHAT,
    EMAIL,
    offers,
    one_queue_router,
    queue,
    task,
    task_expr,
    worker,
    worker_expr,
)


def test_a_task_goes_to_the_worker_idle_longest() -> None:
    router = one_queue_router()
    router.add_worker(worker(1), presence=AVAILABLE, now=0, idle_since=50)
    router.add_worker(worker(2), presence=AVAILABLE, now=0, idle_since=10)
    router.add_worker(worker(3), presence=PresenceState.NOT_READY, now=0, idle_since=0)
    assert offers(router.submit(task(100, at=60), now=60)) == [(100, 2)]


def test_only_workers_the_queue_target_accepts_are_offered() -> None:
    router = one_queue_router(queue(1, "skills.billing >= 2"))
    router.add_worker(worker(1, skills={"billing": 1}), presence=AVAILABLE, now=0)
    assert offers(router.submit(task(1), now=0)) == []
    decisions = router.add_worker(worker(2, skills={"billing": 3}), presence=AVAILABLE, now=1)
    assert offers(decisions) == [(1, 2)]


def test_a_queue_target_can_read_the_task() -> None:
    router = one_queue_router(queue(1, "languages HAS task.language"))
    router.add_worker(worker(1, languages=["en"]), presence=AVAILABLE, now=0)
    router.add_worker(worker(2, languages=["fr", "en"]), presence=AVAILABLE, now=0, idle_since=5)
    assert offers(router.submit(task(1, language="fr"), now=10)) == [(1, 2)]


def test_chat_capacity_is_shared_and_voice_is_taken_alone() -> None:
    router = one_queue_router(queue(1, channel=CHAT), queue(2), targets=None)
    router.workflow = Workflow(
        filters=(
            Filter("chat", task_expr("kind == 'chat'"), (Target(queue_id=1),)),
            Filter("voice", TRUE, (Target(queue_id=2),)),
        )
    )
    router.add_worker(worker(1, voice=1, chat=2), presence=AVAILABLE, now=0)
    assert offers(router.submit(task(1, channel=CHAT, kind="chat"), now=1)) == [(1, 1)]
    assert offers(router.submit(task(2, channel=CHAT, kind="chat"), now=2)) == [(2, 1)]
    assert offers(router.submit(task(3, channel=CHAT, kind="chat"), now=3)) == []
    assert offers(router.submit(task(4), now=4)) == []  # busy on chat: no voice
    assert router.why_not(1, 4, now=4) == "is handling other channels, and voice is taken alone"


def test_voice_need_not_block_other_channels() -> None:
    router = one_queue_router(queue(1), queue(2, channel=EMAIL))
    router.workflow = Workflow(
        filters=(
            Filter("email", task_expr("kind == 'email'"), (Target(queue_id=2),)),
            Filter("voice", TRUE, (Target(queue_id=1),)),
        )
    )
    router.add_worker(worker(1, voice=1, email=1, blocks=False), presence=AVAILABLE, now=0)
    router.submit(task(1), now=1)
    assert offers(router.submit(task(2, channel=EMAIL, kind="email"), now=2)) == [(2, 1)]


def test_higher_priority_first_then_first_come_first_served() -> None:
    router = one_queue_router(policy=RoutingPolicy(aging_seconds=None))
    for task_id, at, priority in [(1, 0, 0), (2, 1, 5), (3, 2, 0), (4, 3, 5)]:
        router.submit(task(task_id, at=at, priority=priority), now=at)
    served = []
    for worker_id in range(1, 5):
        served += offers(router.add_worker(worker(worker_id), presence=AVAILABLE, now=10))
    assert [task_id for task_id, _ in served] == [2, 4, 1, 3]


def test_aging_lets_a_long_wait_overtake_a_higher_priority() -> None:
    router = one_queue_router(policy=RoutingPolicy(aging_seconds=60))
    router.submit(task(1, at=0, priority=0), now=0)
    router.submit(task(2, at=150, priority=2), now=150)  # as if it arrived at 30
    router.submit(task(3, at=50, priority=1), now=50)  # as if it arrived at -10
    order = []
    for worker_id in range(1, 4):
        order += offers(router.add_worker(worker(worker_id), presence=AVAILABLE, now=200))
    assert [task_id for task_id, _ in order] == [3, 1, 2]


def test_a_rejected_offer_goes_to_the_next_worker() -> None:
    router = one_queue_router()
    router.add_worker(worker(1), presence=AVAILABLE, now=0, idle_since=0)
    router.add_worker(worker(2), presence=AVAILABLE, now=0, idle_since=1)
    assert offers(router.submit(task(7), now=5)) == [(7, 1)]
    decisions = router.reject(7, now=6)
    assert decisions[0] == OfferEnded(7, 1, ReservationState.REJECTED, 6)
    assert offers(decisions) == [(7, 2)]


def test_a_rejecting_worker_gets_the_task_again_after_the_cooldown() -> None:
    router = one_queue_router(policy=RoutingPolicy(reoffer_cooldown_seconds=30))
    router.add_worker(worker(1), presence=AVAILABLE, now=0)
    router.submit(task(7), now=0)
    assert offers(router.reject(7, now=1)) == []
    assert router.next_deadline() == 31
    assert offers(router.advance(31)) == [(7, 1)]


def test_missed_offers_set_the_worker_not_ready() -> None:
    policy = RoutingPolicy(
        offer_timeout_seconds=10, max_missed_offers=2, reoffer_cooldown_seconds=0
    )
    router = one_queue_router(policy=policy)
    router.add_worker(worker(1), presence=AVAILABLE, now=0)
    router.submit(task(1), now=0)
    first = router.advance(10)
    assert first[0] == OfferEnded(1, 1, ReservationState.TIMED_OUT, 10)
    assert offers(first) == [(1, 1)]
    second = router.advance(20)
    assert SetNotReady(1, MISSED_OFFERS_REASON, 20) in second
    assert offers(second) == []
    assert router.workers[1].presence is PresenceState.NOT_READY
    assert offers(router.set_presence(1, AVAILABLE, now=30)) == [(1, 1)]


def test_accepting_resets_missed_offers_and_states_are_checked() -> None:
    router = one_queue_router(
        policy=RoutingPolicy(offer_timeout_seconds=10, reoffer_cooldown_seconds=0)
    )
    router.add_worker(worker(1), presence=AVAILABLE, now=0)
    router.submit(task(1), now=0)
    router.advance(10)
    router.accept(1, now=11)
    assert router.workers[1].missed == 0
    with pytest.raises(IllegalTransition):
        router.accept(1, now=12)
    with pytest.raises(IllegalTransition):
        router.cancel(1, now=12)
    with pytest.raises(NotFound):
        router.reject(99, now=12)
    with pytest.raises(Conflict):
        router.submit(task(1), now=12)


def test_wrap_up_holds_the_worker_then_frees_them() -> None:
    router = one_queue_router(queue(1, wrap_up_seconds=30))
    router.add_worker(worker(1), presence=AVAILABLE, now=0)
    router.submit(task(1), now=0)
    router.accept(1, now=1)
    router.submit(task(2), now=2)
    assert offers(router.complete(1, now=100)) == []
    decisions = router.advance(130)
    assert decisions[0] == WrapUpEnded(1, 1, 130)
    assert offers(decisions) == [(2, 1)]


def test_ending_wrap_up_early_frees_the_worker_at_once() -> None:
    router = one_queue_router(queue(1, wrap_up_seconds=30))
    router.add_worker(worker(1), presence=AVAILABLE, now=0)
    router.submit(task(1), now=0)
    router.accept(1, now=1)
    router.complete(1, now=50)
    router.submit(task(2), now=51)
    assert offers(router.end_wrap_up(1, 1, now=55)) == [(2, 1)]
    router.accept(2, now=56)
    assert router.advance(100) == []


def test_a_customer_who_leaves_frees_the_offer() -> None:
    router = one_queue_router()
    router.add_worker(worker(1), presence=AVAILABLE, now=0)
    router.submit(task(1), now=0)
    router.submit(task(2), now=1)
    assert offers(router.cancel(1, now=2)) == [(2, 1)]
    assert 1 not in router.tasks


def test_a_step_times_out_to_the_next_target() -> None:
    targets = (Target(queue_id=1, timeout_seconds=30), Target(queue_id=2, priority=3))
    router = one_queue_router(queue(1, "team == 'experts'"), queue(2), targets=targets)
    router.add_worker(worker(1, team="experts"), presence=AVAILABLE, now=0)
    router.submit(task(1), now=0)
    router.accept(1, now=0)
    decisions = router.submit(task(2, at=5), now=5)
    assert decisions == [StepChanged(2, 0, 0, 1, 0, 5)]
    router.add_worker(worker(2, team="generalists"), presence=AVAILABLE, now=10)
    assert router.next_deadline() == 35
    moved = router.advance(35)
    assert moved[0] == StepChanged(2, 0, 1, 2, 3, 35)
    assert offers(moved) == [(2, 2)]


def test_skip_if_no_worker_available_goes_straight_on() -> None:
    targets = (
        Target(queue_id=1, skip_if=SkipIf.NO_WORKER_AVAILABLE),
        Target(queue_id=2),
    )
    router = one_queue_router(queue(1, "team == 'a'"), queue(2), targets=targets)
    router.add_worker(worker(1, team="b"), presence=AVAILABLE, now=0)
    decisions = router.submit(task(1), now=0)
    assert [d.step_index for d in decisions if isinstance(d, StepChanged)] == [1]
    assert offers(decisions) == [(1, 1)]


def test_no_filter_or_no_target_left_falls_back() -> None:
    workflow = Workflow(
        filters=(
            Filter(
                "vip",
                task_expr("vip == true"),
                (Target(queue_id=1, timeout_seconds=60),),
                fallback=FallbackAction.CALLBACK,
            ),
        ),
        fallback=FallbackAction.EMAIL,
    )
    router = Router(workflow=workflow, queues=[queue(1)])
    assert router.submit(task(1), now=0) == [
        Fallback(1, FallbackAction.EMAIL, "no workflow filter matches the task", 0)
    ]
    router.submit(task(2, vip=True), now=0)
    assert router.advance(60) == [
        Fallback(2, FallbackAction.CALLBACK, "no open target is left in the workflow", 60)
    ]


def test_known_agents_are_tried_best_score_first_then_the_queue() -> None:
    targets = (
        Target(queue_id=1, preferred="last_agents", timeout_seconds=20),
        Target(queue_id=1),
    )
    router = one_queue_router(queue(1), targets=targets)
    for worker_id in (1, 2, 3):
        router.add_worker(worker(worker_id), presence=AVAILABLE, now=0, idle_since=0)
    scored = [{"worker_id": 3, "score": 0.2}, {"worker_id": 1, "score": 0.9}]
    assert offers(router.submit(task(1, last_agents=scored), now=1)) == [(1, 1)]
    assert offers(router.submit(task(2, last_agents=scored), now=2)) == [(2, 3)]
    # Both known agents are busy: task 3 waits for them although worker 2 is free...
    assert offers(router.submit(task(3, last_agents=scored), now=3)) == []
    assert router.why_not(2, 3, now=3) == "is not one of the agents this step is reserved for"
    router.accept(1, now=3)
    router.accept(2, now=3)
    assert offers(router.complete(1, now=10)) == [(3, 1)]
    router.accept(3, now=10)
    # ...until its known-agent step times out.
    router.submit(task(4, at=11, last_agents=[1, 3]), now=11)
    assert offers(router.advance(31)) == [(4, 2)]


def test_an_absent_known_agent_is_not_waited_for() -> None:
    targets = (Target(queue_id=1, preferred="last_agent", timeout_seconds=20), Target(queue_id=1))
    router = one_queue_router(queue(1), targets=targets)
    router.add_worker(worker(1), presence=PresenceState.OFFLINE, now=0)
    router.add_worker(worker(2), presence=AVAILABLE, now=0)
    decisions = router.submit(task(1, last_agent=1), now=0)
    assert [d.step_index for d in decisions if isinstance(d, StepChanged)] == [1]
    assert offers(decisions) == [(1, 2)]


def test_bullseye_rings_widen_as_the_wait_grows() -> None:
    rings = (Ring(30, worker_expr("skills.billing >= 2")), Ring(60, TRUE))
    targets = (Target(queue_id=1, expression=worker_expr("skills.billing >= 3"), rings=rings),)
    router = one_queue_router(queue(1), targets=targets)
    router.add_worker(worker(1, skills={"billing": 1}), presence=AVAILABLE, now=0, idle_since=0)
    router.add_worker(worker(2, skills={"billing": 2}), presence=AVAILABLE, now=0, idle_since=5)
    assert offers(router.submit(task(1), now=0)) == []
    assert router.next_deadline() == 30
    assert offers(router.advance(30)) == [(1, 2)]
    router.accept(1, now=30)
    router.submit(task(2, at=31), now=31)
    assert offers(router.advance(90)) == []
    assert offers(router.advance(91)) == [(2, 1)]


def test_selection_by_skill_level_and_by_occupancy() -> None:
    router = one_queue_router(queue(1, selection=Selection.SKILL_LEVEL, skill="skills.tech"))
    router.add_worker(worker(1, skills={"tech": 2}), presence=AVAILABLE, now=0, idle_since=0)
    router.add_worker(worker(2, skills={"tech": 5}), presence=AVAILABLE, now=0, idle_since=9)
    assert offers(router.submit(task(1), now=10)) == [(1, 2)]

    router = one_queue_router(queue(1, channel=CHAT, selection=Selection.LEAST_OCCUPIED))
    router.add_worker(worker(1, voice=0, chat=4), presence=AVAILABLE, now=0, idle_since=0)
    router.add_worker(worker(2, voice=0, chat=2), presence=AVAILABLE, now=0, idle_since=1)
    order = [offers(router.submit(task(i, at=i, channel=CHAT), now=i)) for i in range(1, 5)]
    assert [o[0][1] for o in order] == [1, 2, 1, 1]  # 0/4 < 0/2 by idle; 1/4 < 1/2; 2/4 = 1/2


def test_closing_a_site_sends_its_waiting_and_new_tasks_elsewhere_at_once() -> None:
    targets = (Target(queue_id=1), Target(queue_id=2))
    router = one_queue_router(
        queue(1, "site_name == 'lyon'", site_id=10), queue(2), targets=targets
    )
    router.add_worker(worker(1, site=10, site_name="lyon"), presence=AVAILABLE, now=0)
    router.submit(task(1), now=0)  # offered to the Lyon agent, pending
    router.submit(task(2, at=1), now=1)  # waits in Lyon's queue
    decisions = router.set_site_state(10, SiteState.CLOSED, now=5)
    assert OfferEnded(1, 1, ReservationState.RESCINDED, 5) in decisions
    moved = {d.task_id: d.queue_id for d in decisions if isinstance(d, StepChanged)}
    assert moved == {1: 2, 2: 2}
    new = router.submit(task(3, at=6), now=6)
    assert [d.queue_id for d in new if isinstance(d, StepChanged)] == [2]
    assert offers(router.add_worker(worker(2), presence=AVAILABLE, now=7)) == [(1, 2)]


def test_a_draining_site_keeps_accepted_work_but_takes_no_offers() -> None:
    router = one_queue_router(queue(1))
    router.add_worker(worker(1, site=10), presence=AVAILABLE, now=0)
    router.submit(task(1), now=0)
    router.accept(1, now=1)
    router.set_site_state(10, SiteState.DRAINING, now=2)
    router.complete(1, now=3)
    assert offers(router.submit(task(2), now=4)) == []
    assert router.why_not(1, 2, now=4) == "works on site 10, which is draining"
    assert offers(router.set_site_state(10, SiteState.OPEN, now=5)) == [(2, 1)]


def test_closing_a_queue_out_of_hours_moves_its_tasks() -> None:
    targets = (Target(queue_id=1), Target(queue_id=2))
    router = one_queue_router(queue(1), queue(2), targets=targets)
    router.submit(task(1), now=0)
    decisions = router.set_queue_open(1, False, now=1)
    assert [(d.task_id, d.queue_id) for d in decisions if isinstance(d, StepChanged)] == [(1, 2)]


def test_transfer_to_a_queue_keeps_the_customers_age() -> None:
    router = one_queue_router(queue(1), queue(2, "team == 'experts'"))
    router.add_worker(worker(1), presence=AVAILABLE, now=0)
    router.submit(task(1), now=0)
    router.accept(1, now=1)
    router.submit(task(2, at=50), now=50)  # waits for worker 1 in queue 1
    decisions = router.transfer(1, now=60, queue_id=2)
    assert StepChanged(1, None, None, 2, 0, 60) in decisions
    assert offers(decisions) == [(2, 1)]  # worker 1 is free again for queue 1
    assert offers(router.add_worker(worker(2, team="experts"), presence=AVAILABLE, now=61)) == [
        (1, 2)
    ]


def test_transfer_to_a_supervisor_waits_for_them() -> None:
    router = one_queue_router()
    router.add_worker(worker(1), presence=AVAILABLE, now=0)
    router.add_worker(worker(9, role="supervisor"), presence=PresenceState.NOT_READY, now=0)
    router.submit(task(1), now=0)
    router.accept(1, now=1)
    assert offers(router.transfer(1, now=2, worker_ids=[9])) == []
    assert offers(router.set_presence(9, AVAILABLE, now=3)) == [(1, 9)]


def test_a_transfer_or_submit_to_somewhere_unknown_changes_nothing() -> None:
    router = one_queue_router()
    router.add_worker(worker(1), presence=AVAILABLE, now=0)
    router.submit(task(1), now=0)
    router.accept(1, now=1)
    before = router.snapshot()
    with pytest.raises(NotFound, match="queue 99"):
        router.transfer(1, now=2, queue_id=99)
    with pytest.raises(NotFound, match="worker 42"):
        router.transfer(1, now=2, worker_ids=[42])
    with pytest.raises(NotFound, match="worker 42"):
        router.submit(task(2), now=2, worker_ids=[42])
    assert router.snapshot() == before
    assert router.complete(1, now=3) == []


def test_a_consult_is_a_second_task_for_the_named_worker() -> None:
    router = one_queue_router()
    router.add_worker(worker(1), presence=AVAILABLE, now=0)
    router.add_worker(worker(2), presence=AVAILABLE, now=0)
    router.submit(task(1), now=0)
    router.accept(1, now=1)
    assert offers(router.submit(task(2, at=2), now=2, worker_ids=[2])) == [(2, 2)]


def test_scheduled_callback_waits_until_its_time_and_callbacks_are_flagged() -> None:
    router = one_queue_router()
    spec = task(1)
    assert router.submit(replace(spec, not_before=100), now=0) == []
    router.add_worker(worker(1), presence=AVAILABLE, now=0)
    assert offers(router.advance(100)) == [(1, 1)]

    router = one_queue_router()
    router.submit(task(2), now=0)
    router.request_callback(2)
    decisions = router.add_worker(worker(1), presence=AVAILABLE, now=5)
    assert [d.callback for d in decisions if hasattr(d, "callback")] == [True]


def test_estimated_wait_by_position() -> None:
    router = one_queue_router(queue(1, expected_handle_seconds=300))
    assert router.estimated_wait(1) is None  # nobody logged in
    router.add_worker(worker(1), presence=AVAILABLE, now=0)
    router.add_worker(worker(2), presence=AVAILABLE, now=0)
    assert router.estimated_wait(1) == 0.0
    for task_id in range(1, 5):
        router.submit(task(task_id, at=task_id), now=task_id)
    assert router.position(3) == 1
    assert router.position(4) == 2
    assert router.estimated_wait(1, position=1) == 150.0  # 1 × 300 s / 2 agents
    assert router.estimated_wait(1) == 450.0  # a newcomer is third in line


def test_explain_says_why_each_worker_was_passed_over() -> None:
    router = one_queue_router(queue(1, "skills HAS 'billing'"))
    router.add_worker(worker(1, skills={"billing": 1}), presence=PresenceState.NOT_READY, now=0)
    router.add_worker(worker(2, skills={}), presence=AVAILABLE, now=0)
    router.add_worker(worker(3, voice=0, chat=1, skills={"billing": 1}), presence=AVAILABLE, now=0)
    router.submit(task(1), now=0)
    explanation = router.explain(1, now=1)
    assert explanation.filter_name == "all"
    assert explanation.queue_id == 1
    assert explanation.position == 1
    assert {c.worker_id: c.reason for c in explanation.candidates} == {
        1: "is not_ready",
        2: "does not match the target of queue q1",
        3: "takes no voice tasks",
    }
