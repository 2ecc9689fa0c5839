"""Inbound messages per second, from receipt to routed task, beside the raw rate of
inserting the same rows into the same database.

Paths, each with ``--messages`` distinct messages from as many customers:
- smtp: real SMTP sessions (smtplib) to the server's SMTP listener, one message each,
  answered 250 only after the commit;
- webhook: signed Meta (WhatsApp) deliveries posted over HTTP to ``/webhooks/meta``;
- raw: the same rows (customer, identity, conversation, interaction, message, task)
  inserted with plain SQLAlchemy, one transaction per message, nothing else.

The server runs in this process (uvicorn on a free port), on a fresh SQLite file unless
``--database-url`` names an empty PostgreSQL database. Prints a table, then one JSON
line with ``smtp_per_s``, ``webhook_per_s``, ``raw_per_s`` and the ratios.

    python bench/ingest.py [--messages 300] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import smtplib
import socket
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import httpx
import uvicorn
from pydantic import SecretStr

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
from opencx.core.permissions import Principal
from opencx.db import migrate
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
from opencx.runtime import build_app, build_context
from opencx.settings import DatabaseSettings, MetaSettings, Settings, SmtpSettings

SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "106540352242922"


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


def smtp_path(port: int, count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        message = EmailMessage()
        message["From"] = f"customer{n}@example.org"
        message["To"] = "support@example.com"
        message["Subject"] = f"Order {n}"
        message["Message-ID"] = f"<bench.{n}@example.org>"
        message.set_content("Where is my order?")
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.send_message(message)
    return count / (time.perf_counter() - started)


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


async def webhook_path(url: str, count: int) -> float:
    bodies = [whatsapp_body(n) for n in range(count)]
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        started = time.perf_counter()
        for body in bodies:
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
        return count / (time.perf_counter() - started)


async def raw_path(ctx: AppContext, count: int) -> float:
    """The rows one inbound message makes, with none of the logic around them."""
    started = time.perf_counter()
    for n in range(count):
        now = datetime.now(UTC)
        async with transaction(ctx) as session:
            customer = Customer(display_name=f"R{n}", attributes={}, created_at=now, updated_at=now)
            session.add(customer)
            await session.flush()
            session.add(
                CustomerIdentity(
                    customer_id=customer.id, kind=IdentityKind.EMAIL, value=f"raw{n}@example.org"
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
            session.add(
                Message(
                    conversation_id=conversation.id,
                    interaction_id=interaction.id,
                    channel=Channel.EMAIL,
                    direction=Direction.INBOUND,
                    author_kind=AuthorKind.CUSTOMER,
                    body_text="Where is my order?",
                    provider_message_id=f"raw.{n}@example.org",
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
    return count / (time.perf_counter() - started)


async def main(count: int, url: str) -> dict[str, float | str | int]:
    smtp_port = free_port()
    http_port = free_port()
    settings = Settings(
        env="test",
        database=DatabaseSettings(url=url),
        smtp=SmtpSettings(port=smtp_port),
        meta=MetaSettings(app_secret=SecretStr(SECRET)),
        _env_file=None,  # type: ignore[call-arg]
    )
    await asyncio.to_thread(migrate.upgrade, settings.database)
    ctx = build_context(settings)
    await setup(ctx)
    server = uvicorn.Server(
        uvicorn.Config(build_app(settings), host="127.0.0.1", port=http_port, log_level="error")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.05)
    try:
        smtp = await asyncio.to_thread(smtp_path, smtp_port, count)
        webhook = await webhook_path(f"http://127.0.0.1:{http_port}", count)
    finally:
        server.should_exit = True
        await serving
    raw = await raw_path(ctx, count)
    await ctx.engine.dispose()
    return {
        "database": url.split(":", 1)[0],
        "messages": count,
        "smtp_per_s": round(smtp, 1),
        "webhook_per_s": round(webhook, 1),
        "raw_per_s": round(raw, 1),
        "smtp_vs_raw": round(smtp / raw, 2),
        "webhook_vs_raw": round(webhook / raw, 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'ingest.db'}"
        figures = asyncio.run(main(args.messages, url))
    width = max(len(key) for key in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))
