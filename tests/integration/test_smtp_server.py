"""The SMTP listener over real TCP, as ``opencx serve`` runs it: long lines are taken and
stored intact; a malformed envelope is refused for good (5xx), not deferred (451)."""

from __future__ import annotations

import asyncio
import smtplib
import socket
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from opencx.db.models import Attachment, Message
from opencx.features.contacts.metrics import intake_metrics
from opencx.features.context import AppContext, transaction
from opencx.features.sources.smtp_server import start_smtp_server
from opencx.settings import SmtpSettings

pytestmark = pytest.mark.timeout(60)

MAILBOX = "support@example.com"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def smtp_port(ctx: AppContext) -> AsyncIterator[int]:
    """The listener on a free port; every recipient taken (no mailbox to set up)."""
    port = free_port()
    ctx.settings.smtp = SmtpSettings(port=port, accept_unknown_recipients=True)
    server = await start_smtp_server(ctx)
    try:
        yield port
    finally:
        server.close()
        await server.wait_closed()


def outlook_html(line: str) -> bytes:
    """An HTML e-mail with one long 8-bit line, as Outlook sends them."""
    message = EmailMessage()
    message["From"] = "Ada Lovelace <ada@example.com>"
    message["To"] = MAILBOX
    message["Subject"] = "Invoice 48213"
    message["Message-ID"] = "<long-line@example.com>"
    message.set_content(f"<html><body>{line}</body></html>\n", subtype="html", cte="8bit")
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


async def stored(ctx: AppContext) -> list[Message]:
    async with transaction(ctx) as session:
        return list((await session.scalars(select(Message))).all())


async def test_a_line_of_1500_octets_is_taken_and_stored_intact(
    ctx: AppContext, smtp_port: int
) -> None:
    cell = '<td style="font-family:Calibri,sans-serif;color:#1F497D">Votre commande 48213</td>'
    line = "<table><tr>" + cell * (1500 // len(cell) + 1) + "</tr></table>"
    assert len(line.encode()) > 1500
    raw = outlook_html(line)

    def send() -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
            return smtp.sendmail("ada@example.com", [MAILBOX], raw)

    assert await asyncio.to_thread(send) == {}  # every recipient accepted: 250
    (message,) = await stored(ctx)
    assert message.body_html is not None
    assert line in message.body_html
    async with transaction(ctx) as session:
        original = await session.scalar(
            select(Attachment).where(Attachment.filename == "original.eml")
        )
    assert original is not None
    assert await ctx.blobs.get(original.storage_key) == raw


@pytest.mark.parametrize(
    ("sender", "recipient", "refused_at"),
    [
        ("ada\x00@example.com", MAILBOX, "MAIL"),
        ("ada@exam\x00ple.com", MAILBOX, "MAIL"),
        ("ada@example.com", "support\x00@example.com", "RCPT"),
        ("ada@example.com", "support@example.com\x01", "RCPT"),
        ("a" * 300 + "@example.com", MAILBOX, "MAIL"),
    ],
)
async def test_a_malformed_envelope_is_refused_for_good(
    ctx: AppContext, smtp_port: int, sender: str, recipient: str, refused_at: str
) -> None:
    def session() -> dict[str, tuple[int, bytes]]:
        answers: dict[str, tuple[int, bytes]] = {}
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
            smtp.ehlo()
            answers["MAIL"] = smtp.docmd(f"MAIL FROM:<{sender}>")
            answers["RCPT"] = smtp.docmd(f"RCPT TO:<{recipient}>")
        return answers

    answers = await asyncio.to_thread(session)
    code, reply = answers[refused_at]
    assert 500 <= code < 600, (code, reply)  # permanent: the sender is told at once
    assert b"\x00" not in reply
    assert await stored(ctx) == []


async def test_mail_taken_for_no_mailbox_is_counted_as_a_stray(
    ctx: AppContext, smtp_port: int
) -> None:
    raw = outlook_html("Bonjour")

    def send() -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
            return smtp.sendmail("ada@example.com", [MAILBOX], raw)

    assert await asyncio.to_thread(send) == {}
    assert len(await stored(ctx)) == 1
    counter = intake_metrics(ctx).unknown_account
    assert counter.labels(provider="smtp", channel="email", outcome="unrouted")._value.get() == 1


def dotted_email(lines: int) -> bytes:
    """An e-mail whose lines begin with dots: a lone one, two, one before text."""
    body = "".join(f"{dots}line {n}\n" for n in range(lines) for dots in (".", "..", ""))
    message = EmailMessage()
    message["From"] = "Ada Lovelace <ada@example.com>"
    message["To"] = MAILBOX
    message["Subject"] = "Dots"
    message["Message-ID"] = "<dots@example.com>"
    message.set_content(body + ".\n..\n", cte="8bit")
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


async def test_lines_sent_together_are_stored_with_their_dots_and_the_next_command_read(
    ctx: AppContext, smtp_port: int
) -> None:
    """The whole message and the command after it in one write, as a pipelining sender
    does: the doubled dots are undone, the end of data is found, QUIT is answered."""
    raw = dotted_email(2000)
    stuffed = b"".join(
        b"." + line if line.startswith(b".") else line for line in raw.splitlines(keepends=True)
    )

    def session() -> list[bytes]:
        with socket.create_connection(("127.0.0.1", smtp_port), timeout=30) as sock:
            replies = sock.makefile("rb")
            replies.readline()  # the greeting
            for command in (
                b"HELO client",
                b"MAIL FROM:<ada@example.com>",
                f"RCPT TO:<{MAILBOX}>".encode(),
                b"DATA",
            ):
                sock.sendall(command + b"\r\n")
                replies.readline()
            sock.sendall(stuffed + b".\r\nQUIT\r\n")
            return [replies.readline(), replies.readline()]

    stored_reply, quit_reply = await asyncio.to_thread(session)
    assert stored_reply.startswith(b"250 "), stored_reply
    assert quit_reply.startswith(b"221 "), quit_reply
    async with transaction(ctx) as session_:
        original = await session_.scalar(
            select(Attachment).where(Attachment.filename == "original.eml")
        )
    assert original is not None
    assert await ctx.blobs.get(original.storage_key) == raw
