"""Two ``opencx serve`` processes on one PostgreSQL database and one bus: a change made
through node A reaches a supervisor's WebSocket on node B, and the other way round."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.conftest import LiveServers, OpencxEnv, RunOpencx

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

EVENT_TIMEOUT = 10.0  # seconds for an event to cross from one node to the other
BUSES = {
    "redis": os.environ.get("OPENCX_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "nats": os.environ.get("OPENCX_NATS_URL", "nats://127.0.0.1:4222"),
}


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT))
    return message


async def next_event(ws: ClientConnection, event_type: str) -> dict[str, Any]:
    """The next message about ``event_type``; other events may come first."""
    while True:
        message = await receive(ws)
        if message["type"] == "event" and message["event"]["type"] == event_type:
            return message


@pytest.mark.parametrize("bus", sorted(BUSES))
async def test_a_change_on_one_node_reaches_clients_of_the_other(
    bus: str,
    postgres_url: str,
    database_url: str,
    live_servers: LiveServers,
    opencx_env: OpencxEnv,
    run_opencx: RunOpencx,
) -> None:
    assert database_url.startswith("postgresql"), postgres_url
    channel = f"opencx.e2e.{uuid.uuid4().hex}"  # runs side by side do not hear each other
    env = opencx_env(database_url, BUS__URL=BUSES[bus], BUS__CHANNEL=channel)
    node_a = live_servers.spawn(env, name="a")
    node_b = live_servers.spawn(env, name="b")
    # While they start: an admin and a token, through the CLI (the last line is the token).
    admin = ["--email", "admin@example.com", "--role", "admin", "--password", "long enough"]
    run_opencx(["user", "create", *admin], env)
    token = run_opencx(["token", "create", "--user", "admin@example.com"], env).splitlines()[-1]
    node_a.wait_ready()
    node_b.wait_ready()
    headers = {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(headers=headers, timeout=EVENT_TIMEOUT) as http:
        response = await http.post(f"{node_a.url}/api/v1/sites", json={"name": "Lyon"})
        assert response.status_code == 201, response.text
        site_id = response.json()["id"]
        async with (
            connect(f"{node_b.ws_url}/ws/supervisor?token={token}") as on_b,
            connect(f"{node_a.ws_url}/ws/supervisor?token={token}") as on_a,
        ):
            snapshot = await receive(on_b)
            assert snapshot["seq"] == 0
            assert snapshot["data"]["sites"][0]["name"] == "Lyon"
            assert (await receive(on_a))["seq"] == 0

            response = await http.patch(
                f"{node_a.url}/api/v1/sites/{site_id}", json={"name": "Lyon Part-Dieu"}
            )
            assert response.status_code == 200, response.text
            seen_on_b = await next_event(on_b, "site.changed")
            assert seen_on_b["event"]["entity_id"] == site_id
            assert seen_on_b["event"]["payload"]["name"] == "Lyon Part-Dieu"
            seen_on_a = await next_event(on_a, "site.changed")  # its own node: once
            assert seen_on_a["seq"] == seen_on_b["seq"] == 1

            response = await http.patch(
                f"{node_b.url}/api/v1/sites/{site_id}", json={"timezone": "UTC"}
            )
            assert response.status_code == 200, response.text
            for ws in (on_a, on_b):
                message = await next_event(ws, "site.changed")
                assert (message["seq"], message["event"]["payload"]["timezone"]) == (2, "UTC")

    for node in (node_a, node_b):
        assert token not in node.output()  # the query string was not logged with it
