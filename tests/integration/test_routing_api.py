"""Routing through the API, as admins, supervisors and agents see it, with the router
running in the background of the test's event loop: the workflow, the life of a task
and its offers, who may act on what, explanations, site steering and queue waits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest

from opencx.core.enums import Role
from opencx.features.context import AppContext, transaction
from opencx.features.routing.commands import CommandKind, await_outcome, enqueue, wake_router
from opencx.features.routing.engine import routing_service
from opencx.testing import FakeClock
from tests.conftest import Caller, MakeCaller

pytestmark = pytest.mark.timeout(30)

API = "/api/v1"
#: How long a poll waits for the router before the test fails (it answers in ~0.2 s).
PATIENCE_SECONDS = 5.0
T = TypeVar("T")


@pytest.fixture
async def router(ctx: AppContext) -> AsyncIterator[None]:
    """The server's routing service, on the test's event loop and database. The test
    goes on once it has answered a first command, so it has loaded its state."""
    service = asyncio.create_task(routing_service(ctx))
    async with transaction(ctx) as session:
        ready = await enqueue(session, ctx, CommandKind.RELOAD)
    await await_outcome(ctx, ready.id)
    yield
    service.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await service


async def call(
    client: httpx.AsyncClient,
    caller: Caller,
    method: str,
    path: str,
    body: Any = None,
    *,
    expect: int = 200,
    params: dict[str, Any] | None = None,
) -> Any:
    response = await client.request(
        method, f"{API}{path}", json=body, params=params, headers=caller.headers
    )
    assert response.status_code == expect, response.text
    return response.json() if response.content else None


async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, *, patience: float = PATIENCE_SECONDS
) -> T:
    """Poll ``probe`` until it returns something: the router works in the background."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while (found := await probe()) is None:
        if loop.time() > deadline:
            pytest.fail(f"the router did not get there in {patience} s: {what}")
        await asyncio.sleep(0.02)
    return found


@dataclass(frozen=True)
class Floor:
    """A site with a billing queue, built by an admin through the API."""

    admin: Caller
    site_id: int
    skill_id: int
    queue_id: int


async def build_floor(
    client: httpx.AsyncClient, admin: Caller, *, wrap_up_seconds: int = 30
) -> Floor:
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
            "wrap_up_seconds": wrap_up_seconds,
            "expected_handle_seconds": 120,
        },
        expect=201,
    )
    return Floor(admin, site["id"], skill["id"], queue["id"])


@pytest.fixture
async def floor(client: httpx.AsyncClient, admin: Caller) -> Floor:
    return await build_floor(client, admin)


async def agent_on(
    client: httpx.AsyncClient,
    make_caller: MakeCaller,
    floor: Floor,
    *,
    billing: int | None = 1,
    presence: str = "available",
) -> Caller:
    """An agent of the floor's site with that billing level (none: no skill)."""
    agent = await make_caller(Role.AGENT, site_id=floor.site_id)
    me = agent.user.id
    if billing is not None:
        skills = [{"skill_id": floor.skill_id, "level": billing}]
        await call(client, floor.admin, "PUT", f"/users/{me}/skills", skills)
    reason = "break" if presence == "not_ready" else None
    await call(client, agent, "PUT", f"/users/{me}/presence", {"state": presence, "reason": reason})
    return agent


async def new_interaction(client: httpx.AsyncClient, floor: Floor) -> int:
    """A customer's chat waiting in the floor's queue."""
    admin = floor.admin
    customer = await call(client, admin, "POST", "/customers", {"display_name": "C"}, expect=201)
    conversation = await call(
        client,
        admin,
        "POST",
        "/conversations",
        {"customer_id": customer["id"], "queue_id": floor.queue_id},
        expect=201,
    )
    interaction = await call(
        client,
        admin,
        "POST",
        f"/conversations/{conversation['id']}/interactions",
        {"channel": "chat", "direction": "inbound"},
        expect=201,
    )
    return int(interaction["id"])


async def new_task(client: httpx.AsyncClient, floor: Floor, **fields: Any) -> dict[str, Any]:
    """A new chat, handed to routing."""
    body = {"interaction_id": await new_interaction(client, floor), **fields}
    task: dict[str, Any] = await call(client, floor.admin, "POST", "/tasks", body, expect=201)
    return task


async def task_when(
    client: httpx.AsyncClient, caller: Caller, task_id: int, status: str
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        task: dict[str, Any] = await call(client, caller, "GET", f"/tasks/{task_id}")
        return task if task["status"] == status else None

    return await eventually(probe, f"task {task_id} {status}")


async def offers(client: httpx.AsyncClient, caller: Caller, **params: Any) -> list[dict[str, Any]]:
    page = await call(client, caller, "GET", "/reservations", params=params)
    items: list[dict[str, Any]] = page["items"]
    return items


async def interaction(client: httpx.AsyncClient, caller: Caller, task: dict[str, Any]) -> Any:
    return await call(client, caller, "GET", f"/interactions/{task['interaction_id']}")


async def handled_task(client: httpx.AsyncClient, floor: Floor, agent: Caller) -> dict[str, Any]:
    """A new task, offered to ``agent`` (the only one free for it) and accepted."""
    task = await task_when(client, floor.admin, (await new_task(client, floor))["id"], "reserved")
    assert task["worker_id"] == agent.user.id
    [offer] = await offers(client, agent, state="pending")
    await call(client, agent, "POST", f"/reservations/{offer['id']}/accept")
    return task


# --- the workflow --------------------------------------------------------------------


async def test_a_workflow_is_checked_when_saved_and_read_back_with_its_version(
    client: httpx.AsyncClient, floor: Floor, make_caller: MakeCaller
) -> None:
    admin = floor.admin
    url = f"{API}/routing/workflow"
    empty = await call(client, admin, "GET", "/routing/workflow")
    assert (empty["version"], empty["filters"], empty["fallback"]) == (None, [], "voicemail")

    target = {"queue_id": floor.queue_id, "expression": "skills.billing >= "}
    bad = {"filters": [{"name": "All", "targets": [target]}]}
    response = await client.put(url, json=bad, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    field = "filters[0].targets[0].expression"
    assert problem["errors"][0]["field"] == field
    assert problem["detail"].startswith(f"{field}: ")
    assert problem["column"] == len("skills.billing >= ") + 1
    assert problem["expression"] == "skills.billing >= "

    missing = {"filters": [{"name": "All", "targets": [{"queue_id": 999_999}]}]}
    response = await client.put(url, json=missing, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert "filters[0].targets[0].queue_id" in response.json()["detail"]

    good = {
        "filters": [
            {
                "name": "French",
                "expression": 'lang == "fr"',
                "targets": [{"queue_id": floor.queue_id, "expression": "skills.billing >= 2"}],
                "fallback": "callback",
            }
        ],
        "fallback": "email",
    }
    saved = await call(client, admin, "PUT", "/routing/workflow", good)
    assert isinstance(saved["version"], int)
    assert saved["saved_at"] == "2026-01-05T09:00:00Z"
    agent = await make_caller(Role.AGENT, site_id=floor.site_id)
    assert await call(client, agent, "GET", "/routing/workflow") == saved
    assert saved["filters"][0]["targets"][0]["expression"] == "skills.billing >= 2"
    supervisor = await make_caller(Role.SUPERVISOR)
    refused = await client.put(url, json=good, headers=supervisor.headers)
    assert refused.status_code == 403


# --- the life of a task ----------------------------------------------------------------


@pytest.mark.parametrize("wrap_up_seconds", [30, 0])
async def test_a_task_is_offered_accepted_and_completed(
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    router: None,
    wrap_up_seconds: int,
) -> None:
    floor = await build_floor(client, admin, wrap_up_seconds=wrap_up_seconds)
    agent = await agent_on(client, make_caller, floor)
    me = agent.user.id

    created = await new_task(client, floor, attributes={"lang": "fr"})
    assert (created["status"], created["worker_id"]) == ("new", None)
    assert created["attributes"]["lang"] == "fr"
    task = await task_when(client, admin, created["id"], "reserved")
    assert (task["worker_id"], task["queue_id"]) == (me, floor.queue_id)

    [offer] = await offers(client, agent, state="pending")
    assert (offer["task_id"], offer["worker_id"], offer["state"]) == (task["id"], me, "pending")
    assert (await interaction(client, agent, task))["state"] == "offered"
    accepted = await call(client, agent, "POST", f"/reservations/{offer['id']}/accept")
    assert (accepted["id"], accepted["state"]) == (offer["id"], "accepted")
    handled = await interaction(client, agent, task)
    assert (handled["state"], handled["agent_id"]) == ("active", me)
    assert (await call(client, agent, "GET", f"/tasks/{task['id']}"))["status"] == "assigned"
    listed = await call(client, agent, "GET", "/tasks", params={"status": "assigned"})
    assert [t["id"] for t in listed["items"]] == [task["id"]]

    done = await call(client, agent, "POST", f"/tasks/{task['id']}/complete")
    assert (done["status"], done["ended_at"]) == ("completed", "2026-01-05T09:00:00Z")
    after = (await interaction(client, agent, task))["state"]
    assert after == ("wrap_up" if wrap_up_seconds else "ended")
    [closed] = await offers(client, agent)
    assert closed["state"] == "completed"

    if wrap_up_seconds:
        # Ending the wrap-up early frees the agent: the next chat is offered at once.
        await call(client, agent, "POST", f"/tasks/{task['id']}/end-wrap-up")
        following = await new_task(client, floor)
        assert (await task_when(client, admin, following["id"], "reserved"))["worker_id"] == me


@pytest.mark.parametrize(
    "ending",
    [
        "in_time",
        "early",
    ],
)
async def test_the_interaction_ends_with_the_wrap_up(
    client: httpx.AsyncClient,
    floor: Floor,
    make_caller: MakeCaller,
    clock: FakeClock,
    router: None,
    ending: str,
) -> None:
    agent = await agent_on(client, make_caller, floor)
    task = await handled_task(client, floor, agent)
    await call(client, agent, "POST", f"/tasks/{task['id']}/complete")
    assert (await interaction(client, agent, task))["state"] == "wrap_up"
    if ending == "early":
        # The call returns once the router has carried it out.
        await call(client, agent, "POST", f"/tasks/{task['id']}/end-wrap-up")
        final = await interaction(client, agent, task)
    else:
        clock.advance(30)
        wake_router()

        async def ended() -> dict[str, Any] | None:
            found: dict[str, Any] = await interaction(client, agent, task)
            return found if found["state"] == "ended" else None

        final = await eventually(ended, "the wrap-up ended")
    assert final["state"] == "ended"
    assert final["wrapped_up_at"] is not None


async def test_a_handled_task_is_transferred_to_another_queue(
    client: httpx.AsyncClient, floor: Floor, make_caller: MakeCaller, router: None
) -> None:
    escalations = await call(
        client,
        floor.admin,
        "POST",
        "/queues",
        {"name": "Escalations", "channel": "chat", "target_expression": "skills.billing >= 3"},
        expect=201,
    )
    agent = await agent_on(client, make_caller, floor)
    task = await handled_task(client, floor, agent)
    expert = await agent_on(client, make_caller, floor, billing=3)

    body = {"queue_id": escalations["id"]}
    moved = await call(client, agent, "POST", f"/tasks/{task['id']}/transfer", body)
    assert (moved["status"], moved["queue_id"]) == ("reserved", escalations["id"])
    assert moved["worker_id"] == expert.user.id
    [offer] = await offers(client, expert, state="pending")
    assert offer["queue_id"] == escalations["id"]
    offered = await interaction(client, expert, task)
    assert (offered["state"], offered["agent_id"]) == ("offered", expert.user.id)
    # It is no longer the first agent's to complete.
    await call(client, agent, "POST", f"/tasks/{task['id']}/complete", expect=409)


async def test_a_refused_transfer_changes_nothing(
    client: httpx.AsyncClient, floor: Floor, make_caller: MakeCaller, router: None
) -> None:
    agent = await agent_on(client, make_caller, floor)
    task = await handled_task(client, floor, agent)
    path = f"/tasks/{task['id']}/transfer"
    await call(client, agent, "POST", path, {"queue_id": 999_999}, expect=404)
    done = await call(client, agent, "POST", f"/tasks/{task['id']}/complete")
    assert done["status"] == "completed"


async def test_a_waiting_task_is_flagged_for_a_callback_then_cancelled(
    client: httpx.AsyncClient, floor: Floor, make_caller: MakeCaller, router: None
) -> None:
    task = await new_task(client, floor)
    await task_when(client, floor.admin, task["id"], "waiting")
    supervisor = await make_caller(Role.SUPERVISOR, site_id=floor.site_id)
    flagged = await call(client, supervisor, "POST", f"/tasks/{task['id']}/callback")
    assert (flagged["status"], flagged["callback"]) == ("waiting", True)
    canceled = await call(client, supervisor, "POST", f"/tasks/{task['id']}/cancel")
    assert (canceled["status"], canceled["ended_at"]) == ("canceled", "2026-01-05T09:00:00Z")
    assert (await interaction(client, supervisor, task))["state"] == "abandoned"
    gone = await call(client, supervisor, "POST", f"/tasks/{task['id']}/cancel", expect=404)
    assert gone["detail"] == f"task {task['id']} is not being routed"


async def test_a_retried_create_with_an_idempotency_key_replays_the_task(
    client: httpx.AsyncClient, floor: Floor, router: None
) -> None:
    body = {"interaction_id": await new_interaction(client, floor)}
    headers = {**floor.admin.headers, "Idempotency-Key": "task-1"}
    first = await client.post(f"{API}/tasks", json=body, headers=headers)
    again = await client.post(f"{API}/tasks", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    # Without the key, it is a second task for an interaction already routed.
    twice = await call(client, floor.admin, "POST", "/tasks", body, expect=409)
    assert f"already routed by task {first.json()['id']}" in twice["detail"]


async def test_agents_act_only_on_their_own_offers_and_tasks(
    client: httpx.AsyncClient, floor: Floor, make_caller: MakeCaller, router: None
) -> None:
    first = await agent_on(client, make_caller, floor)
    second = await agent_on(client, make_caller, floor)
    stranger = await agent_on(client, make_caller, floor, billing=None)
    task = await task_when(client, floor.admin, (await new_task(client, floor))["id"], "reserved")
    holder, other = (first, second) if task["worker_id"] == first.user.id else (second, first)
    [offer] = await offers(client, holder)
    assert await offers(client, other) == []

    # The one it was not offered to can neither answer the offer nor see the task.
    for action in ("accept", "reject"):
        response = await client.post(
            f"{API}/reservations/{offer['id']}/{action}", headers=other.headers
        )
        assert response.status_code == 404, response.text
    assert (await client.get(f"{API}/tasks/{task['id']}", headers=other.headers)).status_code == 404

    rejected = await call(client, holder, "POST", f"/reservations/{offer['id']}/reject")
    assert rejected["state"] == "rejected"
    again = await call(client, holder, "POST", f"/reservations/{offer['id']}/reject", expect=409)
    assert again["state"] == "rejected"

    # The task goes to the other agent, who accepts it.
    moved = await task_when(client, floor.admin, task["id"], "reserved")
    assert moved["worker_id"] == other.user.id
    [second_offer] = await offers(client, other, state="pending")
    await call(client, other, "POST", f"/reservations/{second_offer['id']}/accept")

    # The first agent was offered the task once, but it is not theirs to handle.
    refused = await call(
        client, holder, "POST", f"/reservations/{second_offer['id']}/accept", expect=404
    )
    assert refused["code"] == "opencx.not_found"
    conflict = await call(client, holder, "POST", f"/tasks/{task['id']}/complete", expect=409)
    assert "not handled by you" in conflict["detail"]
    await call(
        client,
        holder,
        "POST",
        f"/tasks/{task['id']}/transfer",
        {"queue_id": floor.queue_id},
        expect=409,
    )
    await call(client, stranger, "POST", f"/tasks/{task['id']}/complete", expect=404)
    done = await call(client, other, "POST", f"/tasks/{task['id']}/complete")
    assert (done["status"], done["worker_id"]) == ("completed", other.user.id)


async def test_an_offer_left_unanswered_times_out_and_the_task_waits_again(
    client: httpx.AsyncClient,
    ctx: AppContext,
    floor: Floor,
    make_caller: MakeCaller,
    clock: FakeClock,
    router: None,
) -> None:
    agent = await agent_on(client, make_caller, floor)
    task = await task_when(client, floor.admin, (await new_task(client, floor))["id"], "reserved")
    [offer] = await offers(client, agent)
    assert offer["expires_at"] == "2026-01-05T09:00:20Z"

    clock.advance(ctx.settings.routing.offer_timeout_seconds + 1)
    wake_router()

    async def timed_out() -> dict[str, Any] | None:
        [found] = await offers(client, agent)
        return found if found["state"] == "timed_out" else None

    ended = await eventually(timed_out, "the offer timed out")
    assert ended["ended_at"] == "2026-01-05T09:00:21Z"
    waiting = await task_when(client, floor.admin, task["id"], "waiting")
    assert waiting["worker_id"] is None
    assert (await interaction(client, floor.admin, task))["state"] == "queued"
    late = await call(client, agent, "POST", f"/reservations/{offer['id']}/accept", expect=409)
    assert late["state"] == "timed_out"


async def test_a_supervisor_sees_why_a_task_waits(
    client: httpx.AsyncClient, floor: Floor, make_caller: MakeCaller, router: None
) -> None:
    workflow = {
        "filters": [
            {
                "name": "German",
                "expression": 'lang == "de"',
                "targets": [{"queue_id": floor.queue_id}],
            },
            {
                "name": "French",
                "expression": 'lang == "fr"',
                "targets": [{"queue_id": floor.queue_id, "expression": "skills.billing >= 2"}],
            },
        ]
    }
    await call(client, floor.admin, "PUT", "/routing/workflow", workflow)
    novice = await agent_on(client, make_caller, floor, billing=1)
    newcomer = await agent_on(client, make_caller, floor, billing=None)
    task = await new_task(client, floor, attributes={"lang": "fr"})
    await task_when(client, floor.admin, task["id"], "waiting")

    supervisor = await make_caller(Role.SUPERVISOR, site_id=floor.site_id)
    why = await call(client, supervisor, "GET", f"/tasks/{task['id']}/routing")
    assert (why["status"], why["queue_id"], why["position"]) == ("waiting", floor.queue_id, 1)
    assert (why["filter_index"], why["filter_name"], why["step_index"]) == (1, "French", 0)
    assert why["filters_not_matched"] == ["German"]
    reasons = {c["worker_id"]: c["reason"] for c in why["candidates"]}
    assert "skills.billing >= 2" in reasons[novice.user.id]
    assert "does not match the target of queue Billing" in reasons[newcomer.user.id]
    assert not any(c["eligible"] for c in why["candidates"])

    refused = await client.get(f"{API}/tasks/{task['id']}/routing", headers=novice.headers)
    assert refused.status_code == 403


async def test_closing_a_site_sends_its_waiting_tasks_to_the_fallback(
    client: httpx.AsyncClient, floor: Floor, make_caller: MakeCaller, router: None
) -> None:
    workflow = {"filters": [{"name": "All", "targets": [{"queue_id": floor.queue_id}]}]}
    await call(client, floor.admin, "PUT", "/routing/workflow", workflow)
    task = await new_task(client, floor)
    await task_when(client, floor.admin, task["id"], "waiting")
    supervisor = await make_caller(Role.SUPERVISOR, site_id=floor.site_id)
    agent = await make_caller(Role.AGENT, site_id=floor.site_id)
    url = f"/sites/{floor.site_id}/routing-state"
    await call(client, agent, "POST", url, {"state": "closed"}, expect=403)

    closed = await call(client, supervisor, "POST", url, {"state": "closed"})
    assert closed == {"site_id": floor.site_id, "state": "closed", "is_open": False}
    # The call returns once the router has moved the site's waiting tasks on.
    gone = await call(client, supervisor, "GET", f"/tasks/{task['id']}")
    assert (gone["status"], gone["fallback_action"]) == ("fallback", "voicemail")
    assert gone["end_reason"] == "no open target is left in the workflow"
    assert (await interaction(client, supervisor, task))["state"] == "ended"
    site = await call(client, supervisor, "GET", f"/sites/{floor.site_id}")
    assert site["is_open"] is False

    reopened = await call(client, supervisor, "POST", url, {"state": "open"})
    assert reopened == {"site_id": floor.site_id, "state": "open", "is_open": True}
    later = await new_task(client, floor)
    await task_when(client, floor.admin, later["id"], "waiting")


async def test_a_queue_wait_is_estimated_from_the_router_figures(
    client: httpx.AsyncClient, floor: Floor, make_caller: MakeCaller, router: None
) -> None:
    # Logged in but not ready: three chat slots, none free; handle time 120 s.
    await agent_on(client, make_caller, floor, presence="not_ready")
    for _ in range(2):
        await new_task(client, floor)
    caller = await make_caller(Role.AGENT, site_id=floor.site_id)
    url = f"/queues/{floor.queue_id}/wait"

    async def figures() -> dict[str, Any] | None:
        found: dict[str, Any] = await call(client, caller, "GET", url)
        return found if found["waiting"] == 2 else None

    wait = await eventually(figures, "the queue's figures are stored")
    assert (wait["queue_id"], wait["free_agents"], wait["position"]) == (floor.queue_id, 0, 3)
    assert wait["estimated_wait_seconds"] == pytest.approx(3 * 120 / 3)
    first = await call(client, caller, "GET", url, params={"position": 1})
    assert (first["position"], first["estimated_wait_seconds"]) == (1, pytest.approx(40.0))
    await call(client, caller, "GET", url, params={"position": 0}, expect=422)


async def test_a_task_for_an_unknown_queue_or_agent_is_refused_and_the_interaction_stays_free(
    client: httpx.AsyncClient, floor: Floor, router: None
) -> None:
    interaction = await new_interaction(client, floor)
    for body, field in (
        ({"queue_id": 999_999}, "queue_id"),
        ({"worker_ids": [999_999]}, "worker_ids"),
    ):
        problem = await call(
            client,
            floor.admin,
            "POST",
            "/tasks",
            {"interaction_id": interaction, **body},
            expect=422,
        )
        assert field in str(problem), problem
    task = await call(
        client, floor.admin, "POST", "/tasks", {"interaction_id": interaction}, expect=201
    )
    assert task["status"] == "new"


async def test_an_interaction_its_task_routes_is_ended_through_the_task_not_by_hand(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller, router: None
) -> None:
    floor = await build_floor(client, admin, wrap_up_seconds=0)
    agent = await agent_on(client, make_caller, floor)
    task = await task_when(client, admin, (await new_task(client, floor))["id"], "reserved")
    path = f"/interactions/{task['interaction_id']}/state"

    for state in ("ended", "abandoned", "active"):
        response = await client.post(f"{API}{path}", json={"state": state}, headers=admin.headers)
        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["code"] == "opencx.illegal_transition"
        assert f"/tasks/{task['id']}/cancel" in problem["detail"]
    assert (await interaction(client, admin, task))["state"] == "offered"
    [offer] = await offers(client, agent, state="pending")
    assert offer["task_id"] == task["id"]

    # Once an agent has it, hold and resume are theirs; ending goes through complete.
    await call(client, agent, "POST", f"/reservations/{offer['id']}/accept")
    await call(client, agent, "POST", path, {"state": "held"})
    await call(client, agent, "POST", path, {"state": "active"})
    await call(client, agent, "POST", path, {"state": "ended"}, expect=409)
    await call(client, agent, "POST", f"/tasks/{task['id']}/complete")
    assert (await interaction(client, agent, task))["state"] == "ended"
