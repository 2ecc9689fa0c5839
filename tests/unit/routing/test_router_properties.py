"""Routing invariants under any sequence of events (hypothesis state machine).

Held after every step: capacity never exceeded by an offer; a task held by one worker at most; every
offer satisfies its queue's target and step expression (or names a listed agent);
the router is settled (no waiting task could go to a free worker); a restart from a
snapshot decides exactly as the running router does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from opencx.core.enums import Channel, PresenceState
from opencx.core.routing.decide import decide
from opencx.core.routing.decisions import Decision, Offer
from opencx.core.routing.expressions import TRUE
from opencx.core.routing.model import (
    Filter,
    Ring,
    RoutingPolicy,
    SiteState,
    SkipIf,
    Target,
    TaskStatus,
    Workflow,
)
from opencx.core.routing.router import Router

from .builders import CHAT, VOICE, queue, task, task_expr, worker, worker_expr

QUEUES = (
    queue(1),
    queue(2, "skills HAS 'billing'", channel=CHAT, wrap_up_seconds=5),
    queue(3, "languages HAS task.language", site_id=1, wrap_up_seconds=3),
    queue(4, "skills.billing >= 2"),
)
WORKFLOW = Workflow(
    filters=(
        Filter(
            "chat",
            task_expr("kind == 'chat'"),
            (Target(queue_id=2, timeout_seconds=40), Target(queue_id=2, priority=5)),
        ),
        Filter(
            "known",
            task_expr("last_agent != null"),
            (
                Target(queue_id=1, preferred="last_agent", timeout_seconds=10),
                Target(queue_id=3, skip_if=SkipIf.NO_WORKER_AVAILABLE, timeout_seconds=30),
                Target(queue_id=1),
            ),
        ),
        Filter(
            "vip",
            task_expr("vip == true"),
            (
                Target(
                    queue_id=4,
                    expression=worker_expr("skills.billing >= 3"),
                    rings=(Ring(15, worker_expr("skills.billing >= 2")),),
                    timeout_seconds=45,
                ),
                Target(queue_id=1),
            ),
        ),
        Filter("rest", TRUE, (Target(queue_id=3, timeout_seconds=20), Target(queue_id=1))),
    )
)
POLICY = RoutingPolicy(offer_timeout_seconds=8, max_missed_offers=2, reoffer_cooldown_seconds=6)


class RoutingMachine(RuleBasedStateMachine):
    @initialize(aging=st.sampled_from([None, 30.0]))
    def start(self, aging: float | None) -> None:
        self.policy = RoutingPolicy(
            offer_timeout_seconds=POLICY.offer_timeout_seconds,
            max_missed_offers=POLICY.max_missed_offers,
            reoffer_cooldown_seconds=POLICY.reoffer_cooldown_seconds,
            aging_seconds=aging,
        )
        self.router = Router(workflow=WORKFLOW, queues=QUEUES, policy=self.policy)
        self.now = 0.0
        self.next_task = 1

    def _check(self, decisions: list[Decision]) -> None:
        for decision in decisions:
            if isinstance(decision, Offer):
                self._check_offer(decision)

    def _check_offer(self, offer: Offer) -> None:
        task = self.router.tasks[offer.task_id]
        holder = self.router.workers[offer.worker_id]
        spec = holder.spec
        channel = task.spec.channel
        assert holder.load[channel] <= spec.capacity.get(channel, 0)
        if task.preferred:
            assert offer.worker_id in task.preferred
        else:
            assert offer.queue_id is not None
            target = self.router.queues[offer.queue_id].spec.target
            assert target.evaluate(task.spec.attributes, spec.attributes)
        if task.target is not None:
            age = offer.at - task.spec.created_at
            reached = [r.expression for r in task.target.rings if r.after_seconds <= age]
            expression = reached[-1] if reached else task.target.expression
            assert expression.evaluate(task.spec.attributes, spec.attributes)

    def _in(self, status: TaskStatus) -> list[int]:
        return sorted(t.id for t in self.router.tasks.values() if t.status is status)

    @rule(
        worker_id=st.integers(1, 8),
        skills=st.dictionaries(st.sampled_from(["billing", "tech"]), st.integers(1, 3), max_size=2),
        languages=st.lists(st.sampled_from(["fr", "en"]), max_size=2, unique=True),
        voice=st.integers(0, 1),
        chat=st.integers(0, 3),
        site=st.sampled_from([None, 1, 2]),
        blocks=st.booleans(),
    )
    def add_worker(
        self,
        worker_id: int,
        skills: dict[str, int],
        languages: list[str],
        voice: int,
        chat: int,
        site: int | None,
        blocks: bool,
    ) -> None:
        spec = worker(
            worker_id,
            voice=voice,
            chat=chat,
            site=site,
            blocks=blocks,
            skills=skills,
            languages=languages,
        )
        if worker_id in self.router.workers:
            self._check(self.router.update_worker(spec, now=self.now))
        else:
            presence = PresenceState.AVAILABLE
            self._check(self.router.add_worker(spec, presence=presence, now=self.now))

    @precondition(lambda self: self.router.workers)
    @rule(data=st.data(), presence=st.sampled_from(list(PresenceState)))
    def set_presence(self, data: st.DataObject, presence: PresenceState) -> None:
        worker_id = data.draw(st.sampled_from(sorted(self.router.workers)))
        self._check(self.router.set_presence(worker_id, presence, now=self.now))

    @rule(
        channel=st.sampled_from([VOICE, CHAT]),
        priority=st.integers(0, 3),
        language=st.sampled_from(["fr", "en", None]),
        vip=st.booleans(),
        last_agent=st.sampled_from([None, 1, 2, 3]),
        callback_in=st.sampled_from([None, None, None, 12.0]),
    )
    def submit(
        self,
        channel: Channel,
        priority: int,
        language: str | None,
        vip: bool,
        last_agent: int | None,
        callback_in: float | None,
    ) -> None:
        attributes = {"kind": channel.value, "language": language, "vip": vip}
        if last_agent is not None:
            attributes["last_agent"] = last_agent
        spec = task(self.next_task, at=self.now, channel=channel, priority=priority, **attributes)
        if callback_in is not None:
            spec = replace(spec, not_before=self.now + callback_in)
        self.next_task += 1
        self._check(self.router.submit(spec, now=self.now))

    @precondition(lambda self: self._in(TaskStatus.RESERVED))
    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        task_id = data.draw(st.sampled_from(self._in(TaskStatus.RESERVED)))
        if accept:
            self._check(self.router.accept(task_id, now=self.now))
        else:
            self._check(self.router.reject(task_id, now=self.now))

    @precondition(lambda self: self._in(TaskStatus.ASSIGNED))
    @rule(data=st.data(), how=st.sampled_from(["complete", "to_queue", "to_worker"]))
    def finish(self, data: st.DataObject, how: str) -> None:
        task_id = data.draw(st.sampled_from(self._in(TaskStatus.ASSIGNED)))
        if how == "complete":
            decisions = self.router.complete(task_id, now=self.now)
        elif how == "to_queue":
            queue_id = data.draw(st.sampled_from([1, 2, 3, 4]))
            decisions = self.router.transfer(task_id, now=self.now, queue_id=queue_id)
        else:
            worker_id = data.draw(st.sampled_from(sorted(self.router.workers)))
            decisions = self.router.transfer(task_id, now=self.now, worker_ids=[worker_id])
        self._check(decisions)

    @precondition(lambda self: self._in(TaskStatus.WAITING) + self._in(TaskStatus.RESERVED))
    @rule(data=st.data())
    def customer_leaves(self, data: st.DataObject) -> None:
        ids = self._in(TaskStatus.WAITING) + self._in(TaskStatus.RESERVED)
        self._check(self.router.cancel(data.draw(st.sampled_from(sorted(ids))), now=self.now))

    @rule(site=st.sampled_from([1, 2]), state=st.sampled_from(list(SiteState)))
    def site(self, site: int, state: SiteState) -> None:
        self._check(self.router.set_site_state(site, state, now=self.now))

    @rule(queue_id=st.sampled_from([1, 3]), is_open=st.booleans())
    def hours(self, queue_id: int, is_open: bool) -> None:
        self._check(self.router.set_queue_open(queue_id, is_open, now=self.now))

    @rule(seconds=st.sampled_from([0.5, 3.0, 7.0, 12.0, 30.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds
        self._check(self.router.advance(self.now))

    @rule(seconds=st.sampled_from([1.0, 9.0, 20.0]))
    def restart(self, seconds: float) -> None:
        """A restart from a snapshot decides as the running router does, from then on."""
        snapshot = self.router.snapshot()
        restored, settled = Router.from_snapshot(snapshot, now=self.now, policy=self.policy)
        assert settled == []
        assert decide(snapshot, now=self.now, policy=self.policy) == decide(
            snapshot, now=self.now, policy=self.policy
        )
        self.now += seconds
        expected = self.router.advance(self.now)
        assert restored.advance(self.now) == expected
        self._check(expected)
        self.router = restored

    @invariant()
    def load_counts_what_workers_hold(self) -> None:
        """Offers never exceed capacity (checked per offer); an admin may still lower a
        capacity under what a worker holds, who then takes nothing new until below it."""
        for w in self.router.workers.values():
            held = Counter(w.held.values()) + Counter(ch for ch, _ in w.wraps.values())
            assert dict(+Counter(w.load)) == dict(held)
            if held and any(w.id in self.router.free_workers(ch) for ch in Channel):
                for channel in w.spec.capacity:
                    if w.id in self.router.free_workers(channel):
                        assert held[channel] < w.spec.capacity[channel]

    @invariant()
    def a_task_is_held_by_one_worker_at_most(self) -> None:
        holders = Counter(t for w in self.router.workers.values() for t in w.held)
        assert all(count == 1 for count in holders.values())
        for t in self.router.tasks.values():
            if t.status is TaskStatus.WAITING:
                assert t.worker_id is None
                assert t.id not in holders
            else:
                assert t.id in self.router.workers[t.worker_id].held

    @invariant()
    def the_router_is_settled(self) -> None:
        for t in self.router.tasks.values():
            if t.status is TaskStatus.WAITING and t.queued:
                for worker_id in self.router.workers:
                    assert self.router.why_not(worker_id, t.id, now=self.now) is not None, (
                        f"task {t.id} waits while worker {worker_id} could take it"
                    )


RoutingMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=50, deadline=None)
TestRouting = RoutingMachine.TestCase


@settings(max_examples=60, deadline=None)
@given(
    arrivals=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50)), min_size=1, max_size=25),
    aging=st.sampled_from([None, 10.0]),
)
def test_offers_follow_priority_then_arrival(
    arrivals: list[tuple[int, int]], aging: float | None
) -> None:
    """With one worker freeing up after another, tasks are served by priority (aged), then
    arrival; equal keys by task id."""
    router = Router(
        workflow=Workflow(filters=(Filter("all", TRUE, (Target(queue_id=1),)),)),
        queues=[queue(1)],
        policy=RoutingPolicy(aging_seconds=aging),
    )
    now = 0.0
    for task_id, (priority, gap) in enumerate(arrivals, start=1):
        now += gap
        router.submit(task(task_id, at=now, priority=priority), now=now)
    router.add_worker(worker(1), presence=PresenceState.AVAILABLE, now=now)
    served = []
    while router.tasks:
        (current,) = [t for t in router.tasks.values() if t.status is TaskStatus.RESERVED]
        served.append(current)
        router.accept(current.id, now=now)
        router.complete(current.id, now=now)
    keys = [t.key for t in served]
    assert keys == sorted(keys)
    if aging is None:
        assert [(-t.priority, t.spec.created_at) for t in served] == sorted(
            (-t.priority, t.spec.created_at) for t in served
        )


@settings(max_examples=40, deadline=None)
@given(priority=st.integers(1, 5), waited=st.integers(0, 400))
def test_aging_prevents_starvation(priority: int, waited: int) -> None:
    """A priority-0 task that has waited ``priority × aging`` or longer goes before a
    newcomer of that priority (at exactly that wait, the earlier arrival wins)."""
    router = Router(
        workflow=Workflow(filters=(Filter("all", TRUE, (Target(queue_id=1),)),)),
        queues=[queue(1)],
        policy=RoutingPolicy(aging_seconds=60),
    )
    router.submit(task(1, at=0, priority=0), now=0)
    router.submit(task(2, at=waited, priority=priority), now=waited)
    decisions = router.add_worker(worker(1), presence=PresenceState.AVAILABLE, now=waited)
    (offer,) = [d for d in decisions if isinstance(d, Offer)]
    assert offer.task_id == (1 if waited >= priority * 60 else 2)
