"""Whether the server keeps answering while it receives large e-mails.

Two messages are sent at once over real SMTP to the server's listener, each in its own
session, ``--rounds`` times (new Message-IDs each round): a ``--html-mb`` MB HTML e-mail
(one HTML body, quoted-printable, as Outlook sends it) and a ``--parts``-part e-mail (a
text body and as many small attachments). Meanwhile a third process asks
``GET /healthz`` every ``--interval-ms`` ms on a fixed schedule, one at a time, and
times each answer from when it was due: a stalled server counts every request it kept
waiting, not one slow answer. The server runs in
this process as ``opencx serve`` runs it (uvicorn on uvloop, with the router, the SMTP
listener, the parsing pool and the job runner in the background), on a fresh SQLite
file unless ``--database-url`` names an empty PostgreSQL database; the senders and the
poller are other processes, as the sending servers and a load balancer are other
machines.

For each message it prints how long the session took from ``MAIL FROM`` to the ``250``
(the server answers only after the commit, so this is the time to be stored), and of
that, the time from the end of the data to the ``250`` (parsing and storing): the
median of the rounds, and the slowest. For ``/healthz`` it prints the latencies, p50,
p99 and max, of the requests due while mail was being received (from the start of a
round's sessions to its last ``250``), and the same before the mail (idle); and how late
the server's event loop woke from ``--interval-ms`` sleeps meanwhile (``loop_lag``: the
loop seen from inside, without the poller's own scheduling in it). Then one
JSON line with the figures, and the flags the stored messages carry (``unparsed`` when
past the parsing bounds; ``missing`` if one was not stored).

    python bench/mail_flood.py [--html-mb 30] [--parts 5000] [--rounds 3]
                               [--interval-ms 50] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import smtplib
import socket
import statistics
import tempfile
import threading
import time
from email.message import EmailMessage
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import uvloop
from sqlalchemy import select

from opencx.core.enums import Channel, Role
from opencx.core.permissions import Principal
from opencx.db.models import Message
from opencx.features.context import AppContext, transaction
from opencx.features.directory.channel_accounts import ChannelAccountCreate, create_account
from opencx.features.directory.queues import QueueCreate, create_queue
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.runtime import build_app, build_context, upgrade_database
from opencx.settings import DatabaseSettings, Settings, SmtpSettings, StorageSettings

MAILBOX = "support@example.com"
IDLE_SECONDS = 2.0
SEND_TIMEOUT_SECONDS = 300.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def setup(ctx: AppContext) -> None:
    root = await create_user_as_system(ctx, UserCreate(email="root@example.com", role=Role.ADMIN))
    admin = Principal(user_id=root.id, role=Role.ADMIN)
    queue = await create_queue(ctx, admin, QueueCreate(name="Mail", channel=Channel.EMAIL))
    await create_account(
        ctx,
        admin,
        ChannelAccountCreate(
            channel=Channel.EMAIL,
            provider="smtp",
            address=MAILBOX,
            name="Support",
            queue_id=queue.id,
        ),
    )


# ---------------------------------------------------------------- the messages


def html_email(megabytes: float, round_: int) -> bytes:
    """An Outlook-like HTML newsletter of about ``megabytes`` MB, quoted-printable."""
    row = (
        '<tr><td style="font-family:Calibri,sans-serif;font-size:11pt;color:#1F497D">'
        'Dear customer, <b>your order</b> <a href="https://example.com/orders/48213">48213</a>'
        " has shipped &amp; will arrive soon.</td></tr>\n"
    )
    rows = int(megabytes * 1_000_000 / len(row) / 1.05)  # quoted-printable adds ~5 %
    message = EmailMessage()
    message["From"] = "Ada Lovelace <ada@example.org>"
    message["To"] = MAILBOX
    message["Subject"] = "A large HTML e-mail"
    message["Message-ID"] = f"<flood.html.{round_}@example.org>"
    message.set_content(
        f"<html><body><table>{row * rows}</table></body></html>",
        subtype="html",
        cte="quoted-printable",
    )
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def parts_email(parts: int, round_: int) -> bytes:
    """A text body and ``parts`` small attachments."""
    message = EmailMessage()
    message["From"] = "Grace Hopper <grace@example.org>"
    message["To"] = MAILBOX
    message["Subject"] = "Many parts"
    message["Message-ID"] = f"<flood.parts.{round_}@example.org>"
    message.set_content("The files are attached.")
    for n in range(parts):
        message.add_attachment(
            f"line {n}\n".encode(), maintype="text", subtype="plain", filename=f"part{n}.txt"
        )
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


# ---------------------------------------------------------------- the senders' process


def send_one(port: int, sender: str, data: bytes) -> dict[str, float]:
    """One SMTP session; its total time and the time from the end of DATA to the 250."""
    stuffed = re.sub(rb"(?m)^\.", b"..", data)
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=SEND_TIMEOUT_SECONDS) as smtp:
        smtp.ehlo()
        smtp.mail(sender)
        code, reply = smtp.rcpt(MAILBOX)
        if code != 250:
            raise RuntimeError(f"RCPT refused: {code} {reply!r}")
        code, reply = smtp.docmd("DATA")
        if code != 354:
            raise RuntimeError(f"DATA refused: {code} {reply!r}")
        smtp.send(stuffed + (b"" if stuffed.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        sent = time.perf_counter()
        code, reply = smtp.getreply()
        stored = time.perf_counter()
        if code != 250:
            raise RuntimeError(f"message refused: {code} {reply!r}")
    return {"session_s": stored - started, "after_data_s": stored - sent, "bytes": len(data)}


def sender_process(conn: Connection, port: int, html_mb: float, parts: int) -> None:
    """The sending servers: for each round, prepare, say ready, wait for go, send both
    at once, report."""
    round_ = 0
    while True:
        emails = {
            "html": ("ada@example.org", html_email(html_mb, round_)),
            "parts": ("grace@example.org", parts_email(parts, round_)),
        }
        conn.send("ready")
        if conn.recv() != "go":
            return
        conn.send(send_both(port, emails))
        round_ += 1


def send_both(port: int, emails: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
    results: dict[str, Any] = {}

    def send(name: str) -> None:
        try:
            results[name] = send_one(port, *emails[name])
        except BaseException as exc:
            results[name] = {"error": repr(exc)}

    threads = [threading.Thread(target=send, args=(name,)) for name in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# ---------------------------------------------------------------- the poller's process


def poller_process(conn: Connection, port: int, interval: float) -> None:
    """Ask /healthz on a schedule, one request every ``interval`` s, until told to stop;
    report (due at, latency) of each. A request is timed from when it was due: one that
    falls due while an earlier one waits goes as soon as that one is answered, so a
    stalled server shows as every request it kept waiting, not as one slow answer."""
    stop = threading.Event()
    threading.Thread(target=lambda: (conn.recv(), stop.set()), daemon=True).start()
    samples: list[tuple[float, float]] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=SEND_TIMEOUT_SECONDS) as http:
        http.get("/healthz").raise_for_status()
        conn.send("ready")
        due = time.perf_counter()
        while not stop.is_set():
            time.sleep(max(0.0, due - time.perf_counter()))
            http.get("/healthz").raise_for_status()
            samples.append((due, time.perf_counter() - due))
            due += interval
    conn.send(samples)


# ---------------------------------------------------------------- the server's side


async def loop_lags(lags: list[tuple[float, float]], interval: float) -> None:
    """The server's event loop, seen from inside: how late each ``interval`` s sleep
    wakes up. Unlike /healthz, no other process's scheduling is in it. A wake-up late
    by several intervals counts as each of the sleeps it stood for."""
    while True:
        due = time.perf_counter() + interval
        await asyncio.sleep(interval)
        late = time.perf_counter() - due
        lags.extend(
            (due + k * interval, late - k * interval) for k in range(int(late // interval) + 1)
        )


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "samples": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


async def stored_flags(ctx: AppContext) -> dict[str, str]:
    async with transaction(ctx) as session:
        rows = await session.execute(select(Message.provider_message_id, Message.metadata_))
        return {row[0]: str((row[1] or {}).get("flags", "")) for row in rows}


async def flood(to_sender: Connection, rounds: int) -> tuple[list[Any], list[Any]]:
    """Each round's results and its (start, end) times."""
    results, windows = [], []
    for _ in range(rounds):
        assert await asyncio.to_thread(to_sender.recv) == "ready"
        started = time.perf_counter()
        to_sender.send("go")
        sent: dict[str, Any] = await asyncio.to_thread(to_sender.recv)
        windows.append((started, time.perf_counter()))
        failed = {name: result["error"] for name, result in sent.items() if "error" in result}
        if failed:
            raise RuntimeError(f"sending failed: {failed}")
        results.append(sent)
    assert await asyncio.to_thread(to_sender.recv) == "ready"
    to_sender.send("stop")
    return results, windows


def mail_figures(results: list[dict[str, Any]]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name in sorted(results[0]):
        sessions = [result[name]["session_s"] for result in results]
        after_data = [result[name]["after_data_s"] for result in results]
        figures[f"{name}_mail_mb"] = round(results[0][name]["bytes"] / 1e6, 1)
        figures[f"{name}_stored_s"] = round(statistics.median(sessions), 2)
        figures[f"{name}_stored_slowest_s"] = round(max(sessions), 2)
        figures[f"{name}_after_data_s"] = round(statistics.median(after_data), 2)
    return figures


async def main(
    html_mb: float, parts: int, rounds: int, interval: float, url: str, storage: Path
) -> dict[str, Any]:
    smtp_port, http_port = free_port(), free_port()
    settings = Settings(
        env="test",
        database=DatabaseSettings(url=url),
        smtp=SmtpSettings(port=smtp_port),
        storage=StorageSettings(path=storage),
        _env_file=None,  # type: ignore[call-arg]
    )
    await asyncio.to_thread(upgrade_database, settings)
    ctx = build_context(settings)
    await setup(ctx)
    app = build_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=http_port, log_level="error")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.05)
    mp = multiprocessing.get_context("spawn")
    to_sender, sender_end = mp.Pipe()
    to_poller, poller_end = mp.Pipe()
    sender = mp.Process(target=sender_process, args=(sender_end, smtp_port, html_mb, parts))
    poller = mp.Process(target=poller_process, args=(poller_end, http_port, interval))
    sender.start()
    poller.start()
    lags: list[tuple[float, float]] = []
    lagging = asyncio.create_task(loop_lags(lags, interval))
    try:
        assert await asyncio.to_thread(to_poller.recv) == "ready"
        await asyncio.sleep(IDLE_SECONDS)
        results, windows = await flood(to_sender, rounds)
        to_poller.send("stop")
        samples: list[tuple[float, float]] = await asyncio.to_thread(to_poller.recv)
        flags = await stored_flags(ctx)
    finally:
        lagging.cancel()
        await asyncio.to_thread(sender.join, 30)
        await asyncio.to_thread(poller.join, 30)
        server.should_exit = True
        await serving
        await ctx.engine.dispose()
    # perf_counter is one clock for every process of a machine (CLOCK_MONOTONIC)
    during = [latency for at, latency in samples if _within(at, windows)]
    idle = [latency for at, latency in samples if at < windows[0][0]]
    figures: dict[str, Any] = {"database": url.split(":", 1)[0], "rounds": rounds}
    figures |= mail_figures(results)
    figures |= {f"healthz_{key}": value for key, value in summary(during).items()}
    figures |= {f"idle_healthz_{key}": value for key, value in summary(idle).items()}
    loop_during = [lag for due, lag in lags if _within(due, windows)]
    figures |= {f"loop_lag_{key}": value for key, value in summary(loop_during).items()}
    for name in ("html", "parts"):
        stored = {flags.get(f"flood.{name}.{n}@example.org", "missing") for n in range(rounds)}
        figures[f"{name}_flags"] = ",".join(sorted(stored))
    return figures


def _within(at: float, windows: list[tuple[float, float]]) -> bool:
    return any(start <= at <= end for start, end in windows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html-mb", type=float, default=30.0)
    parser.add_argument("--parts", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--interval-ms", type=float, default=50.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'flood.db'}"
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            figures = runner.run(
                main(
                    args.html_mb,
                    args.parts,
                    args.rounds,
                    args.interval_ms / 1000,
                    url,
                    Path(tmp) / "files",
                )
            )
    width = max(len(key) for key in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))
