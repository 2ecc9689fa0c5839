"""Real servers for end-to-end tests: ``opencx serve`` processes and the ``opencx`` CLI.

``live_servers.start(env)`` starts ``python -m opencx serve`` on a free port and waits
(bounded) for ``/healthz``; a server that dies or never answers fails the test with its
log. Every server a test started is stopped at teardown, killed if it will not stop.
``opencx_env(database_url, ...)`` builds a clean environment (no ``OPENCX_*`` variable
leaks in from the caller's shell) and ``run_opencx(args, env)`` runs one CLI command.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

# Seconds for a server to answer /healthz: a demo seeds its company first, and a machine
# running other work can take several times its quiet start.
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0  # seconds for a server to stop before it is killed
CLI_TIMEOUT = 60.0  # seconds for one CLI command

OpencxEnv = Callable[..., dict[str, str]]
RunOpencx = Callable[[list[str], dict[str, str]], str]


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """What ``check`` returns once it is truthy; fails the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail("not seen in time")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def output(self) -> str:
        """What the server printed so far (stdout and stderr)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as http:
            while True:
                if self.process.poll() is not None:
                    pytest.fail(
                        f"server {self.name} exited with {self.process.returncode}:\n"
                        + self.output()
                    )
                try:
                    if http.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"server {self.name} not ready after {timeout}s:\n{self.output()}")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


@dataclass
class LiveServers:
    directory: Path
    started: list[LiveServer] = field(default_factory=list)

    def spawn(
        self,
        env: dict[str, str],
        *,
        name: str = "node",
        command: tuple[str, ...] = ("serve",),
        port: int | None = None,
    ) -> LiveServer:
        """Start a server without waiting; call ``wait_ready`` on it (start several at once).

        ``command`` is the ``opencx`` sub-command and its options (``("demo", "--customers",
        "5")``); the host and port are added (``port``: a free one unless given, to
        restart a server where its clients expect it)."""
        port = port or free_port()
        log = self.directory / f"{name}-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "opencx",
                    *command,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=env,
                cwd=self.directory,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = LiveServer(name, port, process, log)
        self.started.append(server)
        return server

    def start(
        self,
        env: dict[str, str],
        *,
        name: str = "node",
        command: tuple[str, ...] = ("serve",),
        port: int | None = None,
    ) -> LiveServer:
        server = self.spawn(env, name=name, command=command, port=port)
        server.wait_ready()
        return server

    def stop_all(self) -> None:
        for server in reversed(self.started):
            server.stop()


@pytest.fixture
def live_servers(tmp_path: Path) -> Iterator[LiveServers]:
    servers = LiveServers(tmp_path)
    try:
        yield servers
    finally:
        servers.stop_all()


@pytest.fixture
def opencx_env(tmp_path: Path) -> OpencxEnv:
    def build(database_url: str, **settings: str) -> dict[str, str]:
        """``settings`` are ``OPENCX_`` variables without the prefix: ``BUS__URL="..."``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCX_")}
        env |= {
            "OPENCX_ENV": "test",
            "OPENCX_DATABASE__URL": database_url,
            "OPENCX_STORAGE__PATH": str(tmp_path / "attachments"),
        }
        env |= {f"OPENCX_{key}": value for key, value in settings.items()}
        return env

    return build


@pytest.fixture
def run_opencx(tmp_path: Path) -> RunOpencx:
    def run(args: list[str], env: dict[str, str]) -> str:
        """Run ``opencx ARGS``; returns its stdout, fails the test with its output if it fails."""
        done = subprocess.run(
            [sys.executable, "-m", "opencx", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"opencx {args[:2]} exited with {done.returncode}:\n{done.stderr}")
        return done.stdout

    return run


# The browser fixtures (Chromium, a customer's website, a chat floor) live with their
# helpers; imported last, since those helpers use the servers defined above.
from tests.e2e.browsing import browser, floor, site  # noqa: E402, F401
