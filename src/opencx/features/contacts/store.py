"""Storing received messages set-wise, inside the caller's transaction (and inside
``batched``): the rules of ``opencx.features.contacts.intake`` for a batch of 1..N
messages of distinct senders and provider ids. One message is a batch of one.

A batch costs a fixed number of statements, whatever its size; each is skipped when
it has nothing to do:
- the messages already stored (repeated deliveries), which then change nothing;
- the unconfirmed addresses among the senders, taken back; the senders' customers, the
  missing ones created (``create_customers``);
- the accounts that received them: a new conversation's queue and its site (the
  account's ``queue_id``, the one place an account's queue is kept), the mailbox's
  threading rule, where answers are sent from;
- the conversations they answer (their references), their subject tokens, their
  customers' recent open conversations; those closed reopened, and all touched;
- the live interactions of those conversations on the messages' channels;
- the new conversations, interactions, tasks (``insert_first_tasks``), messages with
  their reply routes, attachments, then the events (written by ``batched``).
A customer who writes twice in one batch (from two of their addresses) has the second
message stored in a second round, so that it finds what the first created.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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
from opencx.core.mail_trust import ThreadRule, may_join_existing, same_subject
from opencx.core.reply_routes import ReplyRoute
from opencx.core.routing.model import SIMULATED
from opencx.db.models import Attachment, Conversation, Interaction, Message
from opencx.features.contacts import store_reads
from opencx.features.contacts.mail_trust import (
    named_reply_to,
    note_reply_to,
    reply_to_addresses,
    thread_rule,
    verdict_of,
)
from opencx.features.contacts.metadata import message_metadata
from opencx.features.contacts.metrics import intake_metrics
from opencx.features.contacts.store_reads import CONTINUE_WITHIN, Joined
from opencx.features.context import AppContext
from opencx.features.conversations.access import record_conversation_event
from opencx.features.conversations.attachments import NewFile
from opencx.features.conversations.snoozes import wake_on_customer_message
from opencx.features.customers.identities import find_senders
from opencx.features.customers.resolution import (
    FoundCustomer,
    NewIdentity,
    create_customers,
)
from opencx.features.directory.channel_accounts import (
    MAILBOX_PROVIDERS,
    ReceivingAccount,
    receiving_accounts,
)
from opencx.features.events.record import insert_ids, insert_rows, table_of
from opencx.features.routing.tasks import NewTask, insert_first_tasks
from opencx.features.search import add_conversation_texts, message_text
from opencx.providers.base import SIMULATED_FLAG, InboundMessage

__all__ = ["AUTOMATIC", "CONTINUE_WITHIN", "Incoming", "Received", "store"]

log = structlog.get_logger(__name__)

#: Flags that mark a message no one should be asked to answer.
AUTOMATIC = frozenset({"auto_submitted", "bounce"})
_CLOSED = (ConversationStatus.RESOLVED, ConversationStatus.CLOSED)
#: The most thread ids a reply route keeps (an answer's References name at most ten).
_KEPT_REFERENCES = 50


@dataclass(frozen=True, slots=True)
class Incoming:
    """A received message ready to store: its sender's normalised identity, its files
    (in the blob store, or pending: held by the provider), and where a new conversation
    goes: ``queue_id`` (a queue its caller knows, a chat widget's), or the account of
    provider ``account`` at the message's recipient, whose queue it is (an address no
    active account has sends it to ``intake.unknown_account_queue_id``)."""

    item: InboundMessage
    kind: IdentityKind
    value: str
    display_name: str | None
    files: tuple[NewFile, ...]
    queue_id: int | None = None
    account: str | None = None

    @property
    def identity_key(self) -> tuple[IdentityKind, str]:
        return (self.kind, self.value)

    @property
    def message_key(self) -> tuple[Channel, str]:
        return (self.item.channel, self.item.provider_message_id)


@dataclass(frozen=True, slots=True)
class Received:
    message_id: int
    conversation_id: int
    customer_id: int
    interaction_id: int | None
    task_id: int | None = None
    duplicate: bool = False
    #: The conversation's site, for events about it written later (an acknowledgement).
    site_id: int | None = None


async def store(
    session: AsyncSession, ctx: AppContext, batch: Sequence[Incoming]
) -> list[Received]:
    """Store every message of ``batch``; what became of each, in order."""
    results = await _already_stored(session, batch)
    fresh = [(n, incoming) for n, incoming in enumerate(batch) if n not in results]
    if not fresh:
        return [results[n] for n in range(len(batch))]
    customers = await _customers(session, ctx, [incoming for _, incoming in fresh])
    accounts = await receiving_accounts(session, _account_pairs(i for _, i in fresh))
    messages = [
        _Message(n, incoming, customer)
        for (n, incoming), customer in zip(fresh, customers, strict=True)
    ]
    for round_ in _rounds(messages):
        await _Round(session, ctx, accounts, round_).store()
    results.update({m.n: m.received() for m in messages})
    return [results[n] for n in range(len(batch))]


@dataclass(slots=True)
class _Message:
    """One message of the batch as it is being stored."""

    n: int
    incoming: Incoming
    customer: FoundCustomer
    conversation: Joined | None = None
    interaction_id: int | None = None
    task_id: int | None = None
    message_id: int = 0

    @property
    def item(self) -> InboundMessage:
        return self.incoming.item

    @property
    def conversation_of(self) -> Joined:
        assert self.conversation is not None
        return self.conversation

    def received(self) -> Received:
        conversation = self.conversation_of
        return Received(
            message_id=self.message_id,
            conversation_id=conversation.id,
            customer_id=self.customer.customer_id,
            interaction_id=self.interaction_id,
            task_id=self.task_id,
            site_id=conversation.site_id,
        )


def _rounds(messages: list[_Message]) -> list[list[_Message]]:
    """The batch in rounds of distinct customers, each message after its customer's
    earlier ones (distinct senders may still be one customer)."""
    seen: Counter[int] = Counter()
    rounds: list[list[_Message]] = []
    for message in messages:
        index = seen[message.customer.customer_id]
        seen[message.customer.customer_id] += 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(message)
    return rounds


# --- repeated deliveries, customers, accounts ------------------------------------------


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
        Conversation.site_id,
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
        (row.channel, row.provider_message_id): Received(
            message_id=row.id,
            conversation_id=row.conversation_id,
            customer_id=row.customer_id,
            interaction_id=row.interaction_id,
            duplicate=True,
            site_id=row.site_id,
        )
        for row in rows
        if (row.channel, row.provider_message_id) in wanted
    }
    return {
        n: stored[incoming.message_key]
        for n, incoming in enumerate(batch)
        if incoming.message_key in stored
    }


async def _customers(
    session: AsyncSession, ctx: AppContext, batch: Sequence[Incoming]
) -> list[FoundCustomer]:
    """The customer of each sender, created where there is none."""
    known = await find_senders(session, ctx, [incoming.identity_key for incoming in batch])
    identities = [
        NewIdentity(i.kind, i.value, i.display_name, attributes=_simulated(i.item)) for i in batch
    ]
    new = [identity for identity in identities if (identity.kind, identity.value) not in known]
    created = dict(
        zip(
            [(identity.kind, identity.value) for identity in new],
            await create_customers(session, ctx, new),
            strict=True,
        )
    )
    return [
        FoundCustomer(known[key], created=False)
        if (key := incoming.identity_key) in known
        else FoundCustomer(created[key], created=True)
        for incoming in batch
    ]


def _account_pairs(batch: Iterable[Incoming]) -> set[tuple[str, str]]:
    """The accounts the batch needs: each message's receiving account, and for an
    e-mail the mailbox at its recipient (its threading rule; answers leave from it)."""
    pairs: set[tuple[str, str]] = set()
    for incoming in batch:
        recipient = incoming.item.recipient
        if not recipient:
            continue
        if incoming.account is not None:
            pairs.add((incoming.account, recipient))
        if incoming.item.channel is Channel.EMAIL:
            pairs.update((provider, recipient) for provider in MAILBOX_PROVIDERS)
    return pairs


# --- one round: threading, then every row set-wise --------------------------------------


@dataclass(slots=True)
class _Round:
    session: AsyncSession
    ctx: AppContext
    accounts: dict[tuple[str, str], ReceivingAccount]
    messages: list[_Message]

    async def store(self) -> None:
        now = self.ctx.clock.now()
        await self._thread(now)
        await self._touch(now)
        await self._start_conversations(now)
        await self._join_interactions(now)
        await self._insert_messages(now)

    # -- threading

    async def _thread(self, now: datetime) -> None:
        """Each message's existing conversation, where it joins one (see the rules of
        ``intake``); a sender a trusted relay found forged joins none."""
        joinable = [m for m in self.messages if may_join_existing(verdict_of(m.item))]
        answered = await store_reads.answered(self.session, {m.n: m.item for m in joinable})
        tokens = {
            m.n: token
            for m in joinable
            if m.n not in answered
            and not m.customer.created
            and isinstance(token := m.item.metadata.get("subject_token"), int)
        }
        found = await store_reads.conversations(
            self.session, {*answered.values(), *tokens.values()}
        )
        for m in joinable:
            if m.n in answered:
                m.conversation = found.get(answered[m.n])
            elif m.n in tokens:
                # A token only counts from the customer it was sent to: it is guessable.
                candidate = found.get(tokens[m.n])
                if candidate is not None and candidate.customer_id == m.customer.customer_id:
                    m.conversation = candidate
        waiting = [m for m in joinable if m.conversation is None and not m.customer.created]
        recent = await store_reads.recent(
            self.session, {m.customer.customer_id for m in waiting}, now
        )
        for m in waiting:
            rule = thread_rule(m.item, self._mailbox(m.item))
            candidates = recent.get(m.customer.customer_id, [])
            if rule is ThreadRule.RECENT:
                candidates = candidates[:1]
            subject = (m.item.subject or "")[:300]
            m.conversation = next(
                (
                    found.setdefault(c.id, c)
                    for c in candidates
                    if rule is ThreadRule.RECENT or same_subject(c.subject, subject)
                ),
                None,
            )

    async def _touch(self, now: datetime) -> None:
        """The joined conversations: those resolved or closed reopen, those snoozed wake
        (unless only automatic messages came); all are updated and active now."""
        joined = {m.conversation.id: m.conversation for m in self.messages if m.conversation}
        if not joined:
            return
        reopened = [c for c in joined.values() if c.status in _CLOSED]
        await self.session.execute(
            update(table_of(Conversation))
            .where(table_of(Conversation).c.id.in_(sorted(joined)))
            .values(updated_at=now, last_activity_at=now)
        )
        woken = {
            m.conversation.id: m.conversation
            for m in self.messages
            if m.conversation and m.conversation.snoozed_until and not m.item.flags & AUTOMATIC
        }
        await wake_on_customer_message(self.session, self.ctx, list(woken.values()))
        for conversation in woken.values():
            conversation.snoozed_until = None
        if not reopened:
            return
        await self.session.execute(
            update(table_of(Conversation))
            .where(table_of(Conversation).c.id.in_([c.id for c in reopened]))
            .values(status=ConversationStatus.OPEN, closed_at=None)
        )
        for conversation in reopened:
            previous, conversation.status = conversation.status, ConversationStatus.OPEN
            await record_conversation_event(
                self.session,
                self.ctx,
                EventType.CONVERSATION_STATUS_CHANGED,
                conversation,
                actor_user_id=None,
                payload={"status": "open", "previous": previous.value, "reason": "customer_wrote"},
            )

    # -- new conversations

    async def _start_conversations(self, now: datetime) -> None:
        starting = [m for m in self.messages if m.conversation is None]
        if not starting:
            return
        targets = [self._queue(m) for m in starting]
        sites = await store_reads.queue_sites(
            self.session, {q for q, _, known in targets if not known and q is not None}
        )
        for m, (queue_id, site_id, known) in zip(starting, targets, strict=True):
            if not known:
                site_id = sites.get(queue_id) if queue_id is not None else None
            m.conversation = Joined(
                0,
                m.customer.customer_id,
                (m.item.subject or "")[:300],
                ConversationStatus.OPEN,
                queue_id,
                site_id,
                new=True,
            )
        ids = await insert_ids(
            self.session,
            Conversation,
            [
                {
                    "customer_id": c.customer_id,
                    "subject": c.subject,
                    "status": c.status,
                    "queue_id": c.queue_id,
                    "site_id": c.site_id,
                    "priority": 0,
                    "created_at": now,
                    "updated_at": now,
                    "last_activity_at": now,
                }
                for c in (m.conversation_of for m in starting)
            ],
        )
        for m, conversation_id in zip(starting, ids, strict=True):
            m.conversation_of.id = conversation_id
            await record_conversation_event(
                self.session,
                self.ctx,
                EventType.CONVERSATION_CREATED,
                m.conversation_of,
                actor_user_id=None,
                payload={"customer_id": m.customer.customer_id, "channel": m.item.channel.value},
            )

    def _queue(self, m: _Message) -> tuple[int | None, int | None, bool]:
        """A new conversation's queue, its site, and whether that site is known (the
        account's query read it) or still to read."""
        provider = m.incoming.account
        if provider is None:
            return m.incoming.queue_id, None, False
        recipient = m.item.recipient
        account = self.accounts.get((provider, recipient)) if recipient else None
        if account is None:
            return _unknown_account_queue(self.ctx, m.item, provider), None, False
        return account.queue_id, account.site_id, True

    def _mailbox(self, item: InboundMessage) -> ReceivingAccount | None:
        if item.channel is not Channel.EMAIL or not item.recipient:
            return None
        for provider in MAILBOX_PROVIDERS:
            if (account := self.accounts.get((provider, item.recipient))) is not None:
                return account
        return None

    # -- interactions and routing

    async def _join_interactions(self, now: datetime) -> None:
        """Each message joins its conversation's live interaction on its channel; the
        first message that finds none (and is not automatic) starts one, routed, that
        the round's later messages there join too."""
        existing = {m.conversation_of.id for m in self.messages if not m.conversation_of.new}
        live = await store_reads.live_interactions(self.session, existing)
        starters: dict[tuple[int, Channel], _Message] = {}
        followers: list[tuple[_Message, _Message]] = []
        for m in self.messages:
            key = (m.conversation_of.id, m.item.channel)
            if key in live:
                m.interaction_id = live[key]
            elif key in starters:
                followers.append((m, starters[key]))
            elif not m.item.flags & AUTOMATIC:
                starters[key] = m
        if not starters:
            return
        starting = list(starters.values())
        ids = await insert_ids(
            self.session,
            Interaction,
            [
                {
                    "conversation_id": m.conversation_of.id,
                    "channel": m.item.channel,
                    "direction": Direction.INBOUND,
                    "state": InteractionState.CREATED,
                    "queue_id": m.conversation_of.queue_id,
                    "site_id": m.conversation_of.site_id,
                    "arrived_at": now,
                    "hold_seconds": 0.0,
                }
                for m in starting
            ],
        )
        for m, interaction_id in zip(starting, ids, strict=True):
            m.interaction_id = interaction_id
            await _interaction_created(self.session, self.ctx, m, interaction_id)
        task_ids = await insert_first_tasks(self.session, self.ctx, [_task(m) for m in starting])
        for m, task_id in zip(starting, task_ids, strict=True):
            m.task_id = task_id
        for m, starter in followers:
            m.interaction_id = starter.interaction_id

    # -- messages

    async def _insert_messages(self, now: datetime) -> None:
        rows = []
        for m in self.messages:
            metadata = message_metadata(m.item)
            if reply_to_addresses(m.item):
                metadata |= await note_reply_to(
                    self.session, self.ctx, m.item, m.customer.customer_id
                )
            rows.append(
                {
                    "conversation_id": m.conversation_of.id,
                    "interaction_id": m.interaction_id,
                    "channel": m.item.channel,
                    "direction": Direction.INBOUND,
                    "author_kind": AuthorKind.CUSTOMER,
                    "body_text": m.item.text,
                    "body_html": m.item.html,
                    "provider_message_id": m.item.provider_message_id,
                    "delivery_status": DeliveryStatus.RECEIVED,
                    "metadata_": metadata,
                    "reply_route": self._reply_route(m).to_json(),
                    "created_at": now,
                }
            )
        ids = await insert_ids(self.session, Message, rows)
        for m, message_id in zip(self.messages, ids, strict=True):
            m.message_id = message_id
        await add_conversation_texts(self.session, self._texts())
        await insert_rows(
            self.session,
            Attachment,
            [
                file.row(
                    conversation_id=m.conversation_of.id, message_id=m.message_id, created_at=now
                )
                for m in self.messages
                for file in m.incoming.files
            ],
        )
        for m in self.messages:
            await record_conversation_event(
                self.session,
                self.ctx,
                EventType.MESSAGE_CREATED,
                m.conversation_of,
                actor_user_id=None,
                payload={
                    "channel": m.item.channel.value,
                    "direction": Direction.INBOUND.value,
                    "author_kind": AuthorKind.CUSTOMER.value,
                    "interaction_id": m.interaction_id,
                },
                entity_kind="message",
                entity_id=m.message_id,
            )

    def _texts(self) -> list[tuple[int, str]]:
        """What the round adds to the search index: its messages and the subjects of
        the conversations it started."""
        texts = [
            (m.conversation_of.id, message_text(m.item.text, m.item.html, m.item.subject))
            for m in self.messages
        ]
        texts.extend(
            (m.conversation_of.id, m.conversation_of.subject or "")
            for m in self.messages
            if m.conversation_of.new
        )
        return texts

    def _reply_route(self, m: _Message) -> ReplyRoute:
        """Where answers to ``m`` go, as the senders read it back."""
        item = m.item
        account = self._mailbox(item)
        if account is None and m.incoming.account is not None and item.recipient:
            account = self.accounts.get((m.incoming.account, item.recipient))
        references = tuple(str(ref) for ref in item.metadata.get("references") or ())
        if len(references) > _KEPT_REFERENCES:  # an answer names ten: the first, the last
            references = (references[0], *references[1 - _KEPT_REFERENCES :])
        return ReplyRoute(
            channel=item.channel,
            account_id=account.id if account is not None else None,
            mailbox=account.address if account is not None else item.recipient,
            sender=m.incoming.value if m.incoming.kind is IdentityKind.EMAIL else item.sender.value,
            reply_to=named_reply_to(item),
            references=(*references, item.provider_message_id),
            subject=item.subject[:300] if item.subject else None,
        )


async def _interaction_created(
    session: AsyncSession, ctx: AppContext, m: _Message, interaction_id: int
) -> None:
    """``interaction.created`` of a received message's new interaction."""
    await record_conversation_event(
        session,
        ctx,
        EventType.INTERACTION_CREATED,
        m.conversation_of,
        actor_user_id=None,
        payload={
            "state": InteractionState.CREATED.value,
            "channel": m.item.channel.value,
            "queue_id": m.conversation_of.queue_id,
            "agent_id": None,
            "direction": Direction.INBOUND.value,
        },
        entity_kind="interaction",
        entity_id=interaction_id,
    )


def _task(m: _Message) -> NewTask:
    return NewTask(
        interaction_id=m.interaction_id or 0,
        channel=m.item.channel,
        site_id=m.conversation_of.site_id,
        queue_id=m.conversation_of.queue_id,
        conversation_id=m.conversation_of.id,
        customer_id=m.customer.customer_id,
        attributes={
            "provider": m.item.provider,
            "kind": m.item.kind.value,
            **_simulated(m.item),
        },
        new_customer=m.customer.created,
    )


def _simulated(item: InboundMessage) -> dict[str, bool]:
    """The mark of a simulated customer's message (the demo's simulation), for its new
    customer and its routing task: routing offers it to simulated agents too."""
    return {SIMULATED: True} if SIMULATED_FLAG in item.flags else {}


def _unknown_account_queue(ctx: AppContext, item: InboundMessage, provider: str) -> int | None:
    """The queue of a new conversation whose message came to an address no active
    account has: the configured default (``intake.unknown_account_queue_id``), else
    none (kept, not routed to a queue). Logged and counted either way."""
    queue_id = ctx.settings.intake.unknown_account_queue_id
    outcome = "unrouted" if queue_id is None else "default_queue"
    log.warning(
        "inbound_for_unknown_account",
        provider=provider,
        channel=item.channel.value,
        recipient=item.recipient,
        provider_message_id=item.provider_message_id,
        queue_id=queue_id,
    )
    intake_metrics(ctx).unknown_account.labels(provider, item.channel.value, outcome).inc()
    return queue_id
