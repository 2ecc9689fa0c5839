"""Queueing formulas: how many agents a queue needs, and what the routing simulator should see.

Pure: the standard library only, no I/O. Times are in seconds, arrivals per hour, and a
load ``A`` is in Erlangs (arrivals per second × mean handle time).

Rules:
- Erlang B (M/M/c/c) comes from the recursion ``B(k) = A·B(k-1) / (k + A·B(k-1))`` with
  ``B(0) = 1``: no factorial or power is ever formed, so thousands of agents and loads
  near 2000 Erlangs neither overflow nor lose precision;
- Erlang C (M/M/c) is derived from it, ``C = B / (1 - (A/c)·(1 - B))``; when ``A >= c``
  the queue grows without bound, so ``erlang_c`` answers 1.0 and ``erlang_c_metrics``
  refuses with ``InvalidInput`` naming the smallest stable head count, ``⌊A⌋ + 1``;
- Erlang A (M/M/c+M: callers hang up after an exponential patience) is solved exactly
  from its birth-death chain, in logarithms relative to the state "all agents busy, no
  one waiting"; the waiting states are cut off once all that is left weighs less than
  1e-16 of the whole (``InvalidInput`` if that takes more than a million states).
  ``erlang_a_metrics`` states which waits and service level it means: the ones a
  discrete-event simulation that records every call's wait estimates;
- a negative, NaN or infinite rate or time, or too few agents, raises ``InvalidInput``
  naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from opencx.core.errors import InvalidInput

__all__ = [
    "ErlangAResult",
    "ErlangCResult",
    "agents_for_service_level",
    "erlang_a_metrics",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
]

_SECONDS_PER_HOUR = 3600.0
# The waiting states of Erlang A are dropped once what remains is below e**-37 ≈ 8.5e-17
# of the total probability.
_LOG_NEGLIGIBLE = -37.0
# A patience so long (or an overload so deep) that the queue needs more states than this
# to settle is refused rather than answered slowly or wrongly.
_MAX_QUEUE_STATES = 1_000_000


@dataclass(frozen=True, slots=True)
class ErlangCResult:
    """What an M/M/c queue (no one hangs up) gives callers and agents."""

    #: Probability that a call waits at all: the Erlang C formula.
    p_wait: float
    #: Share of calls answered within the threshold: ``1 - C·exp(-(c - A)·t / AHT)``.
    service_level: float
    #: Mean wait over all calls, those answered at once included: ``C·AHT / (c - A)``.
    asa_seconds: float
    #: Mean share of time an agent is busy: ``A / c``.
    occupancy: float


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    """What an M/M/c+M queue (callers hang up after an exponential patience) gives.

    Every share is a share of *offered* calls, counted once each, as a simulation that
    records each call's fate and time in queue would count them.
    """

    #: Share of calls that find every agent busy (answered later or abandoned).
    p_wait: float
    #: Share of calls that hang up before an agent answers: ``θ·E[queue] / λ``.
    p_abandon: float
    #: Calls answered with a wait of at most the threshold, over *all* offered calls:
    #: every abandoned call counts against it, however early it hung up.
    service_level: float
    #: Mean time in queue over all offered calls, answered and abandoned alike (an
    #: abandoned call counts the time until it hung up, a call answered at once 0):
    #: ``E[queue] / λ`` by Little's law.
    asa_seconds: float
    #: Mean share of time an agent is busy: ``A·(1 - p_abandon) / c``.
    occupancy: float
    #: Mean wait of the answered calls only.
    asa_answered_seconds: float
    #: Share of offered calls that hang up within the threshold. The other common
    #: service level, answered within t / (offered - abandoned within t), is
    #: ``service_level / (1 - p_abandon_within_threshold)``.
    p_abandon_within_threshold: float


def erlang_b(agents: int, load: float) -> float:
    """Probability that a call is lost when ``agents`` serve ``load`` Erlangs with no queue."""
    _check_agents(agents, minimum=0)
    _check_non_negative("load", load)
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = _next_blocking(blocking, k, load)
    return blocking


def erlang_c(agents: int, load: float) -> float:
    """Probability that a call waits (M/M/c); 1.0 when ``load >= agents``."""
    blocking = erlang_b(agents, load)
    if load >= agents:
        return 1.0
    return _wait_probability(agents, load, blocking)


def erlang_c_metrics(
    *, agents: int, arrivals_per_hour: float, aht_seconds: float, sl_threshold_seconds: float
) -> ErlangCResult:
    """Erlang C waits, service level and occupancy; ``InvalidInput`` if the queue is unstable."""
    load = _offered_load(arrivals_per_hour, aht_seconds)
    _check_non_negative("sl_threshold_seconds", sl_threshold_seconds)
    _check_agents(agents, minimum=1)
    _check_stable(agents, load)
    p_wait = erlang_c(agents, load)
    return ErlangCResult(
        p_wait=p_wait,
        service_level=_service_level(agents, load, p_wait, aht_seconds, sl_threshold_seconds),
        asa_seconds=p_wait * aht_seconds / (agents - load),
        occupancy=load / agents,
    )


def agents_for_service_level(
    *,
    arrivals_per_hour: float,
    aht_seconds: float,
    sl_threshold_seconds: float,
    target: float,
    max_occupancy: float = 1.0,
) -> int:
    """The fewest agents whose Erlang C service level reaches ``target`` within the threshold.

    The head count must also keep the occupancy ``A / c`` at or below ``max_occupancy``.
    """
    load = _offered_load(arrivals_per_hour, aht_seconds)
    _check_non_negative("sl_threshold_seconds", sl_threshold_seconds)
    if not 0.0 <= target < 1.0:
        raise InvalidInput(
            "target must lie in [0, 1): no head count makes 100% certain", field="target"
        )
    if not 0.0 < max_occupancy <= 1.0:
        raise InvalidInput("max_occupancy must lie in (0, 1]", field="max_occupancy")
    agents, blocking = 0, 1.0
    while True:
        agents += 1
        blocking = _next_blocking(blocking, agents, load)
        if load >= agents or load / agents > max_occupancy:
            continue
        p_wait = _wait_probability(agents, load, blocking)
        if _service_level(agents, load, p_wait, aht_seconds, sl_threshold_seconds) >= target:
            return agents


def erlang_a_metrics(
    *,
    agents: int,
    arrivals_per_hour: float,
    aht_seconds: float,
    patience_seconds: float,
    sl_threshold_seconds: float,
) -> ErlangAResult:
    """Erlang A (M/M/c+M, Palm's model), exact from the birth-death chain.

    States ``k = 0, 1, …`` count calls in the system; calls arrive at rate ``λ``, and
    leave at rate ``min(k, c)·μ + max(k - c, 0)·θ`` (``μ = 1/AHT``, ``θ = 1/patience``).
    Arrivals see the stationary distribution ``π`` (PASTA); the queue is served first
    come, first served. With ``t`` the threshold and ``E[queue] = Σ (k - c)·π_k``:

    - ``p_wait = Σ_{k≥c} π_k`` and ``p_abandon = θ·E[queue] / λ``;
    - ``asa_seconds = E[queue] / λ``: the mean time in queue of *all* offered calls,
      abandoned calls counting the time until they hung up (Little's law);
    - a call that finds ``q`` calls waiting ahead of it moves up through ``q + 1``
      stages: with ``i`` calls ahead, an agent frees up or one of them hangs up at
      rate ``cμ + iθ``, and the call itself hangs up at rate ``θ``. So it is answered
      with probability ``cμ / (cμ + (q + 1)θ)``, and then after a sum of exponential
      stages of rates ``cμ + (i + 1)θ``, ``i = 0…q``, whose mean gives
      ``asa_answered_seconds`` and whose distribution gives
    - ``service_level = P(answered with wait <= t)`` over all offered calls (calls that
      find a free agent are answered with wait 0), and
    - ``p_abandon_within_threshold = P(hung up with wait <= t)``.

    A sum of exponentials of rates ``θ(α + i)``, ``i = 0…q``, is ``-ln X / θ`` with
    ``X ~ Beta(α, q + 1)``, so its tail ``P(> t)`` is the negative binomial sum
    ``Σ_{j≤q} Γ(α+j) / (Γ(α)·j!) · e^{-αθt} · (1 - e^{-θt})^j``: all terms positive, and
    taken in logarithms, so exact to rounding even for patience close to infinity.
    """
    _check_agents(agents, minimum=1)
    load = _offered_load(arrivals_per_hour, aht_seconds)
    _check_positive("patience_seconds", patience_seconds)
    _check_non_negative("sl_threshold_seconds", sl_threshold_seconds)
    chain = _Chain(
        agents=agents,
        arrival_rate=arrivals_per_hour / _SECONDS_PER_HOUR,
        service_rate=1.0 / aht_seconds,
        abandon_rate=1.0 / patience_seconds,
    )
    if chain.arrival_rate == 0.0:
        return ErlangAResult(0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    free, queue = _queue_probabilities(chain, load)
    return _erlang_a(chain, free, queue, sl_threshold_seconds)


@dataclass(frozen=True, slots=True)
class _Chain:
    """The M/M/c+M birth-death chain, rates per second."""

    agents: int
    arrival_rate: float
    service_rate: float
    abandon_rate: float

    @property
    def full_rate(self) -> float:
        """The rate at which all agents together finish calls when all are busy."""
        return self.agents * self.service_rate

    def answered(self, ahead: int) -> float:
        """Probability that a call finding ``ahead`` calls waiting is answered."""
        return self.full_rate / (self.full_rate + (ahead + 1) * self.abandon_rate)


def _erlang_a(chain: _Chain, free: float, queue: list[float], threshold: float) -> ErlangAResult:
    """The metrics from ``free = P(an agent free)`` and ``queue[q] = P(all busy, q waiting)``."""
    p_wait = math.fsum(queue)
    mean_queue = math.fsum(q * p for q, p in enumerate(queue))
    p_abandon = chain.abandon_rate * mean_queue / chain.arrival_rate
    answered_late = [p * chain.answered(q) for q, p in enumerate(queue)]
    answered_tails = _wait_tails(chain.full_rate + chain.abandon_rate, chain, threshold, len(queue))
    answered_within = free + math.fsum(
        p * (1.0 - tail) for p, tail in zip(answered_late, answered_tails, strict=True)
    )
    load = chain.arrival_rate / chain.service_rate
    return ErlangAResult(
        p_wait=_share(p_wait),
        p_abandon=_share(p_abandon),
        service_level=_share(answered_within),
        asa_seconds=mean_queue / chain.arrival_rate,
        occupancy=_share(load * (1.0 - p_abandon) / chain.agents),
        asa_answered_seconds=_mean_answered_wait(chain, free, answered_late),
        p_abandon_within_threshold=_share(
            _abandoned_within(chain, queue, answered_tails, threshold)
        ),
    )


def _share(probability: float) -> float:
    """Clamp a probability summed in floating point (it may stray by an ulp) into [0, 1]."""
    return min(1.0, max(0.0, probability))


def _mean_answered_wait(chain: _Chain, free: float, answered_late: list[float]) -> float:
    """Mean wait of answered calls; stage ``i`` of a call answered late lasts ``1/(cμ+(i+1)θ)``
    on average."""
    total_wait, stages = [], 0.0
    for q, p in enumerate(answered_late):
        stages += 1.0 / (chain.full_rate + (q + 1) * chain.abandon_rate)
        total_wait.append(p * stages)
    return math.fsum(total_wait) / (free + math.fsum(answered_late))


def _abandoned_within(
    chain: _Chain, queue: list[float], answered_tails: list[float], threshold: float
) -> float:
    """P(hung up by t): those who waited, less those answered by t and those still waiting
    at t (patience and wait-ignoring-patience both longer than t)."""
    virtual_tails = _wait_tails(chain.full_rate, chain, threshold, len(queue))
    still_patient = math.exp(-chain.abandon_rate * threshold)
    shares = (
        max(0.0, 1.0 - chain.answered(q) * (1.0 - answered) - still_patient * virtual)
        for q, (answered, virtual) in enumerate(zip(answered_tails, virtual_tails, strict=True))
    )
    return math.fsum(p * share for p, share in zip(queue, shares, strict=True))


def _wait_tails(first_rate: float, chain: _Chain, threshold: float, count: int) -> list[float]:
    """``P(Σ_{i≤q} Exp(first_rate + iθ) > t)`` for ``q < count``: negative binomial sums."""
    if threshold == 0.0:
        return [1.0] * count
    theta = chain.abandon_rate
    alpha = first_rate / theta
    log_step = math.log(-math.expm1(-theta * threshold))
    log_term, total, tails = -first_rate * threshold, 0.0, []
    for j in range(count):
        if j:
            log_term += math.log((alpha + j - 1) / j) + log_step
        total += math.exp(log_term)
        tails.append(min(total, 1.0))
    return tails


def _queue_probabilities(chain: _Chain, load: float) -> tuple[float, list[float]]:
    """``Σ_{k<c} π_k`` (a free agent), and ``π_{c+q}`` for ``q = 0, 1, …`` until negligible.

    Relative to ``π_c``, the states up to ``c`` weigh ``1/B(c, A)`` in all (those of an
    Erlang B system), and state ``c + q`` weighs ``Π_{j≤q} λ / (cμ + jθ)``.
    """
    blocking = erlang_b(chain.agents, load)
    if blocking == 0.0:  # all agents busy less often than the smallest float
        return 1.0, [0.0]
    log_below = -math.log(blocking)
    log_weights = _log_queue_weights(chain, log_below)
    top = max(log_below, *log_weights)
    scale = math.exp(log_below - top) + math.fsum(math.exp(w - top) for w in log_weights[1:])
    queue = [math.exp(w - top) / scale for w in log_weights]
    return queue[0] * (1.0 - blocking) / blocking, queue


def _log_queue_weights(chain: _Chain, log_below: float) -> list[float]:
    """``log(π_{c+q} / π_c)``, stopping once a bound on the remaining tail is negligible."""
    log_arrival = math.log(chain.arrival_rate)
    weights, top = [0.0], log_below
    for q in range(1, _MAX_QUEUE_STATES + 1):
        weights.append(weights[-1] + log_arrival - math.log(_leave_rate(chain, q)))
        top = max(top, weights[-1])
        ratio = chain.arrival_rate / _leave_rate(chain, q + 1)
        # Later ratios are smaller still, so the rest sums to at most weight·r/(1 - r).
        if ratio < 1.0 and weights[-1] + math.log(ratio / (1.0 - ratio)) < top + _LOG_NEGLIGIBLE:
            return weights
    raise InvalidInput(
        f"the queue does not settle within {_MAX_QUEUE_STATES} waiting calls; "
        "the patience is too long for this overload",
        field="patience_seconds",
    )


def _leave_rate(chain: _Chain, waiting: int) -> float:
    return chain.full_rate + waiting * chain.abandon_rate


def _next_blocking(blocking: float, agents: int, load: float) -> float:
    return load * blocking / (agents + load * blocking)


def _wait_probability(agents: int, load: float, blocking: float) -> float:
    return min(1.0, blocking / (1.0 - load / agents * (1.0 - blocking)))


def _service_level(
    agents: int, load: float, p_wait: float, aht_seconds: float, threshold: float
) -> float:
    return 1.0 - p_wait * math.exp(-(agents - load) * threshold / aht_seconds)


def _offered_load(arrivals_per_hour: float, aht_seconds: float) -> float:
    _check_non_negative("arrivals_per_hour", arrivals_per_hour)
    _check_positive("aht_seconds", aht_seconds)
    return arrivals_per_hour * aht_seconds / _SECONDS_PER_HOUR


def _check_stable(agents: int, load: float) -> None:
    if load >= agents:
        minimum = math.floor(load) + 1
        raise InvalidInput(
            f"the queue is unstable: {load:.6g} Erlangs offered to {agents} agents grows "
            f"without bound; at least {minimum} agents are needed",
            field="agents",
            minimum_agents=minimum,
        )


def _check_agents(agents: int, *, minimum: int) -> None:
    if agents < minimum:
        raise InvalidInput(f"agents must be at least {minimum}", field="agents")


def _check_non_negative(field: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0.0):
        raise InvalidInput(f"{field} must be a finite number >= 0", field=field)


def _check_positive(field: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0.0):
        raise InvalidInput(f"{field} must be a finite number > 0", field=field)
