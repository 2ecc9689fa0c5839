"""Ending access over a real ``opencx serve``: a signed-out cookie, a revoked token, a
new password and a deactivation each stop working at once, on HTTP and on WebSockets."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import LiveServer, LiveServers, OpencxEnv, RunOpencx

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

PASSWORD = "correct horse battery"
CLOSE_WITHIN = 10.0  # seconds for a socket to be closed once its access ended


def user(run_opencx: RunOpencx, env: dict[str, str], email: str, role: str) -> str:
    """Create a user with ``PASSWORD`` and an API token; the token."""
    run_opencx(["user", "create", "--email", email, "--role", role, "--password", PASSWORD], env)
    return run_opencx(["token", "create", "--user", email], env).splitlines()[-1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def browser_of(server: LiveServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, timeout=10.0)


async def sign_in(browser: httpx.AsyncClient, email: str) -> None:
    """Sign in through the login form."""
    form = await browser.get("/login")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found
    signed_in = await browser.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": found.group(1)}
    )
    assert signed_in.status_code == 303, signed_in.text
    assert (await browser.get("/api/v1/users/me")).status_code == 200


async def me(server: LiveServer, **kwargs: Any) -> int:
    """The status of ``/users/me`` for a client built with ``kwargs`` (headers, cookies)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0, **kwargs) as http:
        return (await http.get("/api/v1/users/me")).status_code


async def until_closed(ws: ClientConnection) -> None:
    """Read until the server closes (events may come first); a silence fails the test."""
    while True:
        await asyncio.wait_for(ws.recv(), CLOSE_WITHIN)


@pytest.fixture
def started(
    database_url: str, live_servers: LiveServers, opencx_env: OpencxEnv
) -> tuple[LiveServer, dict[str, str]]:
    env = opencx_env(database_url)
    return live_servers.start(env), env


async def test_a_cookie_copied_before_sign_out_is_refused_after_it(
    started: tuple[LiveServer, dict[str, str]], run_opencx: RunOpencx
) -> None:
    server, env = started
    user(run_opencx, env, "ana@example.com", "agent")
    async with browser_of(server) as browser:
        await sign_in(browser, "ana@example.com")
        copied = browser.cookies["opencx_session"]
        home = await browser.get("/")
        csrf = re.search(r'name="csrf" value="([^"]+)"', home.text)
        assert csrf
        assert (await browser.post("/logout", data={"csrf": csrf.group(1)})).status_code == 303
    cookies = {"opencx_session": copied}
    assert await me(server, cookies=cookies) == 401
    async with httpx.AsyncClient(base_url=server.url, cookies=cookies) as http:
        page = await http.get("/")
    assert page.status_code == 303
    assert page.headers["location"] == "/login"


async def test_revoking_a_token_by_cli_or_api_ends_it_at_once(
    started: tuple[LiveServer, dict[str, str]], run_opencx: RunOpencx
) -> None:
    server, env = started
    first = user(run_opencx, env, "ana@example.com", "agent")
    second = run_opencx(["token", "create", "--user", "ana@example.com"], env).splitlines()[-1]
    assert await me(server, headers=bearer(first)) == 200

    listed = run_opencx(["token", "list", "--user", "ana@example.com"], env).splitlines()
    rows = [line.split("\t") for line in listed]
    assert [row[3] for row in rows] == [first[:10], second[:10]]
    assert [row[-1] for row in rows] == ["active", "active"]
    run_opencx(["token", "revoke", rows[0][0]], env)
    assert await me(server, headers=bearer(first)) == 401
    assert await me(server, headers=bearer(second)) == 200

    async with httpx.AsyncClient(base_url=server.url, headers=bearer(second)) as http:
        own = (await http.get("/api/v1/tokens")).json()["items"]
        assert [(t["id"], t["revoked_at"] is None) for t in own] == [
            (int(rows[0][0]), False),
            (int(rows[1][0]), True),
        ]
        assert "token_hash" not in own[0]
        revoked = await http.delete(f"/api/v1/tokens/{rows[1][0]}")
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["revoked_at"] is not None
    assert await me(server, headers=bearer(second)) == 401


async def test_another_users_token_is_not_found_unless_admin(
    started: tuple[LiveServer, dict[str, str]], run_opencx: RunOpencx
) -> None:
    server, env = started
    ana = user(run_opencx, env, "ana@example.com", "agent")
    bob = user(run_opencx, env, "bob@example.com", "agent")
    admin = user(run_opencx, env, "admin@example.com", "admin")
    async with httpx.AsyncClient(base_url=server.url) as http:
        anas = (await http.get("/api/v1/tokens", headers=bearer(ana))).json()["items"]
        by_bob = await http.delete(f"/api/v1/tokens/{anas[0]['id']}", headers=bearer(bob))
        assert by_bob.status_code == 404
        assert await me(server, headers=bearer(ana)) == 200
        everyone = (await http.get("/api/v1/tokens", headers=bearer(admin))).json()["items"]
        assert len(everyone) == 3
        by_admin = await http.delete(f"/api/v1/tokens/{anas[0]['id']}", headers=bearer(admin))
        assert by_admin.status_code == 200
    assert await me(server, headers=bearer(ana)) == 401


async def test_a_new_password_ends_sessions_and_tokens(
    started: tuple[LiveServer, dict[str, str]], run_opencx: RunOpencx
) -> None:
    server, env = started
    admin = user(run_opencx, env, "admin@example.com", "admin")
    token = user(run_opencx, env, "ana@example.com", "agent")
    async with (
        browser_of(server) as browser,
        httpx.AsyncClient(base_url=server.url, headers=bearer(admin)) as http,
    ):
        await sign_in(browser, "ana@example.com")
        ana = (await http.get("/api/v1/users", params={"q": "ana"})).json()["items"][0]
        reset = await http.patch(f"/api/v1/users/{ana['id']}", json={"password": "a new one!"})
        assert reset.status_code == 200, reset.text
        assert (await browser.get("/api/v1/users/me")).status_code == 401
    assert await me(server, headers=bearer(token)) == 401
    assert await me(server, headers=bearer(admin)) == 200


async def test_deactivation_closes_open_sockets_and_reactivation_revives_no_token(
    started: tuple[LiveServer, dict[str, str]], run_opencx: RunOpencx
) -> None:
    server, env = started
    admin = user(run_opencx, env, "admin@example.com", "admin")
    token = user(run_opencx, env, "boss@example.com", "supervisor")
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(admin)) as http:
        boss = (await http.get("/api/v1/users", params={"q": "boss"})).json()["items"][0]
        url = f"{server.ws_url}/ws/supervisor?token={token}"
        async with connect(url) as ws:
            snapshot = await asyncio.wait_for(ws.recv(), CLOSE_WITHIN)
            assert '"snapshot"' in str(snapshot)
            off = await http.patch(f"/api/v1/users/{boss['id']}", json={"is_active": False})
            assert off.status_code == 200, off.text
            with pytest.raises(ConnectionClosed) as closed:
                await until_closed(ws)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4401
        on = await http.patch(f"/api/v1/users/{boss['id']}", json={"is_active": True})
        assert on.status_code == 200, on.text
    assert await me(server, headers=bearer(token)) == 401
    fresh = run_opencx(["token", "create", "--user", "boss@example.com"], env).splitlines()[-1]
    assert await me(server, headers=bearer(fresh)) == 200
