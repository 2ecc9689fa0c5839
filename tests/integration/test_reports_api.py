"""Interval reports through the API, from contacts routed for real: a chat answered,
wrapped up and ended, another abandoned while offered; the figures the job folds,
the same after a rebuild from the log, and who sees them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from opencx.core.enums import Role
from opencx.core.kpis import COUNTER_FIELDS
from opencx.db.models import ReportInterval, ReportQueueInterval
from opencx.features.context import AppContext
from opencx.features.reports import IntervalReport, rebuild_intervals, refresh_intervals
from opencx.testing import FakeClock
from tests.conftest import Caller, MakeCaller
from tests.integration.test_routing_api import (
    Floor,
    agent_on,
    call,
    new_task,
    offers,
    router,  # noqa: F401 - the fixture
    task_when,
)

pytestmark = pytest.mark.timeout(30)

HOUR = {"from": "2026-01-05T09:00:00Z", "to": "2026-01-05T10:00:00Z"}


async def handled_then_abandoned(
    client: httpx.AsyncClient, floor: Floor, agent: Caller, clock: FakeClock
) -> None:
    """Chat 1 waits 10 s, is talked 60 s and wrapped up 5 s; chat 2 is abandoned while
    offered after 3 s; the agent goes offline 2 s later (available 80 s)."""
    first = await task_when(client, floor.admin, (await new_task(client, floor))["id"], "reserved")
    clock.advance(10)
    [offer] = await offers(client, agent, state="pending")
    await call(client, agent, "POST", f"/reservations/{offer['id']}/accept")
    clock.advance(60)
    await call(client, agent, "POST", f"/tasks/{first['id']}/complete")
    clock.advance(5)
    await call(client, agent, "POST", f"/tasks/{first['id']}/end-wrap-up")
    second = await task_when(client, floor.admin, (await new_task(client, floor))["id"], "reserved")
    clock.advance(3)
    await call(client, floor.admin, "POST", f"/tasks/{second['id']}/cancel")
    clock.advance(2)
    me = agent.user.id
    await call(client, agent, "PUT", f"/users/{me}/presence", {"state": "offline", "reason": None})


@pytest.fixture
async def floor(client: httpx.AsyncClient, admin: Caller) -> Floor:
    site = await call(client, admin, "POST", "/sites", {"name": "Lyon"}, expect=201)
    skill = await call(client, admin, "POST", "/skills", {"name": "billing"}, expect=201)
    queue = await call(
        client,
        admin,
        "POST",
        "/queues",
        {
            "name": "Billing",
            "channel": "chat",
            "site_id": site["id"],
            "target_expression": "skills.billing >= 1",
            "service_level_seconds": 20,
            "short_abandon_seconds": 5,
        },
        expect=201,
    )
    assert queue["short_abandon_seconds"] == 5
    return Floor(admin, site["id"], skill["id"], queue["id"])


async def report(client: httpx.AsyncClient, caller: Caller, **params: Any) -> Any:
    return await call(client, caller, "GET", "/reports/intervals", params={**HOUR, **params})


async def test_figures_of_a_real_flow_and_the_same_after_a_rebuild(
    client: httpx.AsyncClient,
    ctx: AppContext,
    floor: Floor,
    make_caller: MakeCaller,
    clock: FakeClock,
    router: None,  # noqa: F811
) -> None:
    agent = await agent_on(client, make_caller, floor)
    supervisor = await make_caller(Role.SUPERVISOR)
    await handled_then_abandoned(client, floor, agent, clock)
    # The first run folds the events a minute old (the chat answered), the second the
    # rest, from the open state the first one saved.
    assert 0 < await refresh_intervals(ctx) < 20
    clock.advance(120)
    assert await refresh_intervals(ctx) > 0
    assert await refresh_intervals(ctx) == 0

    by_queue = await report(client, supervisor)
    assert by_queue["service_level_variant"] == (
        "answered_in_target_over_offered_less_short_abandons"
    )
    [queue_total] = [t for t in by_queue["totals"] if t["queue_id"] == floor.queue_id]
    c, k = queue_total["counters"], queue_total["kpis"]
    assert (c["offered"], c["answered"], c["abandoned"], c["abandoned_short"]) == (2, 1, 1, 1)
    assert (c["answer_wait_seconds"], c["talk_seconds"], c["wrap_seconds"]) == (10, 60, 5)
    assert (c["handled"], c["completed"], c["transferred"]) == (1, 1, 0)
    assert k["service_level"] == 1.0  # 1 in target / (2 offered - 1 short abandon)
    assert k["service_level_answered_in_target_over_offered"] == 0.5
    assert (k["asa_seconds"], k["aht_seconds"], k["abandon_rate"]) == (10, 65, 0.5)
    assert [row["start"] for row in by_queue["intervals"]] == ["2026-01-05T09:00:00Z"] * 2

    [mine] = [
        t
        for t in (await report(client, supervisor, group="agent"))["totals"]
        if t["agent_id"] == agent.user.id
    ]
    assert mine["counters"]["available_seconds"] == 80
    assert mine["counters"]["busy_seconds"] == 65
    assert mine["kpis"]["occupancy"] == pytest.approx(65 / 80)

    heard: list[int] = []
    folded = await rebuild_intervals(ctx, on_progress=heard.append)
    assert folded > 0
    assert heard[-1] == folded  # a rebuild says how far it is after each batch
    assert await report(client, supervisor) == by_queue
    assert await queue_rows(ctx) == await queue_rows(ctx, summed=True)


async def test_who_sees_which_figures(
    client: httpx.AsyncClient,
    ctx: AppContext,
    admin: Caller,
    floor: Floor,
    make_caller: MakeCaller,
    clock: FakeClock,
    router: None,  # noqa: F811
) -> None:
    agent = await agent_on(client, make_caller, floor)
    await handled_then_abandoned(client, floor, agent, clock)
    clock.advance(120)
    await refresh_intervals(ctx)
    other = await call(
        client, admin, "POST", "/sites", {"name": "Partner", "kind": "partner"}, expect=201
    )
    outsider = await make_caller(Role.SUPERVISOR, site_id=other["id"])
    assert (await report(client, outsider))["totals"] == []
    await call(
        client,
        outsider,
        "GET",
        "/reports/intervals",
        params={**HOUR, "site_id": floor.site_id},
        expect=404,
    )
    lyon = await report(client, admin, group="site", site_id=floor.site_id)
    assert [t["site_id"] for t in lyon["totals"]] == [floor.site_id]
    await call(client, agent, "GET", "/reports/intervals", params=HOUR, expect=403)


async def queue_rows(ctx: AppContext, *, summed: bool = False) -> list[tuple[Any, ...]]:
    """The rows of ``report_queue_intervals``, or those of ``report_intervals`` summed
    over agents (what they must hold)."""
    model = ReportInterval if summed else ReportQueueInterval
    key = (model.start, model.queue_id, model.site_id, model.channel)
    columns = [
        func.max(getattr(model, name))
        if name in ("longest_wait_seconds", "backlog_at")
        else func.min(getattr(model, name))
        if name == "backlog_oldest"
        else func.sum(getattr(model, name))
        for name in COUNTER_FIELDS
    ]
    async with ctx.sessions() as session:
        rows = await session.execute(select(*key, *columns).group_by(*key).order_by(*key))
        return [tuple(row) for row in rows]


async def test_hours_sum_their_intervals(
    client: httpx.AsyncClient,
    ctx: AppContext,
    floor: Floor,
    make_caller: MakeCaller,
    clock: FakeClock,
    router: None,  # noqa: F811
) -> None:
    agent = await agent_on(client, make_caller, floor)
    await handled_then_abandoned(client, floor, agent, clock)
    clock.advance(120)
    await refresh_intervals(ctx)
    assert await queue_rows(ctx) == await queue_rows(ctx, summed=True)
    supervisor = await make_caller(Role.SUPERVISOR)
    for group in ("queue", "agent"):
        quarters = await report(client, supervisor, group=group)
        hours = await report(client, supervisor, group=group, step="1h")
        IntervalReport.model_validate(hours)
        assert hours["step"] == "1h"
        # One hour: each group's hour row is its total over the hour's intervals.
        assert [row["start"] for row in hours["intervals"]] == ["2026-01-05T09:00:00Z"] * len(
            quarters["totals"]
        )
        assert [{**row, "end": None} for row in hours["intervals"]] == [
            {**row, "start": "2026-01-05T09:00:00Z", "end": None} for row in quarters["totals"]
        ]
        assert hours["totals"] == quarters["totals"]


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-01-05T10:00:00Z", "to": "2026-01-05T09:00:00Z"},
        {"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        {**HOUR, "group": "planet"},
        {**HOUR, "step": "2h"},
        {"from": "0", "to": "2026-01-05T09:00:00Z"},
    ],
)
async def test_bad_ranges_are_problems(
    client: httpx.AsyncClient, admin: Caller, params: dict[str, str]
) -> None:
    response = await client.get("/api/v1/reports/intervals", params=params, headers=admin.headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
