"""``ingest.py --corpus``: a support mailbox's real-looking mail (``opencx.testing.
mail_corpus``: multipart, HTML, inline images, attachments, three charsets, replies
with In-Reply-To and References, known and new senders) written as a maildir, then
taken in three ways over the same files, each on a fresh SQLite database:

- smtp: OpenCX's SMTP listener, ``--concurrency`` sessions at a time from a second
  process, one message per session, in the maildir's order; a reply is sent only once
  the message it answers had its ``250`` (written after it was read, as replies are);
- maildir: the same files read in OpenCX's own process and handed to its intake as
  the IMAP poller does (``parse_received`` in the parsing pool, then ``receive``),
  ``--concurrency`` at a time, with the same rule for replies: intake without SMTP;
- helpdesk: django-helpdesk (from PyPI, in a venv of its own under
  ``~/.cache/opencx-bench``, made on first use) taking the same files from a local
  mail directory with its ``get_email`` command, on SQLite, in a subprocess (see
  ``helpdesk_ingest.py``), twice: on SQLite as Django sets it up (a rollback journal,
  ``synchronous=FULL``: a sync to disk per commit, and django-helpdesk commits several
  times per message), then as OpenCX sets it up (WAL, ``synchronous=NORMAL``).

Each row also gives the CPU time its side used per message in the same time (OpenCX:
the server's process and its parsing pool, not the senders; django-helpdesk: its one
process): the rate depends on the disk and on the other loads of the machine, this
much less.

OpenCX's clock stops when every message is stored (each ``250`` or ``receive`` is
answered after its commit) and the router has queued every task the messages made (a
reply joins its conversation's live interaction and makes none); django-helpdesk's
when ``get_email`` returns. Then each side's threading is read from its database:
how many replies are in the conversation (ticket) of the message they answer.
"""

from __future__ import annotations

import asyncio
import json
import mailbox
import multiprocessing
import os
import shutil
import smtplib
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from email.utils import parseaddr
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ingest import Running, run_senders, serving
from sqlalchemy import event, func, select

from opencx.core.enums import Channel, Direction
from opencx.db.models import Message, RoutingTask
from opencx.features.contacts.intake import arriving, receive
from opencx.features.context import AppContext, transaction
from opencx.features.directory.channel_accounts import find_account
from opencx.features.sources.mail_parsing import MailParsers, parse_received
from opencx.testing.mail_corpus import Corpus, make_corpus, wire

MAILBOX = "support@example.com"
HELPDESK_VENV = Path.home() / ".cache" / "opencx-bench" / "helpdesk-venv"
HELPDESK_SCRIPT = Path(__file__).with_name("helpdesk_ingest.py")


@dataclass(frozen=True, slots=True)
class Taken:
    """One way of taking the corpus in, measured."""

    label: str
    messages: int
    seconds: float
    cpu_seconds: float  # of the side's own processes, in the same time
    replies: int
    threaded: int
    detail: dict[str, Any]

    @property
    def per_s(self) -> float:
        return self.messages / self.seconds


# ---------------------------------------------------------------- the senders' process


def send_in_order(
    port: int, mails: list[tuple[str, bytes]], parents: list[int | None], concurrency: int
) -> None:
    """One SMTP session per message, ``concurrency`` at a time, in order; a reply
    waits for the ``250`` of the message it answers."""
    todo = iter(range(len(mails)))
    lock = threading.Lock()
    acked = [threading.Event() for _ in mails]
    failures: list[BaseException] = []

    def sender() -> None:
        while not failures:
            with lock:
                n = next(todo, None)
            if n is None:
                return
            parent = parents[n]
            if parent is not None:
                acked[parent].wait()
            if failures:
                return
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
                    smtp.sendmail(mails[n][0], [MAILBOX], mails[n][1])
            except BaseException as exc:
                failures.append(exc)
                for event in acked:  # nobody waits for a reply that will not come
                    event.set()
                return
            acked[n].set()

    run_senders(sender, concurrency, failures)


def sender_process(
    conn: Connection,
    port: int,
    maildir: str,
    keys: list[str],
    parents: list[int | None],
    concurrency: int,
) -> None:
    """The sending servers' side: read the files, say ready, wait for go, send."""
    box = mailbox.Maildir(maildir, create=False)
    mails = []
    for key in keys:
        raw = box.get_bytes(key)
        mails.append((_sender_of(raw), wire(raw)))
    conn.send("ready")
    conn.recv()
    started = time.perf_counter()
    try:
        send_in_order(port, mails, parents, concurrency)
    except BaseException as exc:
        conn.send(("failed", repr(exc)))
        raise
    conn.send(("done", time.perf_counter() - started))


def _sender_of(raw: bytes) -> str:
    head = raw.split(b"\n\n", 1)[0].decode("ascii", "replace")
    for line in head.splitlines():
        if line.lower().startswith("return-path:"):
            return parseaddr(line.split(":", 1)[1])[1]
    raise ValueError("a corpus message without Return-Path")


# ---------------------------------------------------------------- OpenCX's side


@dataclass(frozen=True, slots=True)
class CpuUse:
    """CPU seconds of the server's event loop (its main thread), its other threads
    (the database driver's among them) and its child processes (the parsing pool)."""

    loop: float
    threads: float
    children: float

    def __sub__(self, other: CpuUse) -> CpuUse:
        return CpuUse(
            self.loop - other.loop, self.threads - other.threads, self.children - other.children
        )

    @property
    def total(self) -> float:
        return self.loop + self.threads + self.children

    def per_message_ms(self, messages: int) -> dict[str, float]:
        return {
            name: round(1000 * value / messages, 1)
            for name, value in (
                ("loop", self.loop),
                ("threads", self.threads),
                ("pool", self.children),
            )
        }


def cpu_use(*, leaving_out: int | None = None) -> CpuUse:
    """CPU time used so far by this process and its descendants, leaving out the
    process ``leaving_out`` and its own (the senders); Linux only."""
    used = {pid: seconds for pid, (_, seconds) in _stats(Path("/proc"), "[0-9]*").items()}
    parent_of = {pid: parent for pid, (parent, _) in _stats(Path("/proc"), "[0-9]*").items()}
    me = os.getpid()
    ours = {me}
    grew = True
    while grew:
        found = {pid for pid, parent in parent_of.items() if parent in ours and pid != leaving_out}
        grew = not found <= ours
        ours |= found
    threads = _stats(Path(f"/proc/{me}/task"), "[0-9]*")
    loop = threads[me][1]
    return CpuUse(
        loop=loop,
        threads=sum(seconds for _, seconds in threads.values()) - loop,
        children=sum(used.get(pid, 0.0) for pid in ours - {me}),
    )


def _stats(folder: Path, pattern: str) -> dict[int, tuple[int, float]]:
    """Each process (or thread) under ``folder``: its parent and CPU seconds so far."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for stat in folder.glob(f"{pattern}/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        found[int(stat.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return found


async def by_smtp(
    running: Running, corpus: Corpus, maildir: Path, keys: list[str], concurrency: int
) -> Taken:
    mp = multiprocessing.get_context("spawn")
    ours, theirs = mp.Pipe()
    args = (theirs, running.smtp_port, str(maildir), keys, _parents(corpus), concurrency)
    process = mp.Process(target=sender_process, args=args)
    process.start()
    try:
        assert await asyncio.to_thread(ours.recv) == "ready"
        await _parsers_started(running.server_ctx)
        cpu = cpu_use(leaving_out=process.pid)
        sql = StatementCounter(running.server_ctx)
        started = time.perf_counter()
        ours.send("go")
        outcome, detail = await asyncio.to_thread(ours.recv)
        if outcome != "done":
            raise RuntimeError(f"the SMTP senders failed: {detail}")
        acked = float(detail)  # seconds until the senders had their last 250
        tasks = await _all_routed(running)
        elapsed = time.perf_counter() - started
        cpu = cpu_use(leaving_out=process.pid) - cpu
        counted = sql.close()
    finally:
        await asyncio.to_thread(process.join, 30)
    label = f"OpenCX, SMTP listener ({concurrency} sessions)"
    return await _taken(
        running, corpus, label, elapsed, cpu, tasks=tasks, acked_s=round(acked, 2), **counted
    )


async def by_maildir(
    running: Running, corpus: Corpus, maildir: Path, keys: list[str], concurrency: int
) -> Taken:
    """The files read and taken in, in the server's process, as the IMAP poller does."""
    ctx = running.server_ctx
    async with transaction(ctx) as session:
        account = await find_account(session, provider="smtp", address=MAILBOX)
    assert account is not None
    parents = _parents(corpus)
    stored = [asyncio.Event() for _ in keys]
    todo = iter(range(len(keys)))
    files = maildir / "new"

    async def reader() -> None:
        for n in todo:
            parent = parents[n]
            if parent is not None:
                await stored[parent].wait()
            raw = await asyncio.to_thread((files / keys[n]).read_bytes)
            with arriving(ctx) as arrival:
                item = await parse_received(ctx, raw, recipient=MAILBOX)
                await receive(ctx, item, raw=raw, queue_id=account.queue_id, arrival=arrival)
            stored[n].set()

    await _parsers_started(ctx)
    cpu = cpu_use()
    sql = StatementCounter(ctx)
    started = time.perf_counter()
    await asyncio.gather(*(reader() for _ in range(concurrency)))
    tasks = await _all_routed(running)
    elapsed = time.perf_counter() - started
    cpu = cpu_use() - cpu
    counted = sql.close()
    label = f"OpenCX, maildir files in process ({concurrency} readers)"
    return await _taken(running, corpus, label, elapsed, cpu, tasks=tasks, **counted)


async def _parsers_started(ctx: AppContext) -> None:
    """Wait for the parsing pool's workers, as a server that has been running has them."""
    for _ in range(600):
        parsers = [p for p in ctx.local.values() if isinstance(p, MailParsers)]
        if parsers:
            await parsers[0].warm_up()
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the parsing pool did not start")


class StatementCounter:
    """Counts the SQL statements the server's engine runs, and its commits."""

    def __init__(self, ctx: AppContext) -> None:
        self.engine = ctx.engine.sync_engine
        self.statements = 0
        self.commits = 0
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)

    def _statement(self, *args: Any) -> None:
        self.statements += 1

    def _commit(self, *args: Any) -> None:
        self.commits += 1

    def close(self) -> dict[str, int]:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        return {"statements": self.statements, "commits": self.commits}


async def _all_routed(running: Running) -> int:
    """Wait until the router queued every task the stored messages made; their count."""
    async with transaction(running.server_ctx) as session:
        made = await session.scalar(
            select(func.count())
            .select_from(RoutingTask)
            .where(RoutingTask.channel == Channel.EMAIL)
        )
    tasks = int(made or 0)
    await running.routed.until(Channel.EMAIL, tasks)
    return tasks


async def _taken(
    running: Running, corpus: Corpus, label: str, elapsed: float, cpu: CpuUse, **detail: Any
) -> Taken:
    conversation_of = await _conversations(running.server_ctx)
    missing = [m.message_id for m in corpus.mails if m.message_id not in conversation_of]
    if missing:
        raise RuntimeError(f"{len(missing)} messages were not stored, {missing[0]} first")
    replies = corpus.replies
    threaded = sum(
        1
        for reply, answered in replies.items()
        if conversation_of[reply] == conversation_of[answered]
    )
    detail["conversations"] = len(set(conversation_of.values()))
    detail["cpu_ms"] = cpu.per_message_ms(len(corpus.mails))
    return Taken(label, len(corpus.mails), elapsed, cpu.total, len(replies), threaded, detail)


async def _conversations(ctx: AppContext) -> dict[str, int]:
    """Each stored inbound e-mail's Message-ID and conversation."""
    async with transaction(ctx) as session:
        rows = await session.execute(
            select(Message.provider_message_id, Message.conversation_id).where(
                Message.channel == Channel.EMAIL, Message.direction == Direction.INBOUND
            )
        )
        return {str(mid): cid for mid, cid in rows if mid is not None}


def _parents(corpus: Corpus) -> list[int | None]:
    index = {mail.message_id: n for n, mail in enumerate(corpus.mails)}
    return [None if m.answers is None else index[m.answers] for m in corpus.mails]


# ---------------------------------------------------------------- django-helpdesk's side


def helpdesk_python(venv: Path) -> Path | None:
    """The venv's interpreter with django-helpdesk installed, made on first use; None
    (with the reason printed) where it cannot be installed."""
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import helpdesk"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"installing django-helpdesk into {venv} (once) ...", file=sys.stderr)
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "django-helpdesk"],
            check=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        print(
            f"django-helpdesk comparison skipped: it could not be installed from PyPI ({exc})",
            file=sys.stderr,
        )
        return None
    return python


def by_helpdesk(
    python: Path, corpus: Corpus, maildir: Path, keys: list[str], work: Path, *, wal: bool
) -> Taken:
    """django-helpdesk's ``get_email`` over copies of the maildir's files (it deletes
    each file it took), named in arrival order; on SQLite as Django sets it up, or
    (``wal``) as OpenCX does."""
    work = work / ("helpdesk-wal" if wal else "helpdesk")
    mail_dir = work / "mail"
    mail_dir.mkdir(parents=True)
    for n, key in enumerate(keys):
        shutil.copyfile(maildir / "new" / key, mail_dir / f"{n:06d}.eml")
    replies = work / "replies.json"
    replies.write_text(json.dumps(corpus.replies))
    done = subprocess.run(
        [str(python), str(HELPDESK_SCRIPT), "--mail-dir", str(mail_dir),
         "--work-dir", str(work / "django"), "--replies", str(replies)]
        + (["--wal"] if wal else []),
        capture_output=True,
        text=True,
        timeout=3600,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    refused = (done.stdout + done.stderr).count("Unsupported file extension")
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"django-helpdesk failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    sqlite = "WAL, synchronous=NORMAL" if wal else "Django's SQLite defaults"
    label = f"django-helpdesk {result['version']}, get_email ({sqlite})"
    return Taken(
        label,
        result["files"] - result["left_unread"],
        result["seconds"],
        result["cpu_seconds"],
        result["replies"],
        result["threaded"],
        {
            "tickets": result["tickets"],
            "followups": result["followups"],
            "left_unread": result["left_unread"],
            "attachments_refused": refused,
        },
    )


# ---------------------------------------------------------------- the run


async def corpus_main(
    *,
    count: int,
    seed: int,
    concurrency: int,
    paths: set[str],
    database_url: str | None,
    work: Path,
    helpdesk_venv: Path,
) -> list[Taken]:
    corpus = make_corpus(count, seed=seed, mailbox=MAILBOX)
    maildir = work / "maildir"
    keys = corpus.write_maildir(maildir)
    taken: list[Taken] = []
    for path, run in (("smtp", by_smtp), ("maildir", by_maildir)):
        if path not in paths:
            continue
        url = database_url or f"sqlite+aiosqlite:///{work / f'{path}.db'}"
        async with serving(url) as running:
            taken.append(await run(running, corpus, maildir, keys, concurrency))
        await running.ctx.engine.dispose()
    python = (
        await asyncio.to_thread(helpdesk_python, helpdesk_venv) if "helpdesk" in paths else None
    )
    if python is not None:
        for wal in (False, True):
            taken.append(
                await asyncio.to_thread(by_helpdesk, python, corpus, maildir, keys, work, wal=wal)
            )
    return taken


def report(taken: list[Taken], *, concurrency: int) -> dict[str, Any]:
    """Print the table; the figures as one dict."""
    width = max(len(t.label) for t in taken)
    print(f"{'':<{width}}  messages  seconds  messages/s  CPU ms/message  replies threaded")
    for t in taken:
        print(
            f"{t.label:<{width}}  {t.messages:>8}  {t.seconds:>7.2f}  {t.per_s:>10.1f}"
            f"  {1000 * t.cpu_seconds / t.messages:>14.1f}"
            f"  {t.threaded:>7} / {t.replies:<6}  {t.detail}"
        )
    figures: dict[str, Any] = {"messages": taken[0].messages, "concurrency": concurrency}
    keys = {
        "OpenCX, SMTP": "smtp",
        "OpenCX, maildir": "maildir",
        "django-helpdesk": "helpdesk",
    }
    by_key = {
        key + ("_wal" if "WAL" in t.label else ""): t
        for t in taken
        for prefix, key in keys.items()
        if t.label.startswith(prefix)
    }
    for key, t in by_key.items():
        figures[f"{key}_per_s"] = round(t.per_s, 1)
        figures[f"{key}_cpu_ms_per_message"] = round(1000 * t.cpu_seconds / t.messages, 1)
        figures[f"{key}_threaded"] = f"{t.threaded}/{t.replies}"
    for theirs in ("helpdesk", "helpdesk_wal"):
        if theirs not in by_key:
            continue
        base = by_key[theirs].per_s
        for ours in ("smtp", "maildir"):
            if ours in by_key:
                ratio = by_key[ours].per_s / base
                figures[f"{ours}_vs_{theirs}"] = round(ratio, 2)
                print(f"OpenCX {ours} / {by_key[theirs].label}: {ratio:.2f}x")
    return figures
