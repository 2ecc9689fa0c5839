"""Storing many received messages in one transaction (the intake's batch): the same
rows, events and audit entries as storing each with ``store_message``, with far fewer
statements.

A batch holds distinct senders and distinct provider ids (the intake makes it so). One
query finds the messages already stored (repeated deliveries), one the unconfirmed
addresses among the senders (each taken back from the customer a Reply-To gave it to),
and one the customers of every sender. A first contact (a sender with no customer,
answering no earlier message, naming no other Reply-To) is stored set-wise: one
statement each for the new customers, their identities, conversations, interactions,
routing tasks, router commands, messages and attachments. Any other message goes
through ``store_message`` as it would alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.channels.base import InboundMessage
from opencx.core.enums import (
    AuthorKind,
    Channel,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    IdentityKind,
    InteractionState,
)
from opencx.core.events import EventType
from opencx.db.models import Attachment, Conversation, Interaction, Message, Queue
from opencx.features.channels.inbound_store import (
    AUTOMATIC,
    Received,
    Route,
    message_metadata,
    queue_of,
    store_message,
    unknown_account_queue,
)
from opencx.features.channels.mail_trust import has_other_reply_to
from opencx.features.context import AppContext
from opencx.features.conversations.access import record_conversation_event
from opencx.features.conversations.attachments import NewFile
from opencx.features.customers.identities import release_unconfirmed
from opencx.features.customers.resolution import (
    FoundCustomer,
    NewIdentity,
    create_customers,
    find_customers,
)
from opencx.features.directory.channel_accounts import account_queue
from opencx.features.eventlog import insert_ids, insert_rows
from opencx.features.routing.tasks import NewTask, insert_first_tasks

__all__ = ["Incoming", "store_batch"]


@dataclass(frozen=True, slots=True)
class Incoming:
    """A received message ready to store: its sender's normalised identity, its files
    (in the blob store, or pending: held by the provider), and where a new conversation
    goes."""

    item: InboundMessage
    kind: IdentityKind
    value: str
    display_name: str | None
    files: tuple[NewFile, ...]
    route: Route

    @property
    def identity_key(self) -> tuple[IdentityKind, str]:
        return (self.kind, self.value)

    @property
    def message_key(self) -> tuple[Channel, str]:
        return (self.item.channel, self.item.provider_message_id)


async def store_batch(
    session: AsyncSession, ctx: AppContext, batch: Sequence[Incoming]
) -> list[Received]:
    """Store every message of ``batch`` (inside ``batched``, in the caller's
    transaction); what became of each, in order."""
    results: dict[int, Received] = await _already_stored(session, batch)
    fresh = [(n, incoming) for n, incoming in enumerate(batch) if n not in results]
    await release_unconfirmed(session, ctx, [incoming.identity_key for _, incoming in fresh])
    known = await find_customers(session, [_identity(incoming) for _, incoming in fresh])
    new = [(n, incoming) for n, incoming in fresh if incoming.identity_key not in known]
    created = await create_customers(session, ctx, [_identity(incoming) for _, incoming in new])
    customers = {
        n: FoundCustomer(known[incoming.identity_key], created=False)
        for n, incoming in fresh
        if incoming.identity_key in known
    }
    customers.update(
        {
            n: FoundCustomer(customer_id, created=True)
            for (n, _), customer_id in zip(new, created, strict=True)
        }
    )
    # A new sender answering an earlier message (a colleague in copy) joins that
    # conversation: only ``store_message`` follows references, and records the Reply-To
    # addresses a message names.
    first = [
        (n, incoming)
        for n, incoming in new
        if not incoming.item.thread_refs and not has_other_reply_to(incoming.item)
    ]
    set_wise = {n for n, _ in first}
    for n, incoming in fresh:
        if n in set_wise:
            continue
        results[n] = await store_message(
            session, ctx, incoming.item, customers[n], incoming.route, list(incoming.files)
        )
    stored = await _first_contacts(
        session, ctx, [(incoming, customers[n]) for n, incoming in first]
    )
    results.update({n: received for (n, _), received in zip(first, stored, strict=True)})
    return [results[n] for n in range(len(batch))]


def _identity(incoming: Incoming) -> NewIdentity:
    return NewIdentity(incoming.kind, incoming.value, incoming.display_name)


#: Messages stored under any of ``channels`` with any of ``ids``: a superset of the
#: (channel, id) pairs asked for, which the caller narrows. Built once: a statement's
#: construction costs more than its execution here.
_STORED = (
    select(
        Message.channel,
        Message.provider_message_id,
        Message.id,
        Message.conversation_id,
        Message.interaction_id,
        Conversation.customer_id,
    )
    .join(Conversation, Conversation.id == Message.conversation_id)
    .where(
        Message.channel.in_(bindparam("channels", expanding=True)),
        Message.provider_message_id.in_(bindparam("ids", expanding=True)),
    )
)


async def _already_stored(session: AsyncSession, batch: Sequence[Incoming]) -> dict[int, Received]:
    """Repeated deliveries: the stored message of each, by position in ``batch``."""
    wanted = {incoming.message_key for incoming in batch}
    rows = await session.execute(
        _STORED,
        {
            "channels": sorted({channel for channel, _ in wanted}),
            "ids": sorted({provider_id for _, provider_id in wanted}),
        },
    )
    stored = {
        (channel, provider_id): Received(
            message_id=message_id,
            conversation_id=conversation_id,
            customer_id=customer_id,
            interaction_id=interaction_id,
            duplicate=True,
        )
        for channel, provider_id, message_id, conversation_id, interaction_id, customer_id in rows
        if (channel, provider_id) in wanted
    }
    return {
        n: stored[incoming.message_key]
        for n, incoming in enumerate(batch)
        if incoming.message_key in stored
    }


async def _first_contacts(
    session: AsyncSession, ctx: AppContext, contacts: Sequence[tuple[Incoming, FoundCustomer]]
) -> list[Received]:
    """New customers' first messages: a new conversation each, and (unless automatic)
    a new interaction handed to routing; as ``store_message`` does for one."""
    if not contacts:
        return []
    now = ctx.clock.now()
    # Each distinct receiving account is looked up once per batch, with its queue's site.
    accounts: dict[tuple[str, str], tuple[int | None, int | None] | None] = {}
    sites: dict[int, int | None] = {}
    queue_ids = []
    for incoming, _ in contacts:
        item, route = incoming.item, incoming.route
        provider, recipient = route.account_provider, item.recipient
        if provider is None or not recipient or route.unknown_account is not None:
            queue_ids.append(await queue_of(session, ctx, item, route))
            continue
        if (provider, recipient) not in accounts:
            found = await account_queue(session, provider=provider, address=recipient)
            accounts[provider, recipient] = found
            if found is not None and found[0] is not None:
                sites[found[0]] = found[1]
        found = accounts[provider, recipient]
        if found is None:
            queue_ids.append(unknown_account_queue(ctx, item, provider))
        else:
            queue_ids.append(found[0])
    sites |= await _sites(session, {q for q in queue_ids if q is not None and q not in sites})
    refs = [
        _Ref(0, sites.get(queue_id) if queue_id is not None else None, queue_id)
        for queue_id in queue_ids
    ]
    conversation_ids = await insert_ids(
        session,
        Conversation,
        [
            {
                "customer_id": customer.customer_id,
                "subject": (incoming.item.subject or "")[:300],
                "status": ConversationStatus.OPEN,
                "queue_id": ref.queue_id,
                "site_id": ref.site_id,
                "priority": 0,
                "created_at": now,
                "updated_at": now,
            }
            for (incoming, customer), ref in zip(contacts, refs, strict=True)
        ],
    )
    refs = [
        _Ref(conversation_id, ref.site_id, ref.queue_id)
        for ref, conversation_id in zip(refs, conversation_ids, strict=True)
    ]
    for (incoming, customer), ref in zip(contacts, refs, strict=True):
        await record_conversation_event(
            session,
            ctx,
            EventType.CONVERSATION_CREATED,
            ref,
            actor_user_id=None,
            payload={"customer_id": customer.customer_id, "channel": incoming.item.channel.value},
        )
    routed = [n for n, (incoming, _) in enumerate(contacts) if not incoming.item.flags & AUTOMATIC]
    interaction_ids = await insert_ids(
        session,
        Interaction,
        [
            {
                "conversation_id": refs[n].id,
                "channel": contacts[n][0].item.channel,
                "direction": Direction.INBOUND,
                "state": InteractionState.CREATED,
                "queue_id": refs[n].queue_id,
                "site_id": refs[n].site_id,
                "arrived_at": now,
                "hold_seconds": 0.0,
            }
            for n in routed
        ],
    )
    interactions: dict[int, int] = dict(zip(routed, interaction_ids, strict=True))
    for n, interaction_id in interactions.items():
        await record_conversation_event(
            session,
            ctx,
            EventType.INTERACTION_CREATED,
            refs[n],
            actor_user_id=None,
            payload={
                "state": InteractionState.CREATED.value,
                "channel": contacts[n][0].item.channel.value,
                "queue_id": refs[n].queue_id,
                "agent_id": None,
                "direction": Direction.INBOUND.value,
            },
            entity_kind="interaction",
            entity_id=interaction_id,
        )
    task_ids = await insert_first_tasks(
        session,
        ctx,
        [
            NewTask(
                interaction_id=interactions[n],
                channel=contacts[n][0].item.channel,
                site_id=refs[n].site_id,
                queue_id=refs[n].queue_id,
                conversation_id=refs[n].id,
                customer_id=contacts[n][1].customer_id,
                attributes={
                    "provider": contacts[n][0].item.provider,
                    "kind": contacts[n][0].item.kind.value,
                },
            )
            for n in routed
        ],
    )
    tasks: dict[int, int] = dict(zip(routed, task_ids, strict=True))
    message_ids = await insert_ids(
        session,
        Message,
        [
            {
                "conversation_id": refs[n].id,
                "interaction_id": interactions.get(n),
                "channel": incoming.item.channel,
                "direction": Direction.INBOUND,
                "author_kind": AuthorKind.CUSTOMER,
                "body_text": incoming.item.text,
                "body_html": incoming.item.html,
                "provider_message_id": incoming.item.provider_message_id,
                "delivery_status": DeliveryStatus.RECEIVED,
                "metadata_": message_metadata(incoming.item),
                "created_at": now,
            }
            for n, (incoming, _) in enumerate(contacts)
        ],
    )
    attachments = [
        file.row(conversation_id=refs[n].id, message_id=message_id, created_at=now)
        for n, ((incoming, _), message_id) in enumerate(zip(contacts, message_ids, strict=True))
        for file in incoming.files
    ]
    await insert_rows(session, Attachment, attachments)
    for n, ((incoming, _), message_id) in enumerate(zip(contacts, message_ids, strict=True)):
        await record_conversation_event(
            session,
            ctx,
            EventType.MESSAGE_CREATED,
            refs[n],
            actor_user_id=None,
            payload={
                "channel": incoming.item.channel.value,
                "direction": Direction.INBOUND.value,
                "author_kind": AuthorKind.CUSTOMER.value,
                "interaction_id": interactions.get(n),
            },
            entity_kind="message",
            entity_id=message_id,
        )
    return [
        Received(
            message_id=message_ids[n],
            conversation_id=refs[n].id,
            customer_id=customer.customer_id,
            interaction_id=interactions.get(n),
            task_id=tasks.get(n),
        )
        for n, (_, customer) in enumerate(contacts)
    ]


_SITES = select(Queue.id, Queue.site_id).where(Queue.id.in_(bindparam("ids", expanding=True)))


async def _sites(session: AsyncSession, queue_ids: set[int]) -> dict[int, int | None]:
    if not queue_ids:
        return {}
    rows = await session.execute(_SITES, {"ids": sorted(queue_ids)})
    return dict(rows.all())


@dataclass(frozen=True, slots=True)
class _Ref:
    """A conversation created in the batch: what its events and rows need of it."""

    id: int
    site_id: int | None
    queue_id: int | None
