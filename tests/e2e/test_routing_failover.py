"""Routing survives what servers go through: a server killed (SIGKILL) in the middle
of routing loses no task and assigns none twice once restarted; with two nodes on
PostgreSQL, killing the active router lets the standby take over within 5 seconds."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.e2e.conftest import LiveServer, LiveServers, OpencxEnv, RunOpencx

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

AGENTS = 3
TASKS = 24
TAKEOVER_SECONDS = 5.0


@dataclass
class Floor:
    admin: dict[str, str]
    agents: dict[int, dict[str, str]]  # user id -> headers
    conversation_id: int
    queue_id: int


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


async def build_floor(url: str, env: dict[str, str], run_opencx: RunOpencx) -> Floor:
    admin_args = ["--email", "admin@example.com", "--role", "admin", "--password", "long enough"]
    run_opencx(["user", "create", *admin_args], env)
    admin = headers(
        run_opencx(["token", "create", "--user", "admin@example.com"], env).splitlines()[-1]
    )
    async with httpx.AsyncClient(base_url=url, headers=admin, timeout=20) as http:
        queue = ok(
            await http.post(
                "/api/v1/queues", json={"name": "Support", "channel": "voice", "wrap_up_seconds": 0}
            ),
            201,
        )
        agents: dict[int, dict[str, str]] = {}
        for n in range(AGENTS):
            email = f"agent{n}@example.com"
            user = ok(
                await http.post(
                    "/api/v1/users",
                    json={"email": email, "role": "agent", "capacity": {"voice": 1}},
                ),
                201,
            )
            token = run_opencx(["token", "create", "--user", email], env).splitlines()[-1]
            agents[user["id"]] = headers(token)
        customer = ok(await http.post("/api/v1/customers", json={"display_name": "Ada"}), 201)
        conversation = ok(
            await http.post(
                "/api/v1/conversations",
                json={"customer_id": customer["id"], "queue_id": queue["id"]},
            ),
            201,
        )
    return Floor(admin, agents, conversation["id"], queue["id"])


async def create_tasks(url: str, floor: Floor, count: int) -> list[int]:
    ids = []
    async with httpx.AsyncClient(base_url=url, headers=floor.admin, timeout=20) as http:
        for _ in range(count):
            interaction = ok(
                await http.post(
                    f"/api/v1/conversations/{floor.conversation_id}/interactions",
                    json={"channel": "voice", "direction": "inbound"},
                ),
                201,
            )
            task = ok(
                await http.post("/api/v1/tasks", json={"interaction_id": interaction["id"]}),
                201,
            )
            ids.append(task["id"])
    return ids


async def set_available(url: str, floor: Floor) -> None:
    async with httpx.AsyncClient(base_url=url, headers=floor.admin, timeout=20) as http:
        for user_id in floor.agents:
            ok(await http.put(f"/api/v1/users/{user_id}/presence", json={"state": "available"}))


async def work_once(url: str, floor: Floor) -> int:
    """Each agent accepts their pending offer and completes it; returns tasks completed.
    Refusals (the offer expired, the server is restarting) are what agents live with."""
    done = 0
    for agent in floor.agents.values():
        async with httpx.AsyncClient(base_url=url, headers=agent, timeout=20) as http:
            try:
                page = await http.get("/api/v1/reservations", params={"state": "pending"})
                if page.status_code != 200:
                    continue
                for reservation in page.json()["items"]:
                    accepted = await http.post(f"/api/v1/reservations/{reservation['id']}/accept")
                    if accepted.status_code != 200:
                        continue
                    completed = await http.post(f"/api/v1/tasks/{reservation['task_id']}/complete")
                    done += completed.status_code == 200
            except httpx.TransportError:
                continue
    return done


async def all_reservations(url: str, floor: Floor) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    async with httpx.AsyncClient(base_url=url, headers=floor.admin, timeout=20) as http:
        while True:
            params: dict[str, Any] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = ok(await http.get("/api/v1/reservations", params=params))
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items


async def task_statuses(url: str, floor: Floor, ids: list[int]) -> dict[int, str]:
    async with httpx.AsyncClient(base_url=url, headers=floor.admin, timeout=20) as http:
        return {i: ok(await http.get(f"/api/v1/tasks/{i}"))["status"] for i in ids}


async def test_a_killed_server_loses_no_task_and_assigns_none_twice(
    database_url: str,
    live_servers: LiveServers,
    opencx_env: OpencxEnv,
    run_opencx: RunOpencx,
) -> None:
    env = opencx_env(database_url, ROUTING__OFFER_TIMEOUT_SECONDS="30")
    server = live_servers.start(env, name="first")
    floor = await build_floor(server.url, env, run_opencx)
    tasks = await create_tasks(server.url, floor, TASKS)
    await set_available(server.url, floor)

    completed = 0
    while completed < AGENTS:  # some work done, offers pending: then the crash
        completed += await work_once(server.url, floor)
    server.process.kill()  # SIGKILL: no shutdown, no cleanup
    server.process.wait(10)

    server = live_servers.start(env, name="restarted")
    deadline = time.monotonic() + 90
    statuses: dict[int, str] = {}
    while time.monotonic() < deadline:
        await work_once(server.url, floor)
        statuses = await task_statuses(server.url, floor, tasks)
        if all(status == "completed" for status in statuses.values()):
            break
        await asyncio.sleep(0.2)
    assert Counter(statuses.values()) == {"completed": TASKS}, statuses

    reservations = await all_reservations(server.url, floor)
    accepted = Counter(r["task_id"] for r in reservations if r["state"] == "completed")
    assert accepted == dict.fromkeys(tasks, 1), "each task completed by exactly one agent"
    assert not [r for r in reservations if r["state"] in ("pending", "accepted")]


def leader_pid(sync_url: str) -> tuple[int, int] | None:
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT epoch, holder FROM routing_leadership")).first()
    finally:
        engine.dispose()
    if row is None:
        return None
    return int(row.epoch), int(str(row.holder).rsplit(":", 1)[-1])


async def wait_for_leader(sync_url: str, nodes: list[LiveServer], after_epoch: int) -> LiveServer:
    deadline = time.monotonic() + 30
    pids = {node.process.pid: node for node in nodes}
    while time.monotonic() < deadline:
        found = leader_pid(sync_url)
        if found is not None and found[0] > after_epoch and found[1] in pids:
            return pids[found[1]]
        await asyncio.sleep(0.05)
    pytest.fail(f"no node became the active router: {leader_pid(sync_url)}")


async def test_the_standby_router_takes_over_within_five_seconds(
    postgres_url: str,
    database_url: str,
    live_servers: LiveServers,
    opencx_env: OpencxEnv,
    run_opencx: RunOpencx,
) -> None:
    assert database_url.startswith("postgresql")
    sync_url = database_url.replace("+asyncpg", "+psycopg")
    env = opencx_env(database_url)
    first = live_servers.spawn(env, name="a")
    second = live_servers.spawn(env, name="b")
    first.wait_ready()
    second.wait_ready()
    floor = await build_floor(first.url, env, run_opencx)
    await set_available(first.url, floor)

    active = await wait_for_leader(sync_url, [first, second], 0)
    standby = second if active is first else first
    epoch = leader_pid(sync_url)
    assert epoch is not None
    active.process.kill()
    killed_at = time.monotonic()
    taken = await wait_for_leader(sync_url, [standby], epoch[0])
    takeover = time.monotonic() - killed_at
    assert taken is standby
    print(f"standby took over {takeover:.2f} s after the kill")
    assert takeover < TAKEOVER_SECONDS, f"took {takeover:.2f}s"

    # The new router routes: a new task reaches an agent through the surviving node.
    (task_id,) = await create_tasks(standby.url, floor, 1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = (await task_statuses(standby.url, floor, [task_id]))[task_id]
        if status == "reserved":
            break
        await asyncio.sleep(0.1)
    assert status == "reserved"
