"""``opencx demo`` in a folder of its own, for scripts that look at the product as a
new user does (screenshots, the desktop's first paint): a fresh database, the demo's
logins, a free port for the web and one for inbound mail."""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType

from opencx.cli.demo import DEMO_PASSWORD

__all__ = ["DEMO_PASSWORD", "DemoServer"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DemoServer:
    """Start with ``with DemoServer() as demo:``; ``demo.url``, ``demo.widget`` (the
    web chat's try page) and ``demo.send_mail`` are then ready."""

    def __init__(self, customers: int = 60, timeout: float = 240.0) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="opencx-demo-"))
        self.port = _free_port()
        self.smtp_port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.widget = ""
        self._customers = customers
        self._timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DemoServer:
        env = {
            **os.environ,
            "OPENCX_DATABASE__URL": f"sqlite:///{self.folder / 'demo.db'}",
            "OPENCX_STORAGE__PATH": str(self.folder / "files"),
        }
        command = [sys.executable, "-m", "opencx", "demo", "--customers", str(self._customers)]
        command += ["--port", str(self.port), "--smtp-port", str(self.smtp_port)]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter
                command, cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.widget = self._wait_until_served()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def log_path(self) -> Path:
        return self.folder / "demo.log"

    def send_mail(self, sender: str, subject: str, body: str) -> None:
        """A customer's e-mail, through the demo's SMTP listener."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = "support@demo.opencx.dev"
        message["Subject"] = subject
        message.set_content(body)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)

    def _wait_until_served(self) -> str:
        assert self._process is not None
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            log = self.log_path.read_text(errors="replace")
            widget = re.search(r"Web chat\s+(\S+)", log)
            if widget and "Application startup complete" in log:
                return widget.group(1)
            if self._process.poll() is not None:
                raise RuntimeError(f"opencx demo stopped:\n{log[-4000:]}")
            time.sleep(0.5)
        raise TimeoutError("opencx demo did not start in time")
