"""Erlang B, C and A: published values, direct formulas, a simulation, and limits."""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.core import erlang
from opencx.core.erlang import (
    ErlangAResult,
    agents_for_service_level,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
)
from opencx.core.errors import InvalidInput

# --- independent formulas, written the textbook way (small cases only) -------------


def direct_erlang_b(agents: int, load: float) -> float:
    terms = [load**k / math.factorial(k) for k in range(agents + 1)]
    return terms[-1] / sum(terms)


def direct_erlang_c(agents: int, load: float) -> float:
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    return top / (sum(load**k / math.factorial(k) for k in range(agents)) + top)


def direct_service_level(agents: int, load: float, aht: float, threshold: float) -> float:
    return 1 - direct_erlang_c(agents, load) * math.exp(-(agents - load) * threshold / aht)


@dataclass(frozen=True)
class Chain:
    agents: int
    arrival_rate: float  # per second
    service_rate: float
    abandon_rate: float

    def stationary(self, states: int = 200) -> list[float]:
        """The M/M/n+M birth-death chain by unnormalised products, cut at ``states``."""
        weights = [1.0]
        for k in range(1, states):
            leave = min(k, self.agents) * self.service_rate
            leave += max(k - self.agents, 0) * self.abandon_rate
            weights.append(weights[-1] * self.arrival_rate / leave)
        total = sum(weights)
        return [w / total for w in weights]


def metrics(chain: Chain, threshold: float) -> ErlangAResult:
    return erlang_a_metrics(
        agents=chain.agents,
        arrivals_per_hour=chain.arrival_rate * 3600,
        aht_seconds=1 / chain.service_rate,
        patience_seconds=1 / chain.abandon_rate,
        sl_threshold_seconds=threshold,
    )


# Two agents, 54 calls an hour of 2 minutes (A = 1.8 Erlangs), callers wait 1 minute.
SMALL = Chain(agents=2, arrival_rate=54 / 3600, service_rate=1 / 120, abandon_rate=1 / 60)


# --- Erlang B and C -------------------------------------------------------------------


def test_erlang_b_published_value() -> None:
    assert erlang_b(10, 10.0) == pytest.approx(0.2146, abs=5e-5)


@pytest.mark.parametrize(
    ("agents", "published"), [(11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741)]
)
def test_erlang_c_published_values_for_ten_erlangs(agents: int, published: float) -> None:
    assert erlang_c(agents, 10.0) == pytest.approx(published, abs=5e-5)
    assert erlang_c(agents, 10.0) == pytest.approx(direct_erlang_c(agents, 10.0), rel=1e-12)


@given(st.integers(min_value=0, max_value=60), st.floats(min_value=0.0, max_value=80.0))
def test_erlang_b_and_c_match_the_factorial_formulas(agents: int, load: float) -> None:
    assert erlang_b(agents, load) == pytest.approx(direct_erlang_b(agents, load), rel=1e-10)
    if load < agents and agents - load > 1e-6:
        assert erlang_c(agents, load) == pytest.approx(direct_erlang_c(agents, load), rel=1e-9)


def test_edges_of_erlang_b_and_c() -> None:
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(5, 0.0) == 0.0
    assert erlang_c(5, 0.0) == 0.0
    assert erlang_c(5, 5.0) == 1.0
    assert erlang_c(5, 7.5) == 1.0
    assert erlang_c(0, 0.0) == 1.0


loads = st.floats(min_value=0.0, max_value=300.0)


@given(st.integers(min_value=1, max_value=300), loads, st.floats(min_value=0.0, max_value=20.0))
def test_erlang_c_is_a_probability_that_falls_with_agents_and_rises_with_load(
    agents: int, load: float, more_load: float
) -> None:
    waiting = erlang_c(agents, load)
    assert 0.0 <= waiting <= 1.0
    assert waiting >= erlang_b(agents, load)
    assert erlang_c(agents + 1, load) <= waiting + 1e-12
    assert erlang_c(agents, load + more_load) >= waiting - 1e-12


# --- Erlang C metrics and staffing ----------------------------------------------------


def test_erlang_c_metrics_follow_the_formulas() -> None:
    result = erlang_c_metrics(
        agents=12, arrivals_per_hour=150, aht_seconds=240, sl_threshold_seconds=20
    )
    waiting = direct_erlang_c(12, 10.0)
    assert result.p_wait == pytest.approx(waiting, rel=1e-12)
    assert result.service_level == pytest.approx(direct_service_level(12, 10.0, 240, 20))
    assert result.asa_seconds == pytest.approx(waiting * 240 / 2, rel=1e-12)
    assert result.occupancy == pytest.approx(10 / 12)


@pytest.mark.parametrize(("agents", "calls_per_hour", "minimum"), [(24, 360, 25), (10, 367.5, 25)])
def test_an_unstable_queue_is_refused_naming_the_head_count_needed(
    agents: int, calls_per_hour: float, minimum: int
) -> None:
    with pytest.raises(InvalidInput, match=f"unstable.*at least {minimum} agents") as caught:
        erlang_c_metrics(
            agents=agents,
            arrivals_per_hour=calls_per_hour,
            aht_seconds=240,
            sl_threshold_seconds=20,
        )
    assert caught.value.extra == {"field": "agents", "minimum_agents": minimum}


def test_staffing_the_classic_360_calls_an_hour_of_four_minutes() -> None:
    # A = 360 × 240 / 3600 = 24 Erlangs, 80% answered within 20 s. Checked with the
    # factorial formula: 28 agents give 76.1%, 29 give 84.0%.
    assert direct_service_level(28, 24.0, 240, 20) < 0.8 <= direct_service_level(29, 24.0, 240, 20)
    needed = agents_for_service_level(
        arrivals_per_hour=360, aht_seconds=240, sl_threshold_seconds=20, target=0.8
    )
    assert needed == 29
    # 24 / 29 = 83% occupancy; at most 80% needs 30 agents (exactly 80%).
    capped = agents_for_service_level(
        arrivals_per_hour=360,
        aht_seconds=240,
        sl_threshold_seconds=20,
        target=0.8,
        max_occupancy=0.8,
    )
    assert capped == 30


@given(
    st.floats(min_value=0.0, max_value=3000.0),
    st.floats(min_value=10.0, max_value=900.0),
    st.floats(min_value=0.0, max_value=120.0),
    st.floats(min_value=0.0, max_value=0.99),
)
@settings(max_examples=50)
def test_the_staffing_answer_is_the_smallest_that_meets_the_target(
    calls: float, aht: float, threshold: float, target: float
) -> None:
    needed = agents_for_service_level(
        arrivals_per_hour=calls, aht_seconds=aht, sl_threshold_seconds=threshold, target=target
    )

    def level(agents: int) -> float:
        return erlang_c_metrics(
            agents=agents, arrivals_per_hour=calls, aht_seconds=aht, sl_threshold_seconds=threshold
        ).service_level

    assert level(needed) >= target
    load = calls * aht / 3600
    assert needed - 1 <= load or level(needed - 1) < target


@pytest.mark.parametrize(
    ("field", "arguments"),
    [
        ("arrivals_per_hour", {"arrivals_per_hour": -1.0}),
        ("arrivals_per_hour", {"arrivals_per_hour": math.nan}),
        ("aht_seconds", {"aht_seconds": 0.0}),
        ("sl_threshold_seconds", {"sl_threshold_seconds": math.inf}),
        ("target", {"target": 1.0}),
        ("max_occupancy", {"max_occupancy": 0.0}),
    ],
)
def test_staffing_refuses_bad_arguments(field: str, arguments: dict[str, float]) -> None:
    call = {
        "arrivals_per_hour": 100.0,
        "aht_seconds": 180.0,
        "sl_threshold_seconds": 20.0,
        "target": 0.8,
    }
    with pytest.raises(InvalidInput) as caught:
        agents_for_service_level(**(call | arguments))
    assert caught.value.extra["field"] == field


def test_bad_agents_and_loads_are_refused() -> None:
    with pytest.raises(InvalidInput, match="agents"):
        erlang_b(-1, 1.0)
    with pytest.raises(InvalidInput, match="load"):
        erlang_c(3, -0.5)
    with pytest.raises(InvalidInput, match="patience_seconds"):
        erlang_a_metrics(
            agents=1,
            arrivals_per_hour=10,
            aht_seconds=60,
            patience_seconds=math.inf,
            sl_threshold_seconds=20,
        )


# --- Erlang A ---------------------------------------------------------------------------


def test_erlang_a_matches_the_birth_death_chain_solved_directly() -> None:
    pi = SMALL.stationary()
    n, lam = SMALL.agents, SMALL.arrival_rate
    mean_queue = sum((k - n) * p for k, p in enumerate(pi) if k > n)
    busy = sum(min(k, n) * p for k, p in enumerate(pi))
    result = metrics(SMALL, 20.0)
    assert result.p_wait == pytest.approx(sum(pi[n:]), abs=1e-12)
    assert result.p_abandon == pytest.approx(SMALL.abandon_rate * mean_queue / lam, abs=1e-12)
    assert result.asa_seconds == pytest.approx(mean_queue / lam, rel=1e-10)
    assert result.occupancy == pytest.approx(busy / n, rel=1e-10)


def tagged_call_by_threshold(chain: Chain, threshold: float, steps: int) -> tuple[float, float]:
    """Answered and abandoned by ``threshold``: the tagged call's own chain, integrated (RK4).

    State ``i`` = calls ahead of it; it moves up at rate ``nμ + iθ`` and hangs up at ``θ``.
    """
    pi = chain.stationary()
    n, mu, theta = chain.agents, chain.service_rate, chain.abandon_rate
    ahead = pi[n:]
    answered_at_once = sum(pi[:n])

    def derivative(state: list[float]) -> list[float]:
        *stages, _answered, _abandoned = state
        moves = [p * (n * mu + i * theta) for i, p in enumerate(stages)]
        inflow = [*moves[1:], 0.0]
        change = [inflow[i] - moves[i] - theta * p for i, p in enumerate(stages)]
        return [*change, moves[0], theta * sum(stages)]

    state = [*ahead, 0.0, 0.0]
    dt = threshold / steps
    for _ in range(steps):
        k1 = derivative(state)
        k2 = derivative([s + dt / 2 * k for s, k in zip(state, k1, strict=True)])
        k3 = derivative([s + dt / 2 * k for s, k in zip(state, k2, strict=True)])
        k4 = derivative([s + dt * k for s, k in zip(state, k3, strict=True)])
        state = [
            s + dt / 6 * (a + 2 * b + 2 * c + d)
            for s, a, b, c, d in zip(state, k1, k2, k3, k4, strict=True)
        ]
    return answered_at_once + state[-2], state[-1]


@pytest.mark.parametrize("threshold", [5.0, 20.0, 60.0])
def test_erlang_a_service_level_matches_the_tagged_call_integrated(threshold: float) -> None:
    answered, abandoned = tagged_call_by_threshold(SMALL, threshold, steps=int(threshold * 10))
    result = metrics(SMALL, threshold)
    assert result.service_level == pytest.approx(answered, abs=1e-9)
    assert result.p_abandon_within_threshold == pytest.approx(abandoned, abs=1e-9)


def test_erlang_a_threshold_zero_and_forever() -> None:
    now = metrics(SMALL, 0.0)
    assert now.service_level == pytest.approx(1 - now.p_wait, abs=1e-15)
    assert now.p_abandon_within_threshold == 0.0
    later = metrics(SMALL, 1e5)
    assert later.service_level == pytest.approx(1 - later.p_abandon, abs=1e-12)
    assert later.p_abandon_within_threshold == pytest.approx(later.p_abandon, abs=1e-12)


def simulate(chain: Chain, threshold: float, calls: int, seed: int) -> dict[str, float]:
    """FCFS M/M/n+M, one call at a time: a call is answered when the earliest agent frees
    up after every earlier call still waiting, unless its patience runs out first."""
    rng = random.Random(seed)
    free_at = [0.0] * chain.agents
    clock = 0.0
    waited = abandoned = answered_in_time = abandoned_in_time = 0
    queue_time = answered_time = 0.0
    for _ in range(calls):
        clock += rng.expovariate(chain.arrival_rate)
        patience = rng.expovariate(chain.abandon_rate)
        service = rng.expovariate(chain.service_rate)
        wait = max(free_at[0] - clock, 0.0)
        waited += wait > 0
        if wait > patience:
            abandoned += 1
            abandoned_in_time += patience <= threshold
            queue_time += patience
        else:
            heapq.heapreplace(free_at, clock + wait + service)
            answered_in_time += wait <= threshold
            queue_time += wait
            answered_time += wait
    return {
        "p_wait": waited / calls,
        "p_abandon": abandoned / calls,
        "service_level": answered_in_time / calls,
        "p_abandon_within_threshold": abandoned_in_time / calls,
        "asa_seconds": queue_time / calls,
        "asa_answered_seconds": answered_time / (calls - abandoned),
    }


def test_erlang_a_is_what_a_simulation_of_each_call_measures() -> None:
    # 200,000 calls. Over 30 seeds the estimates centred on these values with standard
    # deviations of 0.002 (shares) and 0.9% (mean waits): the bounds are 4 of those.
    # The seed makes the run the same every time.
    estimate = simulate(SMALL, 20.0, calls=200_000, seed=20240611)
    result = metrics(SMALL, 20.0)
    for name in ("p_wait", "p_abandon", "service_level", "p_abandon_within_threshold"):
        assert getattr(result, name) == pytest.approx(estimate[name], abs=0.008), name
    for name in ("asa_seconds", "asa_answered_seconds"):
        assert getattr(result, name) == pytest.approx(estimate[name], rel=0.035), name


def poisson_tail(load: float, at_least: int) -> float:
    return 1 - sum(math.exp(-load) * load**k / math.factorial(k) for k in range(at_least))


@pytest.mark.parametrize(("agents", "load"), [(3, 2.5), (50, 45.0), (40, 60.0)])
def test_patience_equal_to_handle_time_makes_the_system_an_infinite_server(
    agents: int, load: float
) -> None:
    # With θ = μ every call in the system leaves at rate μ: the count is Poisson(A).
    result = erlang_a_metrics(
        agents=agents,
        arrivals_per_hour=load * 3600 / 300,
        aht_seconds=300,
        patience_seconds=300,
        sl_threshold_seconds=20,
    )
    assert result.p_wait == pytest.approx(poisson_tail(load, agents), abs=1e-12)


@pytest.mark.parametrize(("agents", "calls_per_hour"), [(12, 150), (3, 40), (30, 400), (100, 1470)])
def test_very_patient_callers_give_erlang_c(agents: int, calls_per_hour: float) -> None:
    c = erlang_c_metrics(
        agents=agents, arrivals_per_hour=calls_per_hour, aht_seconds=240, sl_threshold_seconds=20
    )
    a = erlang_a_metrics(
        agents=agents,
        arrivals_per_hour=calls_per_hour,
        aht_seconds=240,
        patience_seconds=1e9,
        sl_threshold_seconds=20,
    )
    assert a.p_wait == pytest.approx(c.p_wait, abs=1e-4)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-4)
    # Waits converge more slowly in seconds (at 1e9 s a 574 s ASA is 0.008 s shorter).
    assert a.asa_seconds == pytest.approx(c.asa_seconds, rel=1e-4)
    assert a.asa_answered_seconds == pytest.approx(c.asa_seconds, rel=1e-4)
    assert a.occupancy == pytest.approx(c.occupancy, abs=1e-4)
    assert a.p_abandon < 1e-6


@given(
    st.integers(min_value=1, max_value=40),
    st.floats(min_value=1.0, max_value=2000.0),
    st.floats(min_value=5.0, max_value=3600.0),
    st.floats(min_value=1.01, max_value=10.0),
)
@settings(max_examples=60)
def test_less_patience_means_more_abandons(
    agents: int, calls: float, patience: float, shorter_by: float
) -> None:
    def run(patience_seconds: float) -> ErlangAResult:
        return erlang_a_metrics(
            agents=agents,
            arrivals_per_hour=calls,
            aht_seconds=180,
            patience_seconds=patience_seconds,
            sl_threshold_seconds=20,
        )

    patient, impatient = run(patience), run(patience / shorter_by)
    assert impatient.p_abandon >= patient.p_abandon - 1e-12
    for result in (patient, impatient):
        shares = (result.p_wait, result.p_abandon, result.service_level, result.occupancy)
        assert all(0.0 <= share <= 1.0 for share in shares)
        assert result.service_level + result.p_abandon_within_threshold <= 1.0 + 1e-12
        assert result.p_abandon_within_threshold <= result.p_abandon + 1e-12


def test_large_contact_centres_stay_finite() -> None:
    # 2000 agents, 1900 Erlangs: no factorial, no overflow, well within the time budget.
    assert 0.0 < erlang_b(2000, 1900.0) < erlang_c(2000, 1900.0) < 1.0
    c = erlang_c_metrics(
        agents=2000, arrivals_per_hour=1900 * 15, aht_seconds=240, sl_threshold_seconds=20
    )
    assert 0.0 < c.p_wait < 1.0
    assert math.isfinite(c.asa_seconds)
    needed = agents_for_service_level(
        arrivals_per_hour=1900 * 15, aht_seconds=240, sl_threshold_seconds=20, target=0.9
    )
    assert 1900 < needed <= 2000
    for patience, calls_per_hour in ((1e9, 1900 * 15), (180.0, 1900 * 15), (180.0, 2100 * 15)):
        a = erlang_a_metrics(
            agents=2000,
            arrivals_per_hour=calls_per_hour,
            aht_seconds=240,
            patience_seconds=patience,
            sl_threshold_seconds=20,
        )
        shares = (a.p_wait, a.p_abandon, a.service_level, a.occupancy)
        assert all(0.0 <= share <= 1.0 for share in shares)
        assert math.isfinite(a.asa_seconds)
        assert math.isfinite(a.asa_answered_seconds)


def test_a_tiny_load_on_many_agents_never_waits() -> None:
    assert erlang_b(2000, 1.0) == 0.0
    a = erlang_a_metrics(
        agents=2000,
        arrivals_per_hour=15,
        aht_seconds=240,
        patience_seconds=60,
        sl_threshold_seconds=0,
    )
    assert (a.p_wait, a.p_abandon, a.service_level) == (0.0, 0.0, 1.0)
    assert a.occupancy == pytest.approx(1 / 2000)


def test_no_calls_means_idle_agents() -> None:
    a = erlang_a_metrics(
        agents=3, arrivals_per_hour=0, aht_seconds=240, patience_seconds=60, sl_threshold_seconds=20
    )
    assert a == ErlangAResult(0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)


def test_a_queue_that_never_settles_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Twice the load the agents can take, and callers who wait for ever: the queue runs
    # to millions of calls. The cap is lowered here only to keep the test fast.
    monkeypatch.setattr(erlang, "_MAX_QUEUE_STATES", 1000)
    with pytest.raises(InvalidInput, match="does not settle") as caught:
        erlang_a_metrics(
            agents=10,
            arrivals_per_hour=300,
            aht_seconds=240,
            patience_seconds=1e9,
            sl_threshold_seconds=20,
        )
    assert caught.value.extra == {"field": "patience_seconds"}
