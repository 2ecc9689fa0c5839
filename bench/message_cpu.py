"""The server's CPU time for one customer's chat message, from its request to the event
on the agent's socket, measured in process (no network, no client of its own).

The app is driven through its ASGI interface on a fresh SQLite file (or
``--database-url``, an empty PostgreSQL database), with the router running as
``opencx serve`` runs it: ``--agents`` agents each hold a chat (offered on their
``/ws/agent`` socket and accepted over the API), then ``--posts`` customer messages
are posted one after the other (``POST /api/v1/conversations/{id}/messages``, inbound),
each awaited until its ``message.created`` reaches its agent's socket.

Prints the process's CPU time per message (every thread: the event loop's and the
database's), the wall time, and how many SQL statements and calls on aiosqlite's thread
each message took. CPU time is what to compare between two versions on a shared
machine: wall time waits on the other jobs.

    python bench/message_cpu.py [--agents 20] [--posts 1000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import uvloop
from realtime import Agent, setup  # the bench beside this one: its agents and chats
from sqlalchemy import event

from opencx.features.routing.engine import routing_service
from opencx.runtime import build_context, upgrade_database
from opencx.settings import DatabaseSettings, Settings, SmtpSettings
from opencx.web.app import create_app

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class Counts:
    """SQL statements and calls on aiosqlite's thread, since the start."""

    def __init__(self) -> None:
        self.statements = 0
        self.hand_offs = 0


def count(counts: Counts, engine: Any) -> None:
    def statement(*_args: Any) -> None:
        counts.statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", statement)
    original = aiosqlite.Connection._execute

    async def handed_off(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counts.hand_offs += 1
        return await original(self, fn, *args, **kwargs)

    aiosqlite.Connection._execute = handed_off  # type: ignore[method-assign]


def _scope(kind: str, method: str, path: str, query: bytes, headers: list[Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "http" if kind == "http" else "ws",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "subprotocols": [],
        "state": {},
    }


async def call(app: App, method: str, path: str, token: str, body: Any = None) -> Any:
    raw = json.dumps(body).encode() if body is not None else b""
    headers = [(b"authorization", f"Bearer {token}".encode())]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    messages = [{"type": "http.request", "body": raw, "more_body": False}]
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never leaves
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(_scope("http", method, path, b"", headers), receive, send)
    if answer["status"] >= 300:
        raise RuntimeError(f"{method} {path}: {answer['status']} {answer['body']!r}")
    return json.loads(answer["body"])


class Socket:
    """An agent's ``/ws/agent``, its messages parsed as the desktop parses them."""

    def __init__(self, app: App, token: str) -> None:
        self.app, self.token = app, token
        self.received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closing = asyncio.Event()

    async def run(self) -> None:
        opened = [{"type": "websocket.connect"}]

        async def receive() -> dict[str, Any]:
            if opened:
                return opened.pop()
            await self.closing.wait()
            return {"type": "websocket.disconnect", "code": 1000}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.send":
                self.received.put_nowait(json.loads(message["text"]))

        query = f"token={self.token}".encode()
        await self.app(_scope("websocket", "GET", "/ws/agent", query, []), receive, send)

    async def next_event(self, kind: str) -> dict[str, Any]:
        while True:
            found: dict[str, Any] = (await self.received.get()).get("event") or {}
            if found.get("type") == kind:
                return found


async def give_chats(app: App, admin: str, team: list[Agent], sockets: list[Socket]) -> None:
    for agent, sock in zip(team, sockets, strict=True):
        body = {"interaction_id": agent.interaction_id, "worker_ids": [agent.user_id]}
        await call(app, "POST", "/api/v1/tasks", admin, body)
        offer = await sock.next_event("reservation.created")
        await call(app, "POST", f"/api/v1/reservations/{offer['entity_id']}/accept", agent.token)


async def main(agents: int, posts: int, url: str) -> dict[str, Any]:
    settings = Settings(
        env="test",
        database=DatabaseSettings(url=url),
        smtp=SmtpSettings(enabled=False),
        _env_file=None,  # type: ignore[call-arg]
    )
    await asyncio.to_thread(upgrade_database, settings)
    ctx = build_context(settings)
    admin, team = await setup(ctx, agents)
    app: App = create_app(ctx)
    router = asyncio.create_task(routing_service(ctx))
    sockets = [Socket(app, agent.token) for agent in team]
    listening = [asyncio.create_task(sock.run()) for sock in sockets]
    for sock in sockets:
        await sock.received.get()  # the snapshot
    await give_chats(app, admin, team, sockets)
    counts = Counts()
    count(counts, ctx.engine)

    async def post(n: int) -> None:
        agent, sock = team[n % len(team)], sockets[n % len(team)]
        body = {"body_text": f"Message {n}: is my order on its way?", "channel": "chat"}
        body |= {"direction": "inbound", "author_kind": "customer"}
        await call(
            app, "POST", f"/api/v1/conversations/{agent.conversation_id}/messages", admin, body
        )
        await sock.next_event("message.created")

    for n in range(min(posts, 50)):  # warm up
        await post(n)
    statements, hand_offs = counts.statements, counts.hand_offs
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(posts):
        await post(n)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    for sock in sockets:
        sock.closing.set()
    await asyncio.gather(*listening, return_exceptions=True)
    router.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await router
    await ctx.engine.dispose()
    figures = {
        "bench": "message_cpu",
        "database": url.split(":", 1)[0],
        "agents": agents,
        "posts": posts,
        "cpu_ms_per_message": round(cpu * 1000 / posts, 2),
        "wall_ms_per_message": round(wall * 1000 / posts, 2),
        "statements_per_message": round((counts.statements - statements) / posts, 1),
        "thread_calls_per_message": round((counts.hand_offs - hand_offs) / posts, 1),
    }
    print(
        f"{posts} messages, {agents} agents: {figures['cpu_ms_per_message']} ms of CPU and"
        f" {figures['wall_ms_per_message']} ms wall each;"
        f" {figures['statements_per_message']} SQL statements,"
        f" {figures['thread_calls_per_message']} calls on aiosqlite's thread"
    )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'message_cpu.db'}"
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(main(args.agents, args.posts, url))
    print(json.dumps(result))
