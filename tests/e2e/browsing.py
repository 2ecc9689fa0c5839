"""A contact center in a browser: Debian's Chromium driven by Playwright, a customer's
website on an origin of its own, and the floor behind them (an admin, a chat queue, an
agent, a widget). The fixtures that use these are in conftest.py."""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer, LiveServers, OpencxEnv, RunOpencx, free_port, wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Chromium's own traffic goes nowhere on a closed network; these keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Acme shop</title></head>
<body><h1>Acme shop</h1>
<script src="{server}/chat/widget.js" data-widget="acme-web" {extra} async></script>
</body></html>
"""


def _playwright() -> Any:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_api = _playwright()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class Site:
    """The customer's website: static pages on an origin of their own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        handler = partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def page(self, name: str, server: LiveServer, *, lang: str, extra: str = "") -> str:
        (self.root / name).write_text(PAGE.format(lang=lang, server=server.url, extra=extra))
        return f"http://127.0.0.1:{self.port}/{name}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    root = tmp_path / "site"
    root.mkdir()
    served = Site(root)
    served.thread.start()
    try:
        yield served
    finally:
        served.httpd.shutdown()
        served.httpd.server_close()


class Floor:
    """The contact center behind the widget: an admin, one chat agent, a widget."""

    def __init__(self, server: LiveServer, env: dict[str, str], run_opencx: RunOpencx) -> None:
        self.env = env
        admin = ["--email", "admin@example.com", "--role", "admin", "--password", "long enough"]
        run_opencx(["user", "create", *admin], env)
        token = run_opencx(["token", "create", "--user", "admin@example.com"], env)
        self.api = httpx.Client(
            base_url=f"{server.url}/api/v1",
            headers={"Authorization": f"Bearer {token.splitlines()[-1]}"},
            timeout=10,
        )
        queue = self.ok(
            self.api.post(
                "/queues",
                json={"name": "Web chat", "channel": "chat", "expected_handle_seconds": 240},
            ),
            201,
        )
        self.queue_id = queue["id"]
        agent = self.ok(
            self.api.post(
                "/users",
                json={
                    "email": "lea@example.com",
                    "display_name": "Léa",
                    "role": "agent",
                    "capacity": {"chat": 2},
                },
            ),
            201,
        )
        self.agent_id = agent["id"]
        agent_token = run_opencx(["token", "create", "--user", "lea@example.com"], env)
        self.agent = httpx.Client(
            base_url=f"{server.url}/api/v1",
            headers={"Authorization": f"Bearer {agent_token.splitlines()[-1]}"},
            timeout=10,
        )

    @staticmethod
    def ok(response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def widget(self, **settings: Any) -> None:
        self.ok(
            self.api.post(
                "/channel-accounts",
                json={
                    "channel": "chat",
                    "provider": "widget",
                    "address": "acme-web",
                    "name": "Acme website",
                    "queue_id": self.queue_id,
                    "settings": settings,
                },
            ),
            201,
        )

    def presence(self, state: str, reason: str | None = None) -> None:
        body = {"state": state, **({"reason": reason} if reason else {})}
        self.ok(self.api.put(f"/users/{self.agent_id}/presence", json=body))

    def take_offer(self) -> dict[str, Any]:
        offers = wait_for(
            lambda: self.agent.get("/reservations", params={"state": "pending"}).json()["items"]
        )
        self.ok(self.agent.post(f"/reservations/{offers[0]['id']}/accept"))
        return dict(offers[0])


@pytest.fixture
def floor(
    database_url: str, live_servers: LiveServers, opencx_env: OpencxEnv, run_opencx: RunOpencx
) -> Iterator[tuple[LiveServer, Floor]]:
    env = opencx_env(database_url, SMTP__ENABLED="false")
    server = live_servers.start(env)
    built = Floor(server, env, run_opencx)
    try:
        yield server, built
    finally:
        built.api.close()
        built.agent.close()
