"""The real transports behind the context's ports, over real sockets: one HTTP
connection pool that every call's client borrows and none closes, and the relay of
``smtp_out`` reached with aiosmtplib, its refusals passed on with their code."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from opencx.features.ports import MailNotSent
from opencx.features.transports import SharedHttp, SmtpRelay, http_client
from opencx.settings import Settings, SmtpOutSettings

pytestmark = pytest.mark.timeout(30)

OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


@dataclass
class KeepAlive:
    """An HTTP/1.1 server that answers every request ``ok`` and counts connections."""

    url: str = ""
    connections: int = 0


@pytest.fixture
async def server() -> AsyncIterator[KeepAlive]:
    served = KeepAlive()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.connections += 1
        try:
            while (await reader.readuntil(b"\r\n\r\n")).startswith(b"GET"):
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listening = await asyncio.start_server(answer, "127.0.0.1", 0)
    served.url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    async with listening:
        yield served


async def test_calls_share_the_pools_connection_and_a_closed_pool_opens_again(
    server: KeepAlive,
) -> None:
    shared = SharedHttp()
    for _ in range(3):  # three sends, each with its own client and timeout
        async with http_client(shared, timeout=5) as client:
            assert (await client.get(server.url)).text == "ok"
    assert server.connections == 1

    await shared.aclose()  # the process stops
    async with http_client(shared, timeout=5) as client:
        assert (await client.get(server.url)).text == "ok"
    assert server.connections == 2
    await shared.aclose()


@dataclass
class Relay:
    """An SMTP relay that refuses one recipient and keeps the rest."""

    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("gone@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def relay(settings: Settings) -> Iterator[Relay]:
    handler, port = Relay(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.smtp_out = SmtpOutSettings(host="127.0.0.1", port=port, starttls=False)
        yield handler
    finally:
        controller.stop()


def email(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "help@example.com", to, "Parcel"
    message.set_content("On its way.")
    return message


async def test_the_relay_takes_a_message_with_its_envelope(
    settings: Settings, relay: Relay
) -> None:
    await SmtpRelay(settings).send(email("ada@example.com"))
    await SmtpRelay(settings).send(
        email("ada@example.com"), sender="bounce@example.com", recipients=["bo@example.com"]
    )
    assert relay.envelopes == [
        ("help@example.com", ["ada@example.com"]),
        ("bounce@example.com", ["bo@example.com"]),
    ]


async def test_a_refused_recipient_is_not_sent_with_the_relays_code_and_words(
    settings: Settings, relay: Relay
) -> None:
    with pytest.raises(MailNotSent) as refused:
        await SmtpRelay(settings).send(email("gone@example.com"))
    assert refused.value.code == 550
    assert "5.1.1 No such user" in refused.value.reason
    assert relay.envelopes == []


async def test_a_relay_that_does_not_answer_is_not_sent_without_a_code(
    settings: Settings,
) -> None:
    settings.smtp_out = SmtpOutSettings(host="127.0.0.1", port=free_port(), starttls=False)
    with pytest.raises(MailNotSent) as refused:
        await SmtpRelay(settings).send(email("ada@example.com"))
    assert refused.value.code is None
    assert refused.value.reason
