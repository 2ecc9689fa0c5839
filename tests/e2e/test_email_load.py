"""A running server keeps answering while it receives a large HTML e-mail and a
5,000-part one over SMTP: their parsing runs beside the event loop, not on it."""

from __future__ import annotations

import re
import smtplib
import threading
import time
from email.message import EmailMessage

import httpx
import pytest

from tests.e2e.conftest import LiveServers, OpencxEnv, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

MAILBOX = "support@example.com"
HEALTH_INTERVAL = 0.05


def html_email(megabytes: int) -> bytes:
    row = (
        '<tr><td style="font-family:Calibri,sans-serif;color:#1F497D">Your order '
        '<a href="https://example.com/orders/48213">48213</a> has shipped.</td></tr>\r\n'
    )
    head = (
        "From: Ada Lovelace <ada@example.com>\r\nTo: support@example.com\r\n"
        "Subject: A large newsletter\r\nMessage-ID: <large.html@example.com>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n<html><body><table>\r\n"
    )
    body = row * (megabytes * 1_000_000 // len(row))
    return (head + body + "</table></body></html>\r\n").encode()


def parts_email(parts: int) -> bytes:
    message = EmailMessage()
    message["From"] = "Grace Hopper <grace@example.com>"
    message["To"] = MAILBOX
    message["Subject"] = "Many parts"
    message["Message-ID"] = "<many.parts@example.com>"
    message.set_content("The files are attached.")
    for n in range(parts):
        message.add_attachment(b"x", maintype="text", subtype="plain", filename=f"p{n}.txt")
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


class Session(threading.Thread):
    """One SMTP session: when its data was all sent, and its answer to the data."""

    def __init__(self, port: int, sender: str, data: bytes) -> None:
        super().__init__()
        self.port = port
        self.sender = sender
        self.data = re.sub(rb"(?m)^\.", b"..", data) + b".\r\n"  # stuffed before timing
        self.sent = self.answered = 0.0
        self.reply: tuple[int, bytes] = (0, b"")

    def run(self) -> None:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=240) as smtp:
            smtp.ehlo()
            assert smtp.mail(self.sender)[0] == 250
            assert smtp.rcpt(MAILBOX)[0] == 250
            assert smtp.docmd("DATA")[0] == 354
            smtp.send(self.data)
            self.sent = time.perf_counter()
            self.reply = smtp.getreply()
            self.answered = time.perf_counter()


class HealthPoller(threading.Thread):
    """``/healthz`` on a schedule, each answer timed from when it was due (a stalled
    server counts every request it kept waiting)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.samples: list[tuple[float, float]] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=240) as http:
            due = time.perf_counter()
            while not self.stop.is_set():
                time.sleep(max(0.0, due - time.perf_counter()))
                assert http.get("/healthz").status_code == 200
                self.samples.append((due, time.perf_counter() - due))
                due += HEALTH_INTERVAL


def test_the_server_answers_while_it_parses_large_mail(
    database_url: str, live_servers: LiveServers, opencx_env: OpencxEnv
) -> None:
    smtp_port = free_port()
    env = opencx_env(
        database_url,
        SMTP__PORT=str(smtp_port),
        SMTP__ACCEPT_UNKNOWN_RECIPIENTS="true",
        # All of the HTML is converted to text: a parse of seconds, whatever the bounds.
        MAIL_PARSING__MAX_HTML_CHARS=str(100_000_000),
    )
    server = live_servers.start(env)
    html = Session(smtp_port, "ada@example.com", html_email(12))
    parts = Session(smtp_port, "grace@example.com", parts_email(5000))
    poller = HealthPoller(server.url)
    poller.start()
    try:
        for session in (html, parts):
            session.start()
        for session in (html, parts):
            session.join()
    finally:
        poller.stop.set()
        poller.join()
    assert html.reply[0] == 250, html.reply
    assert parts.reply[0] == 250, parts.reply
    # From the end of the large message's data to its 250, the server parsed and stored
    # it. Were the parsing on the event loop, the health requests due then would wait
    # for most of that time; the bound is a third of it, so a busy machine's hiccups
    # (a fraction of a second) pass and a stalled loop (seconds) does not.
    window = html.answered - html.sent
    during = [latency for due, latency in poller.samples if html.sent <= due <= html.answered]
    assert window > 1.0, "the parse was too quick to tell anything"
    assert len(during) >= 5
    assert max(during) < window / 3, (max(during), window)
