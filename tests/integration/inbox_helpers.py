"""What the inbox tests build through the API: customers, conversations, messages, and
reading an inbox view back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from opencx.features.context import AppContext
from tests.conftest import Caller
from tests.integration.test_routing_api import call

__all__ = [
    "call",
    "conversation",
    "customer",
    "inbox",
    "inbox_ids",
    "statements",
    "write",
]


async def customer(
    client: httpx.AsyncClient, admin: Caller, name: str, *identities: tuple[str, str]
) -> int:
    body = {
        "display_name": name,
        "identities": [{"kind": kind, "value": value} for kind, value in identities],
    }
    made = await call(client, admin, "POST", "/customers", body, expect=201)
    return int(made["id"])


async def conversation(
    client: httpx.AsyncClient, admin: Caller, customer_id: int, **fields: Any
) -> int:
    body = {"customer_id": customer_id, **fields}
    made = await call(client, admin, "POST", "/conversations", body, expect=201)
    return int(made["id"])


async def write(
    client: httpx.AsyncClient,
    caller: Caller,
    conversation_id: int,
    text: str,
    *,
    author: str = "customer",
    channel: str = "email",
    html: str | None = None,
) -> dict[str, Any]:
    """A message: the customer's (inbound, written by an integration: an admin), or an
    agent's answer (outbound, not sent anywhere on chat)."""
    body: dict[str, Any] = {
        "body_text": text,
        "channel": channel,
        "direction": "inbound" if author == "customer" else "outbound",
        "author_kind": author,
    }
    if html is not None:
        body["body_html"] = html
    path = f"/conversations/{conversation_id}/messages"
    made: dict[str, Any] = await call(client, caller, "POST", path, body, expect=201)
    return made


async def inbox(client: httpx.AsyncClient, caller: Caller, **params: Any) -> list[dict[str, Any]]:
    """Every line of an inbox view, page after page."""
    lines: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = await call(client, caller, "GET", "/inbox", params=query)
        lines.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return lines


async def inbox_ids(client: httpx.AsyncClient, caller: Caller, **params: Any) -> list[int]:
    return [line["conversation_id"] for line in await inbox(client, caller, **params)]


@contextmanager
def statements(ctx: AppContext) -> Iterator[list[str]]:
    """The SQL statements run on ``ctx``'s engine inside the block."""
    seen: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(ctx.engine.sync_engine, "before_cursor_execute", counted)
    try:
        yield seen
    finally:
        event.remove(ctx.engine.sync_engine, "before_cursor_execute", counted)
