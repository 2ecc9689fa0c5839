"""Real-looking mail taken in as the IMAP poller and the SMTP listener take it (parsed,
then ``receive``), several at a time: every message is stored once, every reply joins
the conversation of the message it answers, whoever wrote it, and makes no second task
while that conversation's interaction is live."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from opencx.core.enums import Channel, Direction
from opencx.db.models import Conversation, Message, RoutingTask
from opencx.features.contacts.intake import receive
from opencx.features.context import AppContext, transaction
from opencx.features.sources.mail_parsing import parse_received
from opencx.testing.mail_corpus import make_corpus, wire

pytestmark = pytest.mark.timeout(120)

MAILBOX = "support@example.com"
READERS = 4


async def test_every_reply_of_a_corpus_joins_the_conversation_it_answers(
    ctx: AppContext,
) -> None:
    corpus = make_corpus(40, seed=11, mailbox=MAILBOX)
    position = {mail.message_id: n for n, mail in enumerate(corpus.mails)}
    stored = [asyncio.Event() for _ in corpus.mails]
    todo = iter(range(len(corpus.mails)))

    async def reader() -> None:
        # In order, a few at a time; a reply once what it answers is stored (it was
        # written after that one was read).
        for n in todo:
            mail = corpus.mails[n]
            if mail.answers is not None:
                await stored[position[mail.answers]].wait()
            raw = wire(mail.raw)
            item = await parse_received(ctx, raw, recipient=MAILBOX)
            await receive(ctx, item, raw=raw)
            stored[n].set()

    await asyncio.gather(*(reader() for _ in range(READERS)))

    async with transaction(ctx) as session:
        rows = await session.execute(
            select(Message.provider_message_id, Message.conversation_id).where(
                Message.channel == Channel.EMAIL, Message.direction == Direction.INBOUND
            )
        )
        conversation_of = {str(mid): cid for mid, cid in rows}
        conversations = await session.scalar(select(func.count()).select_from(Conversation))
        tasks = await session.scalar(select(func.count()).select_from(RoutingTask))
    assert sorted(conversation_of) == sorted(m.message_id for m in corpus.mails)
    replies = corpus.replies
    assert len(replies) >= 10
    assert any(
        m.sender != corpus.mails[position[m.answers]].sender for m in corpus.mails if m.answers
    )  # a colleague's reply too
    unthreaded = [r for r, a in replies.items() if conversation_of[r] != conversation_of[a]]
    assert unthreaded == []
    assert conversations is not None
    assert conversations <= len(corpus.mails) - len(replies)
    assert tasks == conversations  # one live interaction each: replies made no task
