"""An admin-configured host cannot lead the server into its own network (SSRF): an IMAP
account on loopback is refused when saved and when polled, unless the setting allows
it; and what a foreign server answered is read by admins only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from opencx.core.enums import Role
from opencx.features.context import AppContext
from opencx.features.sources.imap_poller import poll_mailboxes
from opencx.web import create_app
from tests.conftest import Caller, MakeCaller
from tests.integration.local_server import serving

pytestmark = pytest.mark.timeout(60)

BANNER = b"SSH-2.0-OpenSSH_9.6 internal-build-host\r\n"
SETTING = "OPENCX_NETWORK__ALLOW_PRIVATE_DESTINATIONS"


@dataclass
class Foreign:
    """A service on loopback that is not ours: it greets, and counts who came."""

    port: int
    connections: list[str] = field(default_factory=list)


@pytest.fixture
async def foreign() -> AsyncIterator[Foreign]:
    served = Foreign(port=0)

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.connections.append(str(writer.get_extra_info("peername")))
        writer.write(BANNER)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    served.port = server.sockets[0].getsockname()[1]
    async with server:
        yield served


@pytest.fixture
async def http(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(ctx)) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


def account(host: str, port: int) -> dict[str, Any]:
    return {
        "channel": "email",
        "provider": "imap",
        "address": "support@example.com",
        "name": "Support",
        "settings": {"host": host, "port": port, "security": "none", "username": "support"},
        "secret": "mailbox password",
    }


async def test_a_loopback_or_private_host_is_refused_when_saved(
    http: httpx.AsyncClient, admin: Caller, foreign: Foreign
) -> None:
    for host in [
        "127.0.0.1",
        "localhost",
        "10.1.2.3",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
    ]:
        refused = await http.post(
            "/api/v1/channel-accounts", json=account(host, foreign.port), headers=admin.headers
        )
        assert refused.status_code == 422, (host, refused.text)
        assert refused.json()["errors"][0]["field"] == "settings.host"
        assert SETTING in refused.json()["detail"]
    saved = await http.post(
        "/api/v1/channel-accounts", json=account("imap.example.com", 993), headers=admin.headers
    )
    assert saved.status_code == 201, saved.text
    moved = await http.patch(
        f"/api/v1/channel-accounts/{saved.json()['id']}",
        json={"settings": account("127.0.0.1", foreign.port)["settings"]},
        headers=admin.headers,
    )
    assert moved.status_code == 422, moved.text
    assert foreign.connections == []


async def test_a_host_allowed_when_saved_is_checked_again_when_polled(
    ctx: AppContext, http: httpx.AsyncClient, admin: Caller, foreign: Foreign
) -> None:
    ctx.settings.network.allow_private_destinations = True
    saved = await http.post(
        "/api/v1/channel-accounts", json=account("127.0.0.1", foreign.port), headers=admin.headers
    )
    assert saved.status_code == 201, saved.text
    ctx.settings.network.allow_private_destinations = False  # as a name rebound later
    (result,) = await poll_mailboxes(ctx)
    assert foreign.connections == []
    assert result.error is not None
    assert "127.0.0.1 is a loopback address" in result.error


async def test_a_servers_words_are_for_admins_only(
    ctx: AppContext,
    http: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    foreign: Foreign,
) -> None:
    ctx.settings.network.allow_private_destinations = True
    saved = await http.post(
        "/api/v1/channel-accounts", json=account("127.0.0.1", foreign.port), headers=admin.headers
    )
    assert saved.status_code == 201, saved.text
    (result,) = await poll_mailboxes(ctx)
    assert foreign.connections  # allowed: it was reached, and it answered in its words
    assert result.error is not None
    assert "OpenSSH" in result.error
    path = f"/api/v1/channel-accounts/{saved.json()['id']}"
    told = (await http.get(path, headers=admin.headers)).json()["poller"]
    assert "OpenSSH" in told["last_error"]
    agent = await make_caller(Role.AGENT)
    for response in [
        await http.get(path, headers=agent.headers),
        await http.get("/api/v1/channel-accounts", headers=agent.headers),
    ]:
        assert response.status_code == 200, response.text
        assert "OpenSSH" not in response.text
        assert "internal-build-host" not in response.text
    shown = (await http.get(path, headers=agent.headers)).json()["poller"]
    assert shown["last_error"] == "the last poll failed; an admin can read why"
    assert shown["last_error_at"] == told["last_error_at"]


def test_every_address_of_a_name_is_checked() -> None:
    from opencx.features.destinations import DestinationRefused, resolve_allowed

    with pytest.raises(DestinationRefused):
        resolve_allowed("localhost", 993, allow_private=False)
    assert "127.0.0.1" in resolve_allowed("localhost", 993, allow_private=True)
