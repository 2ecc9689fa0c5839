"""How fast a change on the floor reaches every supervisor's cockpit, with many
supervisors watching one node.

Runs ``opencx serve`` in a child process on a fresh SQLite file (or ``--database-url``,
an empty PostgreSQL database). Creates ``--supervisors`` supervisors and ``--agents``
agents on one site, opens every supervisor's ``/ws/supervisor`` socket (as the cockpit
does), then changes agents' presence ``--changes`` times, one after the other, as a
supervisor forcing a state does (``PUT /api/v1/users/{id}/presence``). Each change is
timed from the moment its request is sent until its ``agent.presence_changed`` event
arrives on each supervisor's socket: one sample per change and socket.

Prints p50, p95, p99 and max latency and the server's resident memory per connected
supervisor; the last line is the figures as JSON. The goal is a p99 under 100 ms.

    python bench/cockpit.py [--supervisors 200] [--agents 20] [--changes 50] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvloop
import websockets
from realtime import WAIT_SECONDS, free_port, rss_kib, start_server, summary

from opencx.core.enums import PresenceState, Role
from opencx.core.permissions import Principal
from opencx.features.auth.tokens import create_api_token
from opencx.features.context import AppContext
from opencx.features.directory.sites import SiteCreate, create_site
from opencx.features.users.presence import PresenceUpdate, set_agent_presence
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.runtime import build_context, upgrade_database
from opencx.settings import DatabaseSettings, Settings, SmtpSettings


async def setup(ctx: AppContext, supervisors: int, agents: int) -> tuple[str, list[str], list[int]]:
    """An admin's token, the supervisors' tokens, and the agents (available)."""
    root = await create_user_as_system(ctx, UserCreate(email="root@example.com", role=Role.ADMIN))
    admin = Principal(user_id=root.id, role=Role.ADMIN)
    site = await create_site(ctx, admin, SiteCreate(name="Lyon"))
    tokens = []
    for n in range(supervisors):
        email = f"supervisor{n}@example.com"
        await create_user_as_system(
            ctx, UserCreate(email=email, role=Role.SUPERVISOR, site_id=site.id)
        )
        tokens.append(await create_api_token(ctx, email=email))
    team = []
    for n in range(agents):
        user = await create_user_as_system(
            ctx, UserCreate(email=f"agent{n}@example.com", role=Role.AGENT, site_id=site.id)
        )
        await set_agent_presence(ctx, admin, user.id, PresenceUpdate(state=PresenceState.AVAILABLE))
        team.append(user.id)
    return await create_api_token(ctx, email="root@example.com"), tokens, team


class Watch:
    """What every socket waits for: the change in flight, and when it was sent."""

    def __init__(self) -> None:
        self.agent_id = 0
        self.presence = ""
        self.sent = 0.0
        self.arrived: asyncio.Queue[None] = asyncio.Queue()


async def listen(
    token: str, ws_base: str, watch: Watch, connected: asyncio.Queue[None], latencies: list[float]
) -> None:
    async with websockets.connect(
        f"{ws_base}/ws/supervisor?token={token}", max_queue=None, open_timeout=120
    ) as sock:
        await sock.recv()  # the snapshot
        connected.put_nowait(None)
        async for raw in sock:
            arrived = time.perf_counter()
            event = json.loads(raw).get("event") or {}
            if (
                event.get("type") == "agent.presence_changed"
                and event.get("entity_id") == watch.agent_id
                and event["payload"].get("presence") == watch.presence
            ):
                latencies.append(arrived - watch.sent)
                watch.arrived.put_nowait(None)


async def change(
    http: httpx.AsyncClient, headers: dict[str, str], watch: Watch, agent_id: int, n: int
) -> None:
    state = "not_ready" if n % 2 == 0 else "available"
    body = {"state": state, **({"reason": "break"} if state == "not_ready" else {})}
    watch.agent_id, watch.presence = agent_id, state
    watch.sent = time.perf_counter()
    response = await http.put(f"/api/v1/users/{agent_id}/presence", json=body, headers=headers)
    response.raise_for_status()


async def main(
    supervisors: int, agents: int, changes: int, url: str, folder: Path
) -> dict[str, Any]:
    settings = Settings(
        env="test",
        database=DatabaseSettings(url=url),
        smtp=SmtpSettings(enabled=False),
        _env_file=None,  # type: ignore[call-arg]
    )
    await asyncio.to_thread(upgrade_database, settings)
    ctx = build_context(settings)
    admin_token, tokens, team = await setup(ctx, supervisors, agents)
    await ctx.engine.dispose()
    port = free_port()
    server = start_server(url, port, folder)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {admin_token}"}
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
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
            watch = Watch()
            connected: asyncio.Queue[None] = asyncio.Queue()
            ws_base = f"ws://127.0.0.1:{port}"
            listeners = [
                asyncio.create_task(listen(token, ws_base, watch, connected, latencies))
                for token in tokens
            ]
            for _ in tokens:
                await asyncio.wait_for(connected.get(), WAIT_SECONDS * 2)
            await asyncio.sleep(2)  # let the server settle with every socket open
            after = rss_kib(server.pid)
            for n in range(changes):
                await change(http, headers, watch, team[(n // 2) % len(team)], n)
                # the next change once every socket had this one (or a second passed)
                try:
                    for _ in tokens:
                        await asyncio.wait_for(watch.arrived.get(), 1.0)
                except TimeoutError:
                    pass  # counted as not arrived
                while not watch.arrived.empty():
                    watch.arrived.get_nowait()
            for listener in listeners:
                listener.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    expected = supervisors * changes
    figures: dict[str, Any] = {
        "bench": "cockpit",
        "database": url.split(":", 1)[0],
        "supervisors": supervisors,
        "changes": changes,
        "deliveries": len(latencies),
        "not_arrived": expected - len(latencies),
        **summary(latencies),
        "server_rss_mib_before_sockets": round(before / 1024, 1),
        "server_rss_mib_with_sockets": round(after / 1024, 1),
        "kib_per_supervisor": round((after - before) / supervisors, 1),
    }
    print(
        f"{supervisors} supervisors, {changes} presence changes:"
        f" change to every supervisor's socket p50 {figures['p50_ms']} ms,"
        f" p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms;"
        f" {figures['kib_per_supervisor']} KiB per supervisor; {figures['not_arrived']} not arrived"
    )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supervisors", type=int, default=200)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite+aiosqlite:///{folder / 'cockpit.db'}"
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(main(args.supervisors, args.agents, args.changes, url, folder))
    print(json.dumps(result))
