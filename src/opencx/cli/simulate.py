"""``opencx simulate``: staffing what-ifs, by driving the real router with simulated traffic."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from opencx.core.erlang import erlang_a_metrics, erlang_c_metrics
from opencx.core.errors import InvalidInput
from opencx.simulation.engine import SimulationResult, simulate
from opencx.simulation.scenario import Scenario, load_scenario, single_queue

__all__ = ["simulate_command"]

console = Console(stderr=True)


def simulate_command(
    agents: Annotated[int | None, typer.Option(help="Agents, all on the one queue.")] = None,
    arrivals_per_hour: Annotated[float | None, typer.Option(help="Mean arrivals per hour.")] = None,
    aht_seconds: Annotated[float | None, typer.Option(help="Mean handle time.")] = None,
    hours: Annotated[float | None, typer.Option(help="Simulated hours [default: 8].")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed [default: 1].")] = None,
    sl_threshold: Annotated[float, typer.Option(help="Service-level threshold, seconds.")] = 20,
    patience_seconds: Annotated[
        float | None, typer.Option(help="Mean patience before abandoning (none: never).")
    ] = None,
    handle: Annotated[str, typer.Option(help="exponential or lognormal handle times.")] = (
        "exponential"
    ),
    scenario: Annotated[
        Path | None, typer.Option(help="A JSON scenario with several queues and skills.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Simulate a day of traffic through the real routing engine and measure it."""
    try:
        setup = _scenario(
            scenario,
            agents,
            arrivals_per_hour,
            aht_seconds,
            hours,
            seed,
            sl_threshold,
            patience_seconds,
            handle,
        )
    except InvalidInput as exc:
        console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from None
    result = _run(setup, quiet=as_json)
    figures = result.to_json()
    predicted = _erlang(setup) if scenario is None else None
    if predicted is not None:
        figures["erlang"] = predicted
    if as_json:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        _print(result, predicted)


def _scenario(
    path: Path | None,
    agents: int | None,
    arrivals_per_hour: float | None,
    aht_seconds: float | None,
    hours: float | None,
    seed: int | None,
    sl_threshold: float,
    patience_seconds: float | None,
    handle: str,
) -> Scenario:
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read the scenario {path}: {exc.strerror}") from None
        loaded = load_scenario(text, seed=seed)
        if hours is None:
            return loaded
        return Scenario(
            queues=loaded.queues,
            agents=loaded.agents,
            workflow=loaded.workflow,
            hours=hours,
            seed=loaded.seed,
            sl_threshold_seconds=loaded.sl_threshold_seconds,
            warmup_seconds=loaded.warmup_seconds,
        )
    missing = [
        f"--{name}"
        for name, value in (
            ("agents", agents),
            ("arrivals-per-hour", arrivals_per_hour),
            ("aht-seconds", aht_seconds),
        )
        if value is None
    ]
    if missing:
        raise InvalidInput(f"give {', '.join(missing)}, or a --scenario file")
    if handle not in ("exponential", "lognormal"):
        raise InvalidInput("--handle is exponential or lognormal")
    assert agents is not None
    assert arrivals_per_hour is not None
    assert aht_seconds is not None
    return single_queue(
        agents=agents,
        arrivals_per_hour=arrivals_per_hour,
        aht_seconds=aht_seconds,
        hours=8.0 if hours is None else hours,
        seed=1 if seed is None else seed,
        sl_threshold_seconds=sl_threshold,
        patience_seconds=patience_seconds,
        handle=handle,
    )


def _run(setup: Scenario, *, quiet: bool) -> SimulationResult:
    if quiet:
        return simulate(setup)
    with Progress(
        TextColumn("Simulating"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("simulate", total=1.0)
        return simulate(setup, progress=lambda done: bar.update(task, completed=done))


def _erlang(setup: Scenario) -> dict[str, Any] | None:
    """What queueing theory predicts for the one-queue set-up (M/M/c, or M/M/c+M)."""
    (queue,) = setup.queues
    agents = setup.agents[0].count
    if queue.handle != "exponential":
        return None
    rate, aht, sl = queue.arrivals_per_hour, queue.aht_seconds, setup.sl_threshold_seconds
    if queue.patience_seconds is not None:
        try:
            a = erlang_a_metrics(
                agents=agents,
                arrivals_per_hour=rate,
                aht_seconds=aht,
                patience_seconds=queue.patience_seconds,
                sl_threshold_seconds=sl,
            )
        except InvalidInput:
            return None  # beyond what the exact chain computes: show the simulation alone
        return {
            "model": "erlang_a",
            "p_wait": a.p_wait,
            "service_level": a.service_level,
            "asa_seconds": a.asa_answered_seconds,
            "abandon_rate": a.p_abandon,
            "occupancy": a.occupancy,
        }
    if queue.arrivals_per_hour * queue.aht_seconds / 3600 >= agents:
        return None  # unstable: Erlang C has no steady state
    c = erlang_c_metrics(
        agents=agents, arrivals_per_hour=rate, aht_seconds=aht, sl_threshold_seconds=sl
    )
    return {
        "model": "erlang_c",
        "p_wait": c.p_wait,
        "service_level": c.service_level,
        "asa_seconds": c.asa_seconds,
        "abandon_rate": 0.0,
        "occupancy": c.occupancy,
    }


def _print(result: SimulationResult, predicted: dict[str, Any] | None) -> None:
    table = Table(title=f"{result.hours:g} h simulated, {result.agents} agents, seed {result.seed}")
    table.add_column("figure")
    table.add_column("simulated", justify="right")
    if predicted is not None:
        table.add_column(predicted["model"].replace("_", " ").title(), justify="right")
    rows = [
        ("offered", f"{result.offered}", None),
        ("answered", f"{result.answered}", None),
        ("abandoned", f"{result.abandoned} ({result.abandon_rate:.1%})", "abandon_rate"),
        ("service level", f"{result.service_level:.1%}", "service_level"),
        ("P(wait)", f"{result.p_wait:.1%}", "p_wait"),
        ("ASA", f"{result.asa_seconds:.1f} s", "asa_seconds"),
        ("occupancy", f"{result.occupancy:.1%}", "occupancy"),
    ]
    for label, value, key in rows:
        cells = [label, value]
        if predicted is not None:
            theory = predicted.get(key) if key else None
            cells.append(
                ""
                if theory is None
                else (f"{theory:.1f} s" if key == "asa_seconds" else f"{theory:.1%}")
            )
        table.add_row(*cells)
    Console().print(table)
