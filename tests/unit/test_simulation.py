"""The simulator drives the real router; on M/M/c it must agree with queueing theory.

Tolerances are statistical: each case simulates about 40,000 calls, for which the
batch-to-batch spread of the figures (checked over 20 seeds when the tolerances were set)
stays well inside them.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from opencx.cli.main import app
from opencx.core.erlang import erlang_a_metrics, erlang_c_metrics
from opencx.core.errors import InvalidInput
from opencx.simulation.engine import simulate
from opencx.simulation.scenario import load_scenario, single_queue


@pytest.mark.parametrize(
    ("agents", "arrivals_per_hour", "aht_seconds"),
    [
        (3, 36, 240),  # 2.4 Erlangs on 3 agents: 80 % busy
        (12, 135, 240),  # 9 Erlangs on 12 agents: 75 %
        (30, 400, 225),  # 25 Erlangs on 30 agents: 83 %
    ],
)
def test_erlang_c_is_reproduced(agents: int, arrivals_per_hour: float, aht_seconds: float) -> None:
    hours = 40_000 / arrivals_per_hour
    result = simulate(
        single_queue(
            agents=agents,
            arrivals_per_hour=arrivals_per_hour,
            aht_seconds=aht_seconds,
            hours=hours,
            seed=11,
            sl_threshold_seconds=20,
        )
    )
    theory = erlang_c_metrics(
        agents=agents,
        arrivals_per_hour=arrivals_per_hour,
        aht_seconds=aht_seconds,
        sl_threshold_seconds=20,
    )
    assert result.abandoned == 0
    assert result.p_wait == pytest.approx(theory.p_wait, abs=0.04)
    assert result.service_level == pytest.approx(theory.service_level, abs=0.04)
    assert result.asa_seconds == pytest.approx(theory.asa_seconds, rel=0.15)
    assert result.occupancy == pytest.approx(theory.occupancy, abs=0.02)


@pytest.mark.parametrize(
    ("agents", "arrivals_per_hour", "aht_seconds", "patience"),
    [
        (5, 80, 240, 60),  # overloaded (5.3 Erlangs on 5): only impatience keeps it stable
        (10, 135, 240, 180),
    ],
)
def test_erlang_a_is_reproduced_with_impatient_callers(
    agents: int, arrivals_per_hour: float, aht_seconds: float, patience: float
) -> None:
    result = simulate(
        single_queue(
            agents=agents,
            arrivals_per_hour=arrivals_per_hour,
            aht_seconds=aht_seconds,
            hours=40_000 / arrivals_per_hour,
            seed=5,
            sl_threshold_seconds=20,
            patience_seconds=patience,
        )
    )
    theory = erlang_a_metrics(
        agents=agents,
        arrivals_per_hour=arrivals_per_hour,
        aht_seconds=aht_seconds,
        patience_seconds=patience,
        sl_threshold_seconds=20,
    )
    assert result.abandon_rate == pytest.approx(theory.p_abandon, abs=0.02)
    assert result.p_wait == pytest.approx(theory.p_wait, abs=0.03)
    assert result.service_level == pytest.approx(theory.service_level, abs=0.03)
    assert result.average_wait_seconds == pytest.approx(theory.asa_seconds, rel=0.1)
    assert result.asa_seconds == pytest.approx(theory.asa_answered_seconds, rel=0.1)


def test_the_same_seed_gives_the_same_day() -> None:
    def run(seed: int) -> dict[str, object]:
        scenario = single_queue(
            agents=4,
            arrivals_per_hour=50,
            aht_seconds=200,
            hours=10,
            seed=seed,
            sl_threshold_seconds=20,
            patience_seconds=90,
            handle="lognormal",
        )
        return simulate(scenario).to_json()

    assert run(3) == run(3)
    assert run(3) != run(4)


SCENARIO = {
    "hours": 20,
    "seed": 2,
    "sl_threshold_seconds": 30,
    "warmup_seconds": 1800,
    "queues": [
        {
            "name": "billing",
            "arrivals_per_hour": 60,
            "aht_seconds": 240,
            "target": "skills HAS 'billing'",
            "patience_seconds": 300,
        },
        {
            "name": "tech",
            "arrivals_per_hour": 40,
            "aht_seconds": 420,
            "handle": "lognormal",
            "handle_cv": 0.7,
            "target": "skills HAS 'tech'",
            "wrap_up_seconds": 30,
        },
        {
            "name": "chat",
            "channel": "chat",
            "arrivals_per_hour": 50,
            "aht_seconds": 600,
            "target": "skills HAS 'chat'",
        },
    ],
    "agents": [
        {"count": 4, "attributes": {"skills": {"billing": 2}}},
        {"count": 5, "attributes": {"skills": {"tech": 3, "billing": 1}}},
        {"count": 3, "attributes": {"skills": {"chat": 1}}, "capacity": {"chat": 3}},
    ],
    "workflow": [
        {
            "name": "billing",
            "when": "queue == 'billing'",
            "targets": [
                {"queue": "billing", "expression": "skills.billing >= 2", "timeout_seconds": 30},
                {"queue": "billing"},
            ],
        },
        {"name": "tech", "when": "queue == 'tech'", "targets": [{"queue": "tech"}]},
        {"name": "chat", "when": "queue == 'chat'", "targets": [{"queue": "chat"}]},
    ],
}


def test_a_scenario_with_skills_and_overflow_runs_per_queue() -> None:
    result = simulate(load_scenario(json.dumps(SCENARIO)))
    figures = {q.name: q for q in result.queues}
    assert set(figures) == {"billing", "tech", "chat"}
    assert sum(q.offered for q in result.queues) == result.offered > 2000
    assert figures["chat"].abandoned == 0
    assert figures["tech"].abandoned == 0
    assert 0 < result.occupancy < 1
    assert all(q.answered + q.abandoned + q.deflected == q.offered for q in result.queues)


def test_scenario_mistakes_are_named() -> None:
    broken = dict(SCENARIO, workflow=[{"when": "queue ==", "targets": [{"queue": "billing"}]}])
    with pytest.raises(InvalidInput, match="at column"):
        load_scenario(json.dumps(broken))
    unknown = dict(SCENARIO, workflow=[{"targets": [{"queue": "sales"}]}])
    with pytest.raises(InvalidInput, match="names queue 'sales'"):
        load_scenario(json.dumps(unknown))
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_scenario("{")


def test_the_cli_prints_one_json_object() -> None:
    runner = CliRunner()
    done = runner.invoke(
        app,
        [
            "simulate",
            "--agents",
            "5",
            "--arrivals-per-hour",
            "60",
            "--aht-seconds",
            "240",
            "--hours",
            "50",
            "--seed",
            "1",
            "--sl-threshold",
            "20",
            "--json",
        ],
    )
    assert done.exit_code == 0, done.output
    figures = json.loads(done.stdout)
    for key in (
        "offered",
        "answered",
        "abandoned",
        "service_level",
        "asa_seconds",
        "p_wait",
        "occupancy",
    ):
        assert key in figures
    assert figures["erlang"]["model"] == "erlang_c"
    assert figures["p_wait"] == pytest.approx(figures["erlang"]["p_wait"], abs=0.08)


def test_the_cli_says_what_is_missing() -> None:
    done = CliRunner().invoke(app, ["simulate", "--agents", "5", "--json"])
    assert done.exit_code == 2
    assert "--arrivals-per-hour, --aht-seconds" in done.output
