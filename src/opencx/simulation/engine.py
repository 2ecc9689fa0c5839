"""A discrete-event simulation that drives the real router with a virtual clock.

Rules:
- arrivals are Poisson per queue; handle times exponential or log-normal with the
  queue's mean; each caller abandons after an exponential patience if still waiting;
- agents accept every offer at once (no ringing time) and are available all along;
- only calls arriving between the warm-up and the horizon are measured; they are all
  followed to their end, so every measured call is answered, abandoned or deflected;
- figures, for measured calls: ``service_level`` = answered within the threshold /
  offered (an abandoned call counts against it); ``asa_seconds`` = mean wait of
  answered calls; ``p_wait`` = share of offered calls not answered on arrival;
  ``occupancy`` = the work handled (handling and wrap-up time, each concurrent chat
  counted) / the time of the agents' slots (each agent's largest channel capacity),
  between the warm-up and the horizon: for voice, the classic busy / staffed time;
- the same scenario and seed give the same figures: randomness comes from one seeded
  generator and the router itself is deterministic.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from opencx.core.enums import PresenceState
from opencx.core.routing.decisions import Decision, Fallback, Offer
from opencx.core.routing.model import RoutingPolicy, TaskSpec, WorkerSpec
from opencx.core.routing.router import Router
from opencx.simulation.scenario import QueueTraffic, Scenario

__all__ = ["QueueFigures", "SimulationResult", "arrival_gap", "handle_seconds", "simulate"]

_ARRIVAL, _ABANDON, _COMPLETE = range(3)
#: Agents accept at once, so offers never time out in a simulation.
_POLICY = RoutingPolicy(offer_timeout_seconds=1e9, max_missed_offers=0, aging_seconds=None)


@dataclass(frozen=True, slots=True)
class QueueFigures:
    name: str
    offered: int
    answered: int
    abandoned: int
    deflected: int
    service_level: float
    asa_seconds: float
    p_wait: float
    average_wait_seconds: float


@dataclass(frozen=True, slots=True)
class SimulationResult:
    offered: int
    answered: int
    abandoned: int
    deflected: int
    service_level: float
    asa_seconds: float
    p_wait: float
    occupancy: float
    average_wait_seconds: float
    abandon_rate: float
    agents: int
    decisions: int
    hours: float
    seed: int
    queues: tuple[QueueFigures, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class _Call:
    queue: QueueTraffic
    arrived: float
    measured: bool
    waited: float | None = None
    outcome: str = ""


class _Simulation:
    def __init__(self, scenario: Scenario, progress: Callable[[float], None] | None) -> None:
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)  # noqa: S311 - reproducible traffic, not secrets
        self.router = Router(
            workflow=scenario.workflow, queues=[q.spec for q in scenario.queues], policy=_POLICY
        )
        self.events: list[tuple[float, int, int, int]] = []
        self.calls: dict[int, _Call] = {}
        self.seq = 0
        self.horizon = scenario.hours * 3600.0
        self.warmup = min(scenario.warmup_seconds, self.horizon / 2)
        self.busy_seconds = 0.0
        self.decisions = 0
        self.progress = progress
        self.agents = 0
        self.slots = 0
        worker_id = 0
        for group in scenario.agents:
            for _ in range(group.count):
                worker_id += 1
                spec = WorkerSpec(worker_id, group.attributes, group.capacity)
                self.router.add_worker(spec, presence=PresenceState.AVAILABLE, now=0.0)
                self.slots += max(group.capacity.values(), default=0)
        self.agents = worker_id

    def run(self) -> list[_Call]:
        for index, queue in enumerate(self.scenario.queues):
            self._schedule_arrival(index, queue, 0.0)
        next_report = 0.0
        while True:
            due = self.router.next_deadline()
            event_at = self.events[0][0] if self.events else math.inf
            if due is not None and due <= event_at:
                self._apply(self.router.advance(due), due)
                continue
            if not self.events:
                break
            at, _, kind, ref = heapq.heappop(self.events)
            if self.progress is not None and at >= next_report:
                self.progress(min(1.0, at / self.horizon))
                next_report = at + self.horizon / 100
            self._handle(kind, ref, at)
        return [call for call in self.calls.values() if call.measured]

    def _push(self, at: float, kind: int, ref: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, ref))

    def _schedule_arrival(self, index: int, queue: QueueTraffic, now: float) -> None:
        at = now + arrival_gap(self.rng, queue.arrivals_per_hour)
        if at < self.horizon:
            self._push(at, _ARRIVAL, index)

    def _handle(self, kind: int, ref: int, now: float) -> None:
        if kind == _ARRIVAL:
            queue = self.scenario.queues[ref]
            self._schedule_arrival(ref, queue, now)
            self.seq += 1
            task_id = self.seq
            self.calls[task_id] = _Call(queue, now, now >= self.warmup)
            if queue.patience_seconds is not None:
                self._push(
                    now + self.rng.expovariate(1 / queue.patience_seconds), _ABANDON, task_id
                )
            spec = TaskSpec(task_id, queue.spec.channel, now, {"queue": queue.spec.name})
            self._apply(self.router.submit(spec, now=now), now)
        elif kind == _ABANDON:
            call = self.calls[ref]
            if not call.outcome:
                call.outcome = "abandoned"
                call.waited = now - call.arrived
                self._apply(self.router.cancel(ref, now=now), now)
        else:
            self._apply(self.router.complete(ref, now=now), now)

    def _apply(self, decisions: list[Decision], now: float) -> None:
        for decision in decisions:
            if isinstance(decision, Offer):
                self.decisions += 1
                self._answer(decision, now)
            elif isinstance(decision, Fallback):
                call = self.calls[decision.task_id]
                call.outcome, call.waited = "deflected", now - call.arrived

    def _answer(self, offer: Offer, now: float) -> None:
        call = self.calls[offer.task_id]
        call.outcome = "answered"
        call.waited = now - call.arrived
        self.router.accept(offer.task_id, now=now)
        handle = self._handle_time(call.queue)
        end = now + handle
        busy = handle + call.queue.spec.wrap_up_seconds
        self.busy_seconds += max(0.0, min(now + busy, self.horizon) - max(now, self.warmup))
        self._push(end, _COMPLETE, offer.task_id)

    def _handle_time(self, queue: QueueTraffic) -> float:
        return handle_seconds(self.rng, queue.aht_seconds, queue.handle, queue.handle_cv)


def arrival_gap(rng: random.Random, per_hour: float) -> float:
    """Seconds to the next arrival of a Poisson stream of ``per_hour`` arrivals."""
    return rng.expovariate(per_hour / 3600.0)


def handle_seconds(rng: random.Random, mean: float, handle: str, cv: float = 1.0) -> float:
    """A handle time of mean ``mean``: exponential, or log-normal with ``cv``."""
    if handle == "lognormal":
        sigma2 = math.log(1 + cv**2)
        mu = math.log(mean) - sigma2 / 2
        return rng.lognormvariate(mu, math.sqrt(sigma2))
    return rng.expovariate(1 / mean)


def simulate(
    scenario: Scenario, *, progress: Callable[[float], None] | None = None
) -> SimulationResult:
    """Run the scenario to its end and measure it (see the module rules)."""
    simulation = _Simulation(scenario, progress)
    calls = simulation.run()
    measured_time = simulation.horizon - simulation.warmup
    figures = _figures("all", calls, scenario.sl_threshold_seconds)
    slot_time = simulation.slots * measured_time
    occupancy = simulation.busy_seconds / slot_time if slot_time else 0.0
    return SimulationResult(
        offered=figures.offered,
        answered=figures.answered,
        abandoned=figures.abandoned,
        deflected=figures.deflected,
        service_level=figures.service_level,
        asa_seconds=figures.asa_seconds,
        p_wait=figures.p_wait,
        occupancy=occupancy,
        average_wait_seconds=figures.average_wait_seconds,
        abandon_rate=figures.abandoned / figures.offered if figures.offered else 0.0,
        agents=simulation.agents,
        decisions=simulation.decisions,
        hours=scenario.hours,
        seed=scenario.seed,
        queues=tuple(
            _figures(q.spec.name, [c for c in calls if c.queue is q], scenario.sl_threshold_seconds)
            for q in scenario.queues
        ),
    )


def _figures(name: str, calls: list[_Call], threshold: float) -> QueueFigures:
    offered = len(calls)
    answered = [c for c in calls if c.outcome == "answered"]
    waits = [c.waited or 0.0 for c in answered]
    return QueueFigures(
        name=name,
        offered=offered,
        answered=len(answered),
        abandoned=sum(c.outcome == "abandoned" for c in calls),
        deflected=sum(c.outcome == "deflected" for c in calls),
        service_level=_share(sum(w <= threshold for w in waits), offered),
        asa_seconds=sum(waits) / len(waits) if waits else 0.0,
        p_wait=_share(sum(c.outcome != "answered" or (c.waited or 0) > 0 for c in calls), offered),
        average_wait_seconds=_share(sum(c.waited or 0.0 for c in calls), offered),
    )


def _share(part: float, whole: int) -> float:
    return part / whole if whole else 0.0
