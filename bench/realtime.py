"""How fast a customer's chat message reaches the agent's screen, with many agents on
one node, and what each connected agent costs the server.

Runs ``opencx serve`` in a child process on a fresh SQLite file (or ``--database-url``,
an empty PostgreSQL database). Creates ``--agents`` agents (chat capacity 1,
available) with a chat conversation each, opens every agent's ``/ws/agent`` socket,
then gives each their chat through routing (a task for that agent alone, offered on
the socket and accepted over the REST API as it arrives, as the desktop does). Then
customers write ``--rate`` messages a second, spread over the conversations, for
``--seconds`` (posted as a chat integration posts them:
``POST /api/v1/conversations/{id}/messages``, inbound, by the customer), and each
message is timed from the moment its request is sent until its ``message.created``
event arrives on the agent's socket.

Prints p50, p95, p99 and max latency, the rate reached, and the server's resident
memory per connected agent (its RSS with every socket open, less its RSS before the
first one, over the number of agents); the last line is the figures as JSON.

    python bench/realtime.py [--agents 1000] [--rate 100] [--seconds 30] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
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
from opencx.features.users.presence import PresenceUpdate, set_agent_presence
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.runtime import build_context, upgrade_database
from opencx.settings import DatabaseSettings, Settings, SmtpSettings

WAIT_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Agent:
    def __init__(self, user_id: int, token: str, conversation_id: int) -> None:
        self.user_id = user_id
        self.token = token
        self.conversation_id = conversation_id
        self.interaction_id = 0
        self.accepted = asyncio.Event()
        #: When each message not yet seen on the socket was sent, oldest first: one
        #: conversation per agent, written in order, so events come in the same order.
        self.sent: list[float] = []


async def setup(ctx: AppContext, agents: int) -> tuple[str, list[Agent]]:
    root = await create_user_as_system(ctx, UserCreate(email="root@example.com", role=Role.ADMIN))
    admin = Principal(user_id=root.id, role=Role.ADMIN)
    site = await create_site(ctx, admin, SiteCreate(name="Lyon"))
    team = []
    for n in range(agents):
        email = f"agent{n}@example.com"
        user = await create_user_as_system(
            ctx, UserCreate(email=email, role=Role.AGENT, site_id=site.id, capacity={"chat": 1})
        )
        await set_agent_presence(ctx, admin, user.id, PresenceUpdate(state=PresenceState.AVAILABLE))
        customer = await create_customer(ctx, admin, CustomerCreate(display_name=f"Customer {n}"))
        conversation = await create_conversation(
            ctx, admin, ConversationCreate(customer_id=customer.id)
        )
        interaction = await create_interaction(
            ctx,
            admin,
            conversation.id,
            InteractionCreate(channel=Channel.CHAT, direction=Direction.INBOUND),
        )
        agent = Agent(user.id, await create_api_token(ctx, email=email), conversation.id)
        agent.interaction_id = interaction.id
        team.append(agent)
    return await create_api_token(ctx, email="root@example.com"), team


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_server(url: str, port: int, folder: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OPENCX_DATABASE__URL": url,
        "OPENCX_SMTP__ENABLED": "false",
        "OPENCX_STORAGE__PATH": str(folder / "files"),
    }
    command = [sys.executable, "-m", "opencx", "serve", "--host", "127.0.0.1"]
    return subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        cwd=folder,
        stdout=(folder / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


async def offer_all(http: httpx.AsyncClient, headers: dict[str, str], team: list[Agent]) -> None:
    """Give every agent their chat (a task for them alone), as routing offers it."""
    limit = asyncio.Semaphore(10)

    async def offer(agent: Agent) -> None:
        async with limit:
            body = {"interaction_id": agent.interaction_id, "worker_ids": [agent.user_id]}
            created = await http.post("/api/v1/tasks", json=body, headers=headers)
            created.raise_for_status()

    await asyncio.gather(*(offer(agent) for agent in team))


async def listen(
    agent: Agent,
    ws_base: str,
    http: httpx.AsyncClient,
    limit: asyncio.Semaphore,
    connected: asyncio.Queue[int],
    latencies: list[float],
) -> None:
    """The agent's socket, as the desktop uses it: an offer is accepted as it arrives,
    then each customer message's arrival is timed."""
    headers = {"Authorization": f"Bearer {agent.token}"}

    async def accept(reservation_id: int) -> None:
        async with limit:
            done = await http.post(f"/api/v1/reservations/{reservation_id}/accept", headers=headers)
        if done.status_code == 200:
            agent.accepted.set()

    async with websockets.connect(
        f"{ws_base}/ws/agent?token={agent.token}", max_queue=None, open_timeout=120
    ) as sock:
        await sock.recv()  # the snapshot
        connected.put_nowait(agent.user_id)
        accepting: set[asyncio.Task[None]] = set()
        async for raw in sock:
            arrived = time.perf_counter()
            event = json.loads(raw).get("event") or {}
            kind = event.get("type")
            if kind == "message.created" and agent.sent:
                latencies.append(arrived - agent.sent.pop(0))
            elif kind == "reservation.created" and event["payload"].get("state") == "pending":
                task = asyncio.create_task(accept(int(event["entity_id"])))
                accepting.add(task)
                task.add_done_callback(accepting.discard)


async def write(http: httpx.AsyncClient, headers: dict[str, str], agent: Agent, n: int) -> None:
    body = {
        "body_text": f"Message {n}: is my order on its way?",
        "channel": "chat",
        "direction": "inbound",
        "author_kind": "customer",
    }
    agent.sent.append(time.perf_counter())
    response = await http.post(
        f"/api/v1/conversations/{agent.conversation_id}/messages", json=body, headers=headers
    )
    response.raise_for_status()


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 2)

    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def main(agents: int, rate: float, seconds: float, url: str, folder: Path) -> dict[str, Any]:
    settings = Settings(
        env="test",
        database=DatabaseSettings(url=url),
        smtp=SmtpSettings(enabled=False),
        _env_file=None,  # type: ignore[call-arg]
    )
    await asyncio.to_thread(upgrade_database, settings)
    ctx = build_context(settings)
    admin_token, team = await setup(ctx, agents)
    await ctx.engine.dispose()
    port = free_port()
    server = start_server(url, port, folder)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {admin_token}"}
    latencies: list[float] = []
    # idle connections are let go before the server's keep-alive (5 s) closes them under a request
    limits = httpx.Limits(max_connections=200, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        try:
            deadline = time.monotonic() + WAIT_SECONDS
            while True:
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError("the server did not start")
                await asyncio.sleep(0.2)
            before = rss_kib(server.pid)
            connected: asyncio.Queue[int] = asyncio.Queue()
            ws_base = f"ws://127.0.0.1:{port}"
            limit = asyncio.Semaphore(20)
            listeners = [
                asyncio.create_task(listen(agent, ws_base, http, limit, connected, latencies))
                for agent in team
            ]
            for _ in team:
                await asyncio.wait_for(connected.get(), WAIT_SECONDS * 2)
            await asyncio.sleep(2)  # let the server settle with every socket open
            after = rss_kib(server.pid)
            await offer_all(http, headers, team)
            for agent in team:
                await asyncio.wait_for(agent.accepted.wait(), WAIT_SECONDS * 2)
            count = int(rate * seconds)
            started = time.perf_counter()
            writes = []
            for n in range(count):
                due = started + n / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                writes.append(asyncio.create_task(write(http, headers, team[n % len(team)], n)))
            await asyncio.gather(*writes)
            elapsed = time.perf_counter() - started
            deadline = time.monotonic() + 10
            while any(agent.sent for agent in team) and time.monotonic() < deadline:  # noqa: ASYNC110 - a deadline, not an event
                await asyncio.sleep(0.1)
            for listener in listeners:
                listener.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    lost = sum(len(agent.sent) for agent in team)
    figures: dict[str, Any] = {
        "bench": "realtime",
        "database": url.split(":", 1)[0],
        "agents": agents,
        "messages": len(latencies),
        "not_arrived": lost,
        "rate_per_s": round(count / elapsed, 1),
        **summary(latencies),
        "server_rss_mib_before_sockets": round(before / 1024, 1),
        "server_rss_mib_with_sockets": round(after / 1024, 1),
        "kib_per_agent": round((after - before) / agents, 1),
    }
    print(
        f"{agents} agents, {figures['rate_per_s']} messages/s for {seconds:.0f} s:"
        f" message to agent's socket p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms,"
        f" p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms;"
        f" {figures['kib_per_agent']} KiB per connected agent; {lost} not arrived"
    )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite+aiosqlite:///{folder / 'realtime.db'}"
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(main(args.agents, args.rate, args.seconds, url, folder))
    print(json.dumps(result))
