"""A simulation scenario: queues with their traffic, agents with their skills.

A scenario file is JSON:

    {"hours": 8, "seed": 1, "sl_threshold_seconds": 20, "warmup_seconds": 1800,
     "queues": [{"name": "billing", "channel": "voice", "arrivals_per_hour": 120,
                 "aht_seconds": 240, "handle": "lognormal", "handle_cv": 0.8,
                 "patience_seconds": 180, "target": "skills HAS 'billing'",
                 "wrap_up_seconds": 0}],
     "agents": [{"count": 12, "attributes": {"skills": {"billing": 2}},
                 "capacity": {"voice": 1}}],
     "workflow": [{"name": "billing", "when": "queue == 'billing'",
                   "targets": [{"queue": "billing", "timeout_seconds": 60},
                               {"queue": "general"}]}]}

Without ``workflow``, each task goes to the queue it arrived for. Tasks carry the
attribute ``queue`` (the name they arrived for) for filters to read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opencx.core.enums import Channel
from opencx.core.errors import InvalidInput
from opencx.core.routing.expressions import TRUE, compile_expression
from opencx.core.routing.model import Filter, QueueSpec, Target, Workflow

__all__ = ["AgentGroup", "QueueTraffic", "Scenario", "load_scenario", "single_queue"]

HANDLE_DISTRIBUTIONS = ("exponential", "lognormal")


@dataclass(frozen=True, slots=True)
class QueueTraffic:
    spec: QueueSpec
    arrivals_per_hour: float
    aht_seconds: float
    handle: str = "exponential"
    handle_cv: float = 1.0
    patience_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class AgentGroup:
    count: int
    attributes: Mapping[str, Any] = field(default_factory=dict)
    capacity: Mapping[Channel, int] = field(default_factory=lambda: {Channel.VOICE: 1})


@dataclass(frozen=True, slots=True)
class Scenario:
    queues: tuple[QueueTraffic, ...]
    agents: tuple[AgentGroup, ...]
    workflow: Workflow
    hours: float
    seed: int = 1
    sl_threshold_seconds: float = 20.0
    warmup_seconds: float = 0.0


def single_queue(
    *,
    agents: int,
    arrivals_per_hour: float,
    aht_seconds: float,
    hours: float,
    seed: int,
    sl_threshold_seconds: float,
    patience_seconds: float | None = None,
    handle: str = "exponential",
    warmup_seconds: float | None = None,
) -> Scenario:
    """The M/M/c (or M/M/c+M with patience) set-up of the ``simulate`` options."""
    _check_positive(agents=agents, arrivals_per_hour=arrivals_per_hour)
    _check_positive(aht_seconds=aht_seconds, hours=hours)
    queue = QueueTraffic(
        spec=QueueSpec(
            id=1, name="main", channel=Channel.VOICE, expected_handle_seconds=aht_seconds
        ),
        arrivals_per_hour=arrivals_per_hour,
        aht_seconds=aht_seconds,
        handle=handle,
        patience_seconds=patience_seconds,
    )
    workflow = Workflow(filters=(Filter("all", TRUE, (Target(queue_id=1),)),))
    warmup = min(hours * 3600 * 0.1, 3600.0) if warmup_seconds is None else warmup_seconds
    return Scenario(
        queues=(queue,),
        agents=(AgentGroup(count=agents),),
        workflow=workflow,
        hours=hours,
        seed=seed,
        sl_threshold_seconds=sl_threshold_seconds,
        warmup_seconds=warmup,
    )


def load_scenario(text: str, *, seed: int | None = None) -> Scenario:
    """Parse a scenario file; every mistake is an ``InvalidInput`` naming its place."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the scenario is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput("the scenario must be a JSON object")
    queues = tuple(_queue(i, q) for i, q in enumerate(_list(data, "queues"), start=1))
    ids = {q.spec.name: q.spec.id for q in queues}
    if len(ids) != len(queues):
        raise InvalidInput("queue names must be unique")
    agents = tuple(_agents(i, a) for i, a in enumerate(_list(data, "agents")))
    if "workflow" in data:
        filters = tuple(_filter(i, f, ids) for i, f in enumerate(_list(data, "workflow")))
    else:
        filters = tuple(
            Filter(
                name,
                compile_expression(f"queue == {json.dumps(name)}", default_root="task"),
                (Target(queue_id=queue_id),),
            )
            for name, queue_id in ids.items()
        )
    hours = _number(data, "hours", "hours", default=8.0)
    _check_positive(hours=hours)
    return Scenario(
        queues=queues,
        agents=agents,
        workflow=Workflow(filters=filters),
        hours=hours,
        seed=int(_number(data, "seed", "seed", default=1)) if seed is None else seed,
        sl_threshold_seconds=_number(data, "sl_threshold_seconds", "sl", default=20.0),
        warmup_seconds=_number(data, "warmup_seconds", "warmup", default=0.0),
    )


def _queue(queue_id: int, data: Any) -> QueueTraffic:
    where = f"queues[{queue_id - 1}]"
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise InvalidInput(f"{where} needs a name")
    try:
        channel = Channel(data.get("channel", "voice"))
    except ValueError:
        raise InvalidInput(f"{where}.channel is not a channel") from None
    handle = data.get("handle", "exponential")
    if handle not in HANDLE_DISTRIBUTIONS:
        raise InvalidInput(f"{where}.handle must be one of {', '.join(HANDLE_DISTRIBUTIONS)}")
    aht = _number(data, "aht_seconds", where)
    patience = data.get("patience_seconds")
    spec = QueueSpec(
        id=queue_id,
        name=data["name"],
        channel=channel,
        target=compile_expression(str(data.get("target", "")), default_root="worker"),
        wrap_up_seconds=_number(data, "wrap_up_seconds", where, default=0.0),
        expected_handle_seconds=aht,
    )
    traffic = QueueTraffic(
        spec=spec,
        arrivals_per_hour=_number(data, "arrivals_per_hour", where),
        aht_seconds=aht,
        handle=handle,
        handle_cv=_number(data, "handle_cv", where, default=1.0),
        patience_seconds=None if patience is None else _number(data, "patience_seconds", where),
    )
    _check_positive(aht_seconds=traffic.aht_seconds, handle_cv=traffic.handle_cv)
    return traffic


def _agents(index: int, data: Any) -> AgentGroup:
    where = f"agents[{index}]"
    if not isinstance(data, dict):
        raise InvalidInput(f"{where} must be an object")
    capacity = data.get("capacity", {"voice": 1})
    try:
        parsed = {Channel(k): int(v) for k, v in capacity.items()}
    except (AttributeError, ValueError, TypeError):
        raise InvalidInput(f"{where}.capacity maps channels to numbers") from None
    attributes = data.get("attributes", {})
    if not isinstance(attributes, dict):
        raise InvalidInput(f"{where}.attributes must be an object")
    return AgentGroup(int(_number(data, "count", where)), attributes, parsed)


def _filter(index: int, data: Any, queue_ids: Mapping[str, int]) -> Filter:
    where = f"workflow[{index}]"
    if not isinstance(data, dict):
        raise InvalidInput(f"{where} must be an object")
    targets = []
    for target in _list(data, "targets"):
        name = target.get("queue") if isinstance(target, dict) else None
        if not isinstance(name, str) or name not in queue_ids:
            raise InvalidInput(f"{where} names queue {name!r}, which the scenario lacks")
        timeout = target.get("timeout_seconds")
        targets.append(
            Target(
                queue_id=queue_ids[name],
                expression=compile_expression(
                    str(target.get("expression", "")), default_root="worker"
                ),
                timeout_seconds=None if timeout is None else float(timeout),
            )
        )
    return Filter(
        name=str(data.get("name", f"filter {index}")),
        expression=compile_expression(str(data.get("when", "")), default_root="task"),
        targets=tuple(targets),
    )


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise InvalidInput(f"the scenario needs a non-empty list {key!r}")
    return value


def _number(
    data: Mapping[str, Any], key: str, where: str, *, default: float | None = None
) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{where}.{key} must be a number")
    return float(value)


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise InvalidInput(f"{name.replace('_', '-')} must be greater than zero")
