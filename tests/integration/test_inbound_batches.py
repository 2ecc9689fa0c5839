"""Messages that arrive together are committed together, and end up exactly as if
they had arrived one by one; a message that cannot be stored fails alone. Both go
through one implementation: a batch of many, or of one."""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from opencx.core.enums import Channel, IdentityKind, Role
from opencx.core.permissions import Principal
from opencx.db.models import AuditEntry, Conversation, Event, Interaction, Message, RoutingTask
from opencx.features.contacts import intake as inbound
from opencx.features.contacts.intake import Received, arriving, prepare, receive
from opencx.features.contacts.store import store
from opencx.features.context import AppContext, transaction
from opencx.features.customers.identities import add_identity
from opencx.features.customers.schemas import IdentityIn
from opencx.features.directory.queues import QueueCreate, create_queue
from opencx.features.events.record import batched
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.providers.base import InboundAttachment, InboundMessage, Sender
from opencx.runtime import build_context
from opencx.settings import DatabaseSettings, Settings, StorageSettings
from opencx.testing import InMemoryBlobStore, RecordingJobQueue, RecordingPublisher
from opencx.testing.databases import PostgresTemplate, SqliteTemplate
from opencx.testing.fakes import FakeClock

pytestmark = pytest.mark.timeout(60)


KNOWN_PHONE = "+33612345678"


def message(
    n: int, sender: str, kind: IdentityKind = IdentityKind.EMAIL, **fields: Any
) -> InboundMessage:
    values: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "provider": "smtp",
        "provider_message_id": f"m{n}@example.com",
        "sender": Sender(kind, sender, sender.split("@")[0].title()),
        "recipient": "support@example.com",
        "text": f"Message {n}",
        "subject": f"Subject {n}",
    }
    values.update(fields)
    return InboundMessage(**values)


@pytest.fixture
async def other_ctx(
    db_template: SqliteTemplate | PostgresTemplate, tmp_path: Path
) -> AsyncIterator[AppContext]:
    """A second, independent database, to store the same messages one by one."""
    settings = Settings(
        env="test",
        database=DatabaseSettings(url=db_template.fresh()),
        storage=StorageSettings(path=tmp_path / "other"),
        _env_file=None,  # type: ignore[call-arg]
    )
    context = build_context(settings)
    context.clock = FakeClock()
    context.publisher = RecordingPublisher()
    context.jobs = RecordingJobQueue()
    context.blobs = InMemoryBlobStore()
    yield context
    await context.engine.dispose()


async def setup(ctx: AppContext) -> int:
    """A queue, and a customer who already wrote once (message 0) and is known by a
    phone number too."""
    root = await create_user_as_system(ctx, UserCreate(email="root@example.com", role=Role.ADMIN))
    admin = Principal(user_id=root.id, role=Role.ADMIN)
    queue = await create_queue(ctx, admin, QueueCreate(name="Mail", channel=Channel.EMAIL))
    known = await receive(ctx, message(0, "known@example.com"), queue_id=queue.id)
    await add_identity(
        ctx, admin, known.customer_id, IdentityIn(kind=IdentityKind.PHONE, value=KNOWN_PHONE)
    )
    return queue.id


def arrivals() -> list[tuple[InboundMessage, bytes | None]]:
    """First contacts, a known customer, a newcomer answering an earlier message, an
    auto-reply, a damaged sender, a repeated delivery, and a Reply-To to confirm."""
    return [
        (message(1, "ada@example.com"), b"From: ada@example.com\r\n\r\nMessage 1"),
        (message(2, "grace@example.com"), None),
        (message(3, "known@example.com"), None),
        (message(4, "colleague@example.com", thread_refs=("m0@example.com",)), None),
        (message(5, "bot@example.com", flags=frozenset({"auto_submitted"})), None),
        (message(6, "not an address"), None),
        (message(0, "known@example.com"), None),
        (message(7, "linus@example.com", channel=Channel.SMS, provider="twilio"), None),
        # The known customer again, from their phone, as their e-mail (3) arrives: the
        # text joins the conversation that e-mail starts, as it would a moment later.
        (
            message(9, KNOWN_PHONE, IdentityKind.PHONE, channel=Channel.SMS, provider="twilio"),
            None,
        ),
        # A first contact naming a Reply-To: recorded as an address to confirm.
        (message(8, "hedy@example.com", metadata={"reply_to": ("h@example.net",)}), None),
    ]


async def story(ctx: AppContext, received: list[Received]) -> dict[str, Any]:
    """What a user can see of the outcome, without ids."""
    customers: dict[int, int] = {}
    conversations: dict[int, int] = {}
    outcomes = [
        (
            customers.setdefault(r.customer_id, len(customers)),
            conversations.setdefault(r.conversation_id, len(conversations)),
            r.interaction_id is not None,
            r.task_id is not None,
            r.duplicate,
        )
        for r in received
    ]
    async with transaction(ctx) as session:
        events = Counter(
            (row.type, row.entity_kind) for row in await session.scalars(select(Event))
        )
        audit = Counter(row.action for row in await session.scalars(select(AuditEntry)))
        rows = {
            "conversations": sorted(
                (c.subject, c.status.value, c.queue_id is not None)
                for c in await session.scalars(select(Conversation))
            ),
            "interactions": sorted(
                (i.channel.value, i.state.value, i.queue_id is not None)
                for i in await session.scalars(select(Interaction))
            ),
            "tasks": sorted(
                (
                    t.status,
                    t.requested_queue_id is not None,
                    sorted((k, str(v)) for k, v in t.attributes.items() if not k.endswith("_id")),
                )
                for t in await session.scalars(select(RoutingTask))
            ),
            "messages": sorted(
                (m.provider_message_id, m.body_text, sorted(m.metadata_.items()))
                for m in await session.scalars(select(Message))
            ),
        }
    return {"outcomes": outcomes, "events": events, "audit": audit, **rows}


async def test_messages_arriving_together_end_up_as_if_they_came_one_by_one(
    ctx: AppContext, other_ctx: AppContext
) -> None:
    queue_id = await setup(ctx)
    assert await setup(other_ctx) == queue_id
    together = await asyncio.gather(
        *(receive(ctx, item, raw=raw, queue_id=queue_id) for item, raw in arrivals())
    )
    one_by_one = [
        await receive(other_ctx, item, raw=raw, queue_id=queue_id) for item, raw in arrivals()
    ]
    assert await story(ctx, together) == await story(other_ctx, one_by_one)
    assert [r.duplicate for r in together] == [False] * 6 + [True, False, False, False]
    assert together[3].conversation_id == together[6].conversation_id  # the newcomer's reply


async def test_one_batch_of_many_stores_as_batches_of_one_do(
    ctx: AppContext, other_ctx: AppContext
) -> None:
    """The set-wise store itself, with every arrival (but the repeated delivery, of a
    sender already in the batch) in one batch, against the same arrivals one by one."""
    queue_id = await setup(ctx)
    assert await setup(other_ctx) == queue_id
    items = [
        (item, raw) for item, raw in arrivals() if item.provider_message_id != "m0@example.com"
    ]
    prepared = [await prepare(ctx, item, raw=raw, queue_id=queue_id) for item, raw in items]
    async with transaction(ctx) as session, batched(session, ctx):
        together = await store(session, ctx, prepared)
    one_by_one = []
    for item, raw in items:
        incoming = await prepare(other_ctx, item, raw=raw, queue_id=queue_id)
        async with transaction(other_ctx) as session, batched(session, other_ctx):
            one_by_one += await store(session, other_ctx, [incoming])
    assert await story(ctx, together) == await story(other_ctx, one_by_one)
    texted = next(
        n
        for n, (item, _) in enumerate(items)
        if item.channel is Channel.SMS and item.sender.kind is IdentityKind.PHONE
    )
    assert together[texted].conversation_id == together[2].conversation_id  # a second round


async def test_first_contacts_arriving_together_share_one_transaction(ctx: AppContext) -> None:
    transactions = 0

    def count(*_: object) -> None:
        nonlocal transactions
        transactions += 1

    event.listen(ctx.engine.sync_engine, "begin", count)
    received = await asyncio.gather(
        *(receive(ctx, message(n, f"customer{n}@example.com")) for n in range(20))
    )
    assert transactions == 1
    assert len({r.customer_id for r in received}) == 20
    assert all(r.task_id is not None and not r.duplicate for r in received)


async def test_one_sender_writing_twice_at_once_gets_one_conversation(ctx: AppContext) -> None:
    # The same matter (one subject): a new subject would be a conversation of its own.
    first, second = await asyncio.gather(
        receive(ctx, message(1, "ada@example.com", subject="Parcel")),
        receive(ctx, message(2, "ada@example.com", subject="Re: Parcel")),
    )
    assert first.customer_id == second.customer_id
    assert first.conversation_id == second.conversation_id
    assert first.interaction_id == second.interaction_id
    assert first.task_id is not None
    assert second.task_id is None


async def test_a_message_that_cannot_be_stored_fails_alone(ctx: AppContext) -> None:
    missing_queue = 999_999  # the conversation's foreign key refuses it
    outcomes = await asyncio.gather(
        receive(ctx, message(1, "ada@example.com")),
        receive(ctx, message(2, "grace@example.com"), queue_id=missing_queue),
        receive(ctx, message(3, "linus@example.com")),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], IntegrityError)
    stored = [o for o in outcomes if isinstance(o, Received)]
    assert len(stored) == 2
    async with transaction(ctx) as session:
        ids = set(await session.scalars(select(Message.provider_message_id)))
    assert ids == {"m1@example.com", "m3@example.com"}


async def test_a_caller_that_stops_waiting_does_not_lose_its_message(ctx: AppContext) -> None:
    waiting = asyncio.ensure_future(receive(ctx, message(1, "ada@example.com")))
    await asyncio.sleep(0)
    waiting.cancel()
    again = await receive(ctx, message(1, "ada@example.com"))
    assert again.duplicate


async def test_a_failure_nobody_waits_for_is_logged_not_left_unretrieved(
    ctx: AppContext,
) -> None:
    unretrieved: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: unretrieved.append(context))
    try:
        gone = asyncio.ensure_future(receive(ctx, message(1, "ada@example.com"), queue_id=999_999))
        await asyncio.sleep(0)
        gone.cancel()
        await receive(ctx, message(2, "grace@example.com"))  # the next batch: the first is done
        del gone
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert unretrieved == []
    async with transaction(ctx) as session:
        ids = set(await session.scalars(select(Message.provider_message_id)))
    assert ids == {"m2@example.com"}


async def test_an_answer_to_a_message_of_the_same_moment_joins_its_conversation(
    ctx: AppContext,
) -> None:
    first, answer = await asyncio.gather(
        receive(ctx, message(1, "ada@example.com")),
        receive(ctx, message(2, "grace@example.com", thread_refs=("m1@example.com",))),
    )
    assert answer.conversation_id == first.conversation_id
    assert answer.customer_id != first.customer_id


class GatedBlobStore(InMemoryBlobStore):
    """Keeps the files named ``slow`` until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def put(self, data: bytes, *, content_type: str) -> str:
        if data == b"slow":
            await self.gate.wait()
        return await super().put(data, content_type=content_type)


async def test_a_message_still_being_prepared_joins_the_batch_of_one_waiting(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first message is ready while the second's file is still going to the blob
    store: the writer waits for it, and both are committed in one transaction."""
    monkeypatch.setattr(inbound, "GATHER", 30.0)  # bounded by the gate, not the clock
    blobs = ctx.blobs = GatedBlobStore()
    slow = InboundAttachment("slow.txt", "text/plain", data=b"slow")
    commits = 0

    def counted(*_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(ctx.engine.sync_engine, "commit", counted)
    try:
        first = asyncio.ensure_future(receive(ctx, message(1, "ada@example.com")))
        second = asyncio.ensure_future(
            receive(ctx, message(2, "grace@example.com", attachments=(slow,)))
        )
        for _ in range(5):
            await asyncio.sleep(0)
        assert not first.done()  # waiting for the second
        blobs.gate.set()
        await asyncio.gather(first, second)
    finally:
        event.remove(ctx.engine.sync_engine, "commit", counted)
    assert commits == 1


async def test_a_message_still_being_parsed_joins_the_batch_of_one_waiting(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An e-mail counted as arriving while it is parsed: the message ready before it
    waits for it, and both are committed in one transaction."""
    monkeypatch.setattr(inbound, "GATHER", 30.0)  # bounded by the arrival, not the clock
    commits = 0

    def counted(*_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(ctx.engine.sync_engine, "commit", counted)
    try:
        with arriving(ctx) as arrival:
            first = asyncio.ensure_future(receive(ctx, message(1, "ada@example.com")))
            for _ in range(5):
                await asyncio.sleep(0)
            assert not first.done()  # waiting for the one being parsed
            await receive(ctx, message(2, "grace@example.com"), arrival=arrival)
        await first
    finally:
        event.remove(ctx.engine.sync_engine, "commit", counted)
    assert commits == 1


async def test_a_message_given_up_while_parsed_is_not_waited_for(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbound, "GATHER", 30.0)
    with arriving(ctx):
        first = asyncio.ensure_future(receive(ctx, message(1, "ada@example.com")))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not first.done()
    assert not (await first).duplicate  # stored once the arrival ended


async def statements_of(ctx: AppContext, items: list[InboundMessage]) -> int:
    """The statements that storing ``items``, arriving together, took."""
    count = 0

    def counted(*_: object) -> None:
        nonlocal count
        count += 1

    event.listen(ctx.engine.sync_engine, "before_cursor_execute", counted)
    try:
        await asyncio.gather(*(receive(ctx, item) for item in items))
    finally:
        event.remove(ctx.engine.sync_engine, "before_cursor_execute", counted)
    return count


async def test_a_batch_costs_the_statements_of_one_message_whatever_its_size(
    ctx: AppContext,
) -> None:
    await setup(ctx)
    one = await statements_of(ctx, [message(1, "customer1@example.com")])
    many = await statements_of(ctx, [message(n, f"customer{n}@example.com") for n in range(2, 22)])
    assert many == one
    # The same customers writing again: threaded, their live interactions joined.
    again = await statements_of(ctx, [message(100, "customer1@example.com", subject="Subject 1")])
    many_again = await statements_of(
        ctx,
        [
            message(100 + n, f"customer{n}@example.com", subject=f"Subject {n}")
            for n in range(2, 22)
        ],
    )
    assert many_again == again
    async with transaction(ctx) as session:
        conversations = await session.scalars(select(Conversation.id))
        assert len(list(conversations)) == 22  # the known customer's and one each
