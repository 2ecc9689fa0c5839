"""Routing engine throughput and latency, in process, on one core.

Builds 1,000 agents (3 to 5 skills each with levels, languages, capacity voice 1 /
chat 3 / email 2, voice taken alone) and 50 queues (30 voice, 15 chat, 5 email) whose
targets are expressions over skills, one in five also matching the task's language.
The workflow has one filter per intent (50), each stepping from its queue to an
overflow queue after 60 s. Tasks arrive until every agent is busy and 10,000 wait.

Then, in a steady loop: an agent finishes a task (the router offers them the best
task they may take, and they accept), and a new task arrives (timed on its own: the
latency of routing a new task through the workflow into its queue). Prints a table,
then one JSON line with ``decisions_per_s`` and ``p99_ms``.

    python bench/routing.py [--agents 1000] [--waiting 10000] [--queues 50] [--rounds 20000]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time

from opencx.core.enums import Channel, PresenceState
from opencx.core.routing.decisions import Decision, Offer
from opencx.core.routing.expressions import compile_expression
from opencx.core.routing.model import (
    Filter,
    QueueSpec,
    RoutingPolicy,
    Target,
    TaskSpec,
    TaskStatus,
    WorkerSpec,
    Workflow,
)
from opencx.core.routing.router import Router

CHANNELS = [Channel.VOICE] * 30 + [Channel.CHAT] * 15 + [Channel.EMAIL] * 5
LANGUAGES = ["fr", "en", "nl", "it", "es", "pl", "de"]


def build(queues: int, agents: int, rng: random.Random) -> Router:
    specs = []
    for q in range(queues):
        source = f"skills.s{q} >= 1"
        if q % 5 == 0:
            source += " AND languages HAS task.language"
        specs.append(
            QueueSpec(
                id=q,
                name=f"queue {q}",
                channel=CHANNELS[q % len(CHANNELS)],
                target=compile_expression(source, default_root="worker"),
            )
        )
    filters = []
    for q in range(queues):
        overflow = (q + 1) % queues
        if specs[overflow].channel is not specs[q].channel:
            overflow = q
        filters.append(
            Filter(
                name=f"intent {q}",
                expression=compile_expression(f"intent == 'i{q}'", default_root="task"),
                targets=(Target(queue_id=q, timeout_seconds=60), Target(queue_id=overflow)),
            )
        )
    router = Router(
        workflow=Workflow(filters=tuple(filters)),
        queues=specs,
        policy=RoutingPolicy(offer_timeout_seconds=30),
    )
    for a in range(agents):
        skills = {f"s{s}": rng.randint(1, 3) for s in rng.sample(range(queues), rng.randint(3, 5))}
        languages = rng.sample(LANGUAGES, 2)
        capacity = {Channel.VOICE: 1, Channel.CHAT: 3, Channel.EMAIL: 2}
        spec = WorkerSpec(a, {"skills": skills, "languages": languages}, capacity)
        router.add_worker(spec, presence=PresenceState.AVAILABLE, now=0.0)
    return router


def new_task(task_id: int, now: float, queues: int, rng: random.Random) -> TaskSpec:
    q = rng.randrange(queues)
    attributes = {"intent": f"i{q}", "language": rng.choice(LANGUAGES), "segment": "standard"}
    return TaskSpec(task_id, CHANNELS[q % len(CHANNELS)], now, attributes, rng.randint(0, 2))


def accept_all(router: Router, decisions: list[Decision], now: float, held: list[int]) -> int:
    count = 0
    for decision in decisions:
        if isinstance(decision, Offer):
            router.accept(decision.task_id, now=now)
            held.append(decision.task_id)
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    started = time.perf_counter()
    router = build(args.queues, args.agents, rng)
    now, next_id, held = 0.0, 1, []
    while len(router.tasks) - len(held) < args.waiting:
        now += 0.001
        accept_all(
            router, router.submit(new_task(next_id, now, args.queues, rng), now=now), now, held
        )
        next_id += 1
    waiting = sum(t.status is TaskStatus.WAITING for t in router.tasks.values())
    setup = time.perf_counter() - started

    gc.collect()
    gc.disable()  # measure the router, not the collector's pauses on a big heap
    decisions = 0
    decide_time = 0.0
    latencies: list[float] = []
    for _ in range(args.rounds):
        now += 0.001
        index = rng.randrange(len(held))
        held[index], held[-1] = held[-1], held[index]
        task_id = held.pop()
        t0 = time.perf_counter()
        decisions += accept_all(router, router.complete(task_id, now=now), now, held)
        t1 = time.perf_counter()
        accept_all(
            router, router.submit(new_task(next_id, now, args.queues, rng), now=now), now, held
        )
        t2 = time.perf_counter()
        next_id += 1
        decide_time += t1 - t0
        latencies.append(t2 - t1)
    gc.enable()

    t0 = time.perf_counter()
    snapshot = router.snapshot()
    restored, _ = Router.from_snapshot(snapshot, now=now, policy=router.policy)
    restore = time.perf_counter() - t0
    assert len(restored.tasks) == len(router.tasks)

    latencies.sort()
    figures = {
        "agents": args.agents,
        "queues": args.queues,
        "waiting_tasks": waiting,
        "rounds": args.rounds,
        "decisions": decisions,
        "decisions_per_s": round(decisions / decide_time),
        "p50_ms": round(statistics.median(latencies) * 1000, 4),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 4),
        "max_ms": round(latencies[-1] * 1000, 4),
        "setup_s": round(setup, 2),
        "snapshot_restore_s": round(restore, 3),
    }
    print(f"{'agents':<28}{args.agents}")
    print(f"{'queues / workflow filters':<28}{args.queues}")
    print(f"{'tasks waiting':<28}{waiting}")
    print(f"{'decisions (offers)':<28}{decisions} at {figures['decisions_per_s']:,}/s")
    print(
        f"{'new task, routed':<28}p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
        f"max {figures['max_ms']} ms"
    )
    print(f"{'snapshot and restore':<28}{figures['snapshot_restore_s']} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
