"""Inbound messages per second, from receipt to routed task, beside the raw rate of
inserting the same rows into the same database.

Paths, each with ``--messages`` distinct messages from as many new customers:
- smtp: real SMTP sessions (smtplib) to the server's SMTP listener, one message each,
  answered 250 only after the commit;
- webhook: signed Meta (WhatsApp) deliveries posted over HTTP to ``/webhooks/meta``;
- chat: web chats as the widget makes them: the pre-chat form posted to
  ``/chat/widgets/<key>/chats`` (its intent is the chat's first message), then the
  visitor's WebSocket opened and one message sent on it, answered by its ``ack``;
- raw: the same rows (customer, identity, conversation, interaction, message, task)
  inserted with plain SQLAlchemy, one transaction per message, nothing else; for the
  chat path, with the second message too (``raw_chat``).

The server runs in this process as ``opencx serve`` runs it (uvicorn on uvloop, with the
router, the SMTP listener and the job runner in the background), on a fresh SQLite file
unless ``--database-url`` names an empty PostgreSQL database. The senders run in a
second process, as a provider is another machine: ``--concurrency`` SMTP connections,
or webhook posts in flight, at a time. A path's clock starts when the sender is told to
go and stops when the router has committed the last message's task into its queue
(``interaction.state_changed`` to ``queued`` published after its commit; with no agent
logged in, queuing is as far as routing goes); before that, one SMTP session and one
HTTP request that store nothing warm the server up. The raw rows are inserted
afterwards, in this process with the server stopped, by as many concurrent writers,
three times over: the raw rate is the median of the three.

Prints a table, then one JSON line with the concurrency, ``smtp_per_s``,
``webhook_per_s``, ``chat_per_s`` (chats, of two messages each), ``raw_per_s``,
``raw_chat_per_s``, the ratios, and the rates at which the senders had their answers
(``*_acked_per_s``).

    python bench/ingest.py [--messages 300] [--concurrency 4] [--database-url URL]
                           [--paths smtp,webhook,chat]

With ``--corpus``, the same server takes a corpus of real-looking mail instead, over
SMTP and from a maildir, beside django-helpdesk taking the same files
(``ingest_corpus.py`` says how):

    python bench/ingest.py --corpus [--messages 500] [--concurrency 4] [--seed 0]
                           [--paths smtp,maildir,helpdesk]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import smtplib
import socket
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import uvloop
import websockets
from pydantic import SecretStr
from sqlalchemy import func, select

from opencx.core.enums import (
    AuthorKind,
    Channel,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    IdentityKind,
    InteractionState,
    Role,
)
from opencx.core.events import EventType
from opencx.core.permissions import Principal
from opencx.db.models import (
    Conversation,
    Customer,
    CustomerIdentity,
    Interaction,
    Message,
    RoutingTask,
)
from opencx.features.context import AppContext, transaction
from opencx.features.directory.channel_accounts import ChannelAccountCreate, create_account
from opencx.features.directory.queues import QueueCreate, create_queue
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.realtime.bus import InProcessBus, Subscription
from opencx.runtime import build_app, build_context, upgrade_database
from opencx.settings import (
    DatabaseSettings,
    LimitsSettings,
    MetaSettings,
    Settings,
    SmtpSettings,
)

SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "106540352242922"
WIDGET = "bench-widget"
ROUTED_TIMEOUT_SECONDS = 120.0
RAW_RUNS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def setup(ctx: AppContext) -> None:
    root = await create_user_as_system(ctx, UserCreate(email="root@example.com", role=Role.ADMIN))
    admin = Principal(user_id=root.id, role=Role.ADMIN)
    for channel, provider, address in (
        (Channel.EMAIL, "smtp", "support@example.com"),
        (Channel.WHATSAPP, "meta", PHONE_NUMBER_ID),
        (Channel.CHAT, "widget", WIDGET),
    ):
        queue = await create_queue(ctx, admin, QueueCreate(name=f"{channel}", channel=channel))
        await create_account(
            ctx,
            admin,
            ChannelAccountCreate(
                channel=channel,
                provider=provider,
                address=address,
                name=str(channel),
                queue_id=queue.id,
            ),
        )


# ---------------------------------------------------------------- the senders' process


def email_bytes(n: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"customer{n}@example.org"
    message["To"] = "support@example.com"
    message["Subject"] = f"Order {n}"
    message["Message-ID"] = f"<bench.{n}@example.org>"
    message.set_content("Where is my order?")
    return message.as_bytes()


def whatsapp_body(n: int) -> bytes:
    wa_id = f"3361{n:07d}"
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": f"C{n}"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.bench{n}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": "Bonjour, où est ma commande ?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


def send_smtp(port: int, emails: list[tuple[str, bytes]], concurrency: int) -> None:
    """One SMTP session per message, ``concurrency`` sessions at a time."""
    todo = iter(emails)
    lock = threading.Lock()
    failures: list[BaseException] = []

    def sender() -> None:
        while True:
            with lock:
                item = next(todo, None)
            if item is None:
                return
            sender_address, data = item
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
                    smtp.sendmail(sender_address, ["support@example.com"], data)
            except BaseException as exc:
                failures.append(exc)
                return

    run_senders(sender, concurrency, failures)


async def send_webhooks(port: int, bodies: list[bytes], concurrency: int) -> None:
    """Signed deliveries, ``concurrency`` posts in flight at a time."""
    todo = iter(bodies)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits
    ) as http:

        async def sender() -> None:
            for body in todo:
                digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                response = await http.post(
                    "/webhooks/meta",
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": f"sha256={digest}",
                    },
                )
                response.raise_for_status()

        await asyncio.gather(*(sender() for _ in range(concurrency)))


async def chat(http: httpx.AsyncClient, ws_base: str, n: int) -> None:
    """One visitor: the pre-chat form, then one message on the chat's WebSocket."""
    form = {"name": f"Visitor {n}", "email": f"visitor{n}@example.org", "intent": "My order"}
    started = await http.post(f"/chat/widgets/{WIDGET}/chats", json=form)
    started.raise_for_status()
    token = started.json()["token"]
    async with websockets.connect(f"{ws_base}/chat/ws?token={token}") as socket:
        await socket.recv()  # the snapshot
        await socket.send(json.dumps({"type": "message", "text": "Where is it?", "client_id": "1"}))
        while json.loads(await socket.recv()).get("type") != "ack":
            pass


async def send_chats(port: int, count: int, concurrency: int) -> None:
    """``concurrency`` visitors chatting at a time."""
    todo = iter(range(count))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits
    ) as http:

        async def visitor() -> None:
            for n in todo:
                await chat(http, f"ws://127.0.0.1:{port}", n)

        await asyncio.gather(*(visitor() for _ in range(concurrency)))


def sender_process(conn: Connection, path: str, port: int, count: int, concurrency: int) -> None:
    """The provider's side: prepare, say ready, wait for go, send, report the time."""
    if path == "smtp":
        emails = [(f"customer{n}@example.org", email_bytes(n)) for n in range(count)]
        send: Callable[[], None] = lambda: send_smtp(port, emails, concurrency)  # noqa: E731
    elif path == "chat":
        send = lambda: asyncio.run(send_chats(port, count, concurrency))  # noqa: E731
    else:
        bodies = [whatsapp_body(n) for n in range(count)]
        send = lambda: asyncio.run(send_webhooks(port, bodies, concurrency))  # noqa: E731
    conn.send("ready")
    conn.recv()
    started = time.perf_counter()
    try:
        send()
    except BaseException as exc:
        conn.send(("failed", repr(exc)))
        raise
    conn.send(("done", time.perf_counter() - started))


# ---------------------------------------------------------------- the server's side


class RoutedCounter:
    """Counts interactions the router queued, per channel, from the published events."""

    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus
        self.queue: Subscription = bus.subscribe()
        self.counts: Counter[str] = Counter()
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self._count())

    async def _count(self) -> None:
        while True:
            event = await self.queue.get()
            if event is None:
                raise RuntimeError("the bench fell behind the event bus")
            if (
                event.type is EventType.INTERACTION_STATE_CHANGED
                and event.payload.get("state") == InteractionState.QUEUED.value
            ):
                self.counts[str(event.payload.get("channel"))] += 1
                self.changed.set()

    async def until(self, channel: Channel, count: int) -> None:
        deadline = asyncio.get_running_loop().time() + ROUTED_TIMEOUT_SECONDS
        while self.counts[channel.value] < count:
            self.changed.clear()
            left = deadline - asyncio.get_running_loop().time()
            await asyncio.wait_for(self.changed.wait(), timeout=max(left, 0.001))

    async def close(self) -> None:
        self.task.cancel()
        self.bus.unsubscribe(self.queue)


async def timed_path(
    path: str,
    port: int,
    count: int,
    concurrency: int,
    routed: RoutedCounter,
    channel: Channel,
) -> tuple[float, float]:
    """``(routed per second, acknowledged per second)`` of one path."""
    mp = multiprocessing.get_context("spawn")
    ours, theirs = mp.Pipe()
    process = mp.Process(target=sender_process, args=(theirs, path, port, count, concurrency))
    process.start()
    try:
        assert await asyncio.to_thread(ours.recv) == "ready"
        before = routed.counts[channel.value]
        started = time.perf_counter()
        ours.send("go")
        outcome, detail = await asyncio.to_thread(ours.recv)
        if outcome != "done":
            raise RuntimeError(f"{path} sender failed: {detail}")
        await routed.until(channel, before + count)
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.to_thread(process.join, 30)
    return count / elapsed, count / float(detail)


async def warm_up(smtp_port: int, http_port: int) -> None:
    """One SMTP session and one HTTP request that store nothing, before any clock starts:
    a running server has served before (FastAPI builds its route table on the first
    request, about 0.2 s here)."""

    def smtp_hello() -> None:
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
            smtp.noop()

    await asyncio.to_thread(smtp_hello)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as http:
        await http.get("/webhooks/meta")  # the subscription check, refused: no token set


async def check_routed(ctx: AppContext, channel: Channel, count: int) -> None:
    """Every message of the path has a task the router took in (none left ``new``)."""
    async with transaction(ctx) as session:
        statuses = select(RoutingTask.status, func.count()).where(RoutingTask.channel == channel)
        result = await session.execute(statuses.group_by(RoutingTask.status))
        rows = {row[0]: row[1] for row in result}
    if rows != {"waiting": count}:
        raise RuntimeError(f"{channel} tasks are not all routed: {rows}")


async def raw_rows(ctx: AppContext, n: int, *, messages: int = 1, tag: str = "raw") -> None:
    """The rows one inbound contact of ``messages`` messages makes, with none of the
    logic around them."""
    now = datetime.now(UTC)
    async with transaction(ctx) as session:
        customer = Customer(display_name=f"R{n}", attributes={}, created_at=now, updated_at=now)
        session.add(customer)
        await session.flush()
        session.add(
            CustomerIdentity(
                customer_id=customer.id, kind=IdentityKind.EMAIL, value=f"{tag}{n}@example.org"
            )
        )
        conversation = Conversation(
            customer_id=customer.id,
            subject="Order",
            status=ConversationStatus.OPEN,
            created_at=now,
            updated_at=now,
        )
        session.add(conversation)
        await session.flush()
        interaction = Interaction(
            conversation_id=conversation.id,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            state=InteractionState.CREATED,
            arrived_at=now,
            hold_seconds=0.0,
        )
        session.add(interaction)
        await session.flush()
        for k in range(messages):
            session.add(
                Message(
                    conversation_id=conversation.id,
                    interaction_id=interaction.id,
                    channel=Channel.EMAIL,
                    direction=Direction.INBOUND,
                    author_kind=AuthorKind.CUSTOMER,
                    body_text="Where is my order?",
                    provider_message_id=f"{tag}.{n}.{k}@example.org",
                    delivery_status=DeliveryStatus.RECEIVED,
                    metadata_={},
                    created_at=now,
                )
            )
        session.add(
            RoutingTask(
                interaction_id=interaction.id,
                channel=Channel.EMAIL,
                attributes={},
                created_at=now,
                status="new",
                excluded={},
            )
        )


async def concurrently(
    count: int, concurrency: int, work: Callable[[int], Awaitable[None]]
) -> float:
    """``count`` calls of ``work``, ``concurrency`` at a time; calls per second."""
    todo = iter(range(count))

    async def worker() -> None:
        for n in todo:
            await work(n)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class Running:
    """A server as ``opencx serve`` runs it, and the bench's view of it."""

    ctx: AppContext  # the bench's own context, on the same database
    server_ctx: AppContext  # the server's
    smtp_port: int
    http_port: int
    routed: RoutedCounter


@asynccontextmanager
async def serving(url: str) -> AsyncIterator[Running]:
    """A server on ``url`` (a fresh database), set up and warmed up, until the block
    ends; the bench's context stays open (the caller disposes of its engine)."""
    smtp_port = free_port()
    http_port = free_port()
    settings = Settings(
        env="test",
        database=DatabaseSettings(url=url),
        smtp=SmtpSettings(port=smtp_port),
        meta=MetaSettings(app_secret=SecretStr(SECRET)),
        # Every visitor of the chat path comes from 127.0.0.1, which the chat's limits
        # per visitor would take for one visitor starting hundreds of chats.
        limits=LimitsSettings(chat_starts_per_visitor=1_000_000, chat_messages_per_minute=100_000),
        _env_file=None,  # type: ignore[call-arg]
    )
    await asyncio.to_thread(upgrade_database, settings)  # the job backend's schema too
    ctx = build_context(settings)
    await setup(ctx)
    app = build_app(settings)
    server_ctx: AppContext = app.state.ctx
    assert isinstance(server_ctx.publisher, InProcessBus)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=http_port, log_level="error")
    )
    serve = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.05)
    await warm_up(smtp_port, http_port)
    routed = RoutedCounter(server_ctx.publisher)
    try:
        yield Running(ctx, server_ctx, smtp_port, http_port, routed)
    finally:
        await routed.close()
        server.should_exit = True
        await serve


async def main(count: int, concurrency: int, url: str, paths: set[str]) -> dict[str, Any]:
    rates: dict[str, tuple[float, float]] = {}
    async with serving(url) as running:
        ctx = running.ctx
        for path, port, channel in (
            ("smtp", running.smtp_port, Channel.EMAIL),
            ("webhook", running.http_port, Channel.WHATSAPP),
            ("chat", running.http_port, Channel.CHAT),
        ):
            if path in paths:
                rates[path] = await timed_path(
                    path, port, count, concurrency, running.routed, channel
                )
                await check_routed(running.server_ctx, channel, count)
    # The raw runs are short (a second or less): the median of three steadies them.
    raw = statistics.median(
        [
            await concurrently(count, concurrency, lambda n, r=r: raw_rows(ctx, n, tag=f"raw{r}"))
            for r in range(RAW_RUNS)
        ]
    )
    figures: dict[str, Any] = {
        "database": url.split(":", 1)[0],
        "messages": count,
        "concurrency": concurrency,
    }
    # The chat path's raw rows hold its second message too.
    raws = {"smtp": raw, "webhook": raw}
    if "chat" in rates:
        raws["chat"] = statistics.median(
            [
                await concurrently(
                    count,
                    concurrency,
                    lambda n, r=r: raw_rows(ctx, n, messages=2, tag=f"chat{r}"),
                )
                for r in range(RAW_RUNS)
            ]
        )
    for path, (rate, _) in rates.items():
        figures[f"{path}_per_s"] = round(rate, 1)
    figures["raw_per_s"] = round(raw, 1)
    if "chat" in rates:
        figures["raw_chat_per_s"] = round(raws["chat"], 1)
    for path, (rate, _) in rates.items():
        figures[f"{path}_vs_raw"] = round(rate / raws[path], 2)
    for path, (_, acked) in rates.items():
        figures[f"{path}_acked_per_s"] = round(acked, 1)
    await ctx.engine.dispose()
    return figures


def corpus_mode(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """``--corpus``: see ``ingest_corpus.py``."""
    import ingest_corpus  # here: it imports this module

    paths = {p.strip() for p in (args.paths or "smtp,maildir,helpdesk").split(",") if p.strip()}
    if not paths <= {"smtp", "maildir", "helpdesk"}:
        parser.error("with --corpus, --paths takes smtp, maildir and helpdesk")
    if args.database_url and len(paths & {"smtp", "maildir"}) > 1:
        parser.error("--database-url names one empty database: time smtp or maildir, not both")
    with (
        tempfile.TemporaryDirectory() as tmp,
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        taken = runner.run(
            ingest_corpus.corpus_main(
                count=args.messages or 500,
                seed=args.seed,
                concurrency=args.concurrency,
                paths=paths,
                database_url=args.database_url,
                work=Path(tmp),
                helpdesk_venv=Path(args.helpdesk_venv),
            )
        )
    print(json.dumps(ingest_corpus.report(taken, concurrency=args.concurrency)))


def run_senders(
    sender: Callable[[], None], concurrency: int, failures: list[BaseException]
) -> None:
    """``concurrency`` threads running ``sender`` until it returns; the first failure
    any of them recorded is raised."""
    threads = [threading.Thread(target=sender) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=None, help="300; 500 with --corpus")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--paths",
        default=None,
        help="the paths to time, comma-separated (default: all three; with --corpus: "
        "smtp, maildir and helpdesk)",
    )
    parser.add_argument(
        "--corpus",
        action="store_true",
        help="real-looking mail (see ingest_corpus.py), beside django-helpdesk",
    )
    parser.add_argument("--seed", type=int, default=0, help="the corpus's seed")
    parser.add_argument(
        "--helpdesk-venv",
        default=str(Path.home() / ".cache" / "opencx-bench" / "helpdesk-venv"),
        help="where django-helpdesk is installed (made on first use)",
    )
    args = parser.parse_args()
    if args.corpus:
        corpus_mode(args, parser)
        raise SystemExit
    paths = {p.strip() for p in (args.paths or "smtp,webhook,chat").split(",") if p.strip()}
    if not paths <= {"smtp", "webhook", "chat"}:
        parser.error("--paths takes smtp, webhook and chat")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'ingest.db'}"
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            figures = runner.run(main(args.messages or 300, args.concurrency, url, paths))
    width = max(len(key) for key in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))
