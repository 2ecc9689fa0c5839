"""The pool received mail is parsed in: worker processes, within the configured bounds,
renewed when a worker dies."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
from email.message import EmailMessage

import pytest

from opencx.features.context import AppContext
from opencx.features.sources.mail_parsing import MailParsers, parse_received, parsing_service
from opencx.providers.email import parse_email
from opencx.settings import MailParsingSettings

pytestmark = pytest.mark.timeout(60)


def with_parts(count: int) -> bytes:
    message = EmailMessage()
    message["From"] = "ada@example.com"
    message["Message-ID"] = "<parts@example.com>"
    message.set_content("see attached")
    for n in range(count):
        message.add_attachment(b"x", maintype="text", subtype="plain", filename=f"f{n}.txt")
    return message.as_bytes()


async def test_mail_is_parsed_in_the_pool_within_the_configured_bounds(ctx: AppContext) -> None:
    ctx.settings.mail_parsing = MailParsingSettings(workers=1, max_parts=12)
    service = asyncio.create_task(parsing_service(ctx))
    try:
        await asyncio.sleep(0)  # the service puts its pool in place first thing
        parsers = ctx.local["opencx.mail_parsers"]
        assert isinstance(parsers, MailParsers)
        item = await parse_received(ctx, with_parts(40), recipient="Support@Example.com")
        workers = list(parsers.pool._processes)  # which processes exist
    finally:
        service.cancel()
        await asyncio.gather(service, return_exceptions=True)
    assert workers
    assert os.getpid() not in workers
    assert item.recipient == "support@example.com"
    assert len(item.attachments) == 10  # the message, its multipart, its text, 9 more parts
    assert "unparsed" in item.flags
    assert "opencx.mail_parsers" not in ctx.local  # stopped with the service


async def test_a_dead_worker_is_replaced_and_the_message_parsed_again() -> None:
    parsers = MailParsers(1)
    try:
        await parsers.warm_up()
        broken = parsers.pool
        for pid in list(broken._processes):  # as the OOM killer would
            os.kill(pid, signal.SIGKILL)
        item = await parsers.run(functools.partial(parse_email, with_parts(2)))
    finally:
        parsers.close()
    assert parsers.pool is not broken
    assert [a.filename for a in item.attachments] == ["f0.txt", "f1.txt"]
