"""How long an agent waits when accepting an offer: the API's answer, and the offer
cleared on the agent's own socket.

Starts the server in this process as ``opencx serve`` runs it (uvicorn on uvloop, the
router and the job runner in the background) on a fresh SQLite file, unless
``--database-url`` names an empty PostgreSQL database. Signs in ``--agents`` agents
(voice capacity 1, available), each with an API token and its ``/ws/agent`` socket open.
Then, round after round (and one more first, not measured, to warm up), every agent is
offered a task of its own (``worker_ids``), waits for the offer on its socket, and
accepts it over the REST API
(``POST /api/v1/reservations/{id}/accept``), all agents at once; then completes it.
Measured for each accept, from the moment the request is sent:
- http: until the API's answer (200) is read;
- socket: until the ``reservation.updated`` event (state ``accepted``) arrives on that
  agent's socket.

Prints p50, p95, p99 and max for both, then one JSON line of the figures.

    python bench/accept.py [--accepts 500] [--agents 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import uvloop
import websockets

from opencx.core.enums import Channel, Direction, PresenceState, Role
from opencx.core.permissions import Principal
from opencx.features.auth.tokens import create_api_token
from opencx.features.context import AppContext
from opencx.features.conversations.conversations import ConversationCreate, create_conversation
from opencx.features.conversations.interactions import InteractionCreate, create_interaction
from opencx.features.customers.schemas import CustomerCreate
from opencx.features.customers.service import create_customer
from opencx.features.directory.sites import SiteCreate, create_site
from opencx.features.routing.tasks import TaskCreate, create_task
from opencx.features.users.presence import PresenceUpdate, set_agent_presence
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.runtime import build_app, build_context, upgrade_database
from opencx.settings import DatabaseSettings, Settings, SmtpSettings

EVENT_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Agent:
    def __init__(self, user_id: int, token: str) -> None:
        self.user_id = user_id
        self.token = token


async def setup(ctx: AppContext, agents: int) -> tuple[Principal, int, list[Agent]]:
    root = await create_user_as_system(ctx, UserCreate(email="root@example.com", role=Role.ADMIN))
    admin = Principal(user_id=root.id, role=Role.ADMIN)
    site = await create_site(ctx, admin, SiteCreate(name="Lyon"))
    customer = await create_customer(ctx, admin, CustomerCreate(display_name="Ada"))
    conversation = await create_conversation(
        ctx, admin, ConversationCreate(customer_id=customer.id)
    )
    team = []
    for n in range(agents):
        email = f"agent{n}@example.com"
        user = await create_user_as_system(
            ctx,
            UserCreate(email=email, role=Role.AGENT, site_id=site.id, capacity={"voice": 1}),
        )
        await set_agent_presence(ctx, admin, user.id, PresenceUpdate(state=PresenceState.AVAILABLE))
        team.append(Agent(user.id, await create_api_token(ctx, email=email)))
    return admin, conversation.id, team


async def offer(ctx: AppContext, admin: Principal, conversation_id: int, agent: Agent) -> None:
    interaction = await create_interaction(
        ctx,
        admin,
        conversation_id,
        InteractionCreate(channel=Channel.VOICE, direction=Direction.INBOUND),
    )
    await create_task(
        ctx, admin, TaskCreate(interaction_id=interaction.id, worker_ids=[agent.user_id])
    )


async def next_event(
    socket: Any, wanted: str, state: str | None = None
) -> tuple[dict[str, Any], float]:
    """The next ``wanted`` event (in ``state``) on the socket, others skipped, and when
    it arrived."""
    async with asyncio.timeout(EVENT_TIMEOUT_SECONDS):
        while True:
            message = json.loads(await socket.recv())
            event = message.get("event") or {}
            if (
                message.get("type") == "event"
                and event.get("type") == wanted
                and (state is None or event["payload"].get("state") == state)
            ):
                return dict(event), time.perf_counter()


async def agent_rounds(
    ctx: AppContext,
    admin: Principal,
    conversation_id: int,
    agent: Agent,
    http: httpx.AsyncClient,
    ws_base: str,
    rounds: int,
    start: asyncio.Barrier,
    timings: dict[str, list[float]],
) -> None:
    headers = {"Authorization": f"Bearer {agent.token}"}
    async with websockets.connect(f"{ws_base}/ws/agent?token={agent.token}") as socket:
        await socket.recv()  # the snapshot
        for round_ in range(rounds + 1):
            await offer(ctx, admin, conversation_id, agent)
            offered, _ = await next_event(socket, "reservation.created")
            reservation_id = offered["payload"]["reservation_id"]
            await start.wait()  # every agent accepts at once, as a busy floor would
            sent = time.perf_counter()
            cleared = asyncio.create_task(next_event(socket, "reservation.updated", "accepted"))
            response = await http.post(
                f"/api/v1/reservations/{reservation_id}/accept", headers=headers
            )
            answered = time.perf_counter()
            response.raise_for_status()
            _, arrived = await cleared
            if round_ > 0:  # the first round warms the server up
                timings["http"].append(answered - sent)
                timings["socket"].append(arrived - sent)
            task_id = offered["payload"]["task_id"]
            done = await http.post(f"/api/v1/tasks/{task_id}/complete", headers=headers)
            done.raise_for_status()


def summary(name: str, samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 2)

    figures = {
        f"{name}_p50_ms": round(statistics.median(ordered) * 1000, 2),
        f"{name}_p95_ms": at(0.95),
        f"{name}_p99_ms": at(0.99),
        f"{name}_max_ms": round(ordered[-1] * 1000, 2),
    }
    print(
        f"{name:<8} p50 {figures[f'{name}_p50_ms']:>7.2f} ms  p95 {figures[f'{name}_p95_ms']:>7.2f}"
        f" ms  p99 {figures[f'{name}_p99_ms']:>7.2f} ms  max {figures[f'{name}_max_ms']:>7.2f} ms"
    )
    return figures


async def main(accepts: int, agents: int, url: str) -> dict[str, Any]:
    port = free_port()
    settings = Settings(
        env="test",
        database=DatabaseSettings(url=url),
        smtp=SmtpSettings(enabled=False),
        _env_file=None,  # type: ignore[call-arg]
    )
    await asyncio.to_thread(upgrade_database, settings)
    ctx = build_context(settings)
    admin, conversation_id, team = await setup(ctx, agents)
    app = build_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.05)
    rounds = max(1, accepts // agents)
    timings: dict[str, list[float]] = {"http": [], "socket": []}
    start = asyncio.Barrier(agents)
    try:
        limits = httpx.Limits(max_connections=agents)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
            await asyncio.gather(
                *(
                    agent_rounds(
                        ctx,
                        admin,
                        conversation_id,
                        agent,
                        http,
                        f"ws://127.0.0.1:{port}",
                        rounds,
                        start,
                        timings,
                    )
                    for agent in team
                )
            )
    finally:
        server.should_exit = True
        await serving
        await ctx.engine.dispose()
    figures: dict[str, Any] = {
        "bench": "accept",
        "database": url.split(":", 1)[0],
        "agents": agents,
        "accepts": len(timings["http"]),
    }
    figures |= summary("http", timings["http"])
    figures |= summary("socket", timings["socket"])
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accepts", type=int, default=500)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'accept.db'}"
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(main(args.accepts, args.agents, url))
    print(json.dumps(result))
