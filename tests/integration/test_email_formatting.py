"""An agent's formatted e-mail with copies: light markup made into the HTML and text
parts of a multipart/alternative e-mail, Cc in its headers, blind copies to the relay
only (a real SMTP relay, aiosmtpd), and HTML from a client rebuilt before it is
stored."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message as MailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from opencx.core.enums import Channel, IdentityKind, Role
from opencx.features.contacts.intake import receive
from opencx.features.context import AppContext
from opencx.features.delivery.outbox import send_queued_message
from opencx.providers.base import InboundMessage, Sender
from opencx.settings import Settings, SmtpOutSettings
from tests.conftest import Caller, MakeCaller

API = "/api/v1"
MARKUP = (
    "Hello **Ada**,\n\n"
    "Your *parcel* ships today:\n"
    "- tracked [here](https://track.example.com/48213)\n"
    "- insured <for free>\n\n"
    "1. open it\n"
    "2. check it"
)


@dataclass
class Relay:
    """A real SMTP server standing for the relay: what it was sent, and to whom."""

    received: list[tuple[list[str], MailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        mail = email.message_from_bytes(envelope.original_content)
        self.received.append((list(envelope.rcpt_tos), mail))
        return "250 OK"


@pytest.fixture
def relay(settings: Settings) -> Iterator[Relay]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.smtp_out = SmtpOutSettings(host="127.0.0.1", port=port, starttls=False)
        yield handler
    finally:
        controller.stop()


async def customer_emailed(ctx: AppContext, client: httpx.AsyncClient, admin: Caller) -> int:
    mailbox = {
        "channel": "email",
        "provider": "smtp",
        "address": "support@example.com",
        "name": "Support",
    }
    created = await client.post(f"{API}/channel-accounts", json=mailbox, headers=admin.headers)
    assert created.status_code == 201, created.text
    received = await receive(
        ctx,
        InboundMessage(
            channel=Channel.EMAIL,
            provider="smtp",
            provider_message_id="first@example.com",
            sender=Sender(IdentityKind.EMAIL, "ada@example.com"),
            recipient="support@example.com",
            text="Where is my parcel?",
            subject="Parcel",
        ),
    )
    return received.conversation_id


async def write(
    client: httpx.AsyncClient, caller: Caller, conversation_id: int, **body: Any
) -> httpx.Response:
    fields = {"channel": "email", "direction": "outbound", "author_kind": "agent", **body}
    return await client.post(
        f"{API}/conversations/{conversation_id}/messages", json=fields, headers=caller.headers
    )


async def test_a_formatted_answer_with_copies_reaches_the_relay(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    relay: Relay,
) -> None:
    cid = await customer_emailed(ctx, client, admin)
    agent = await make_caller(Role.AGENT)
    posted = await write(
        client,
        agent,
        cid,
        body_text=MARKUP,
        body_format="markup",
        cc=["Boss@Example.com", "team@example.com", "boss@example.com"],
        bcc=["audit@example.com"],
    )
    assert posted.status_code == 201, posted.text
    message = posted.json()
    assert message["cc"] == ["Boss@example.com", "team@example.com"]
    assert message["bcc"] == ["audit@example.com"]
    assert message["body_html"].startswith("<p>Hello <strong>Ada</strong>,</p>")
    assert '<a href="https://track.example.com/48213">here</a>' in message["body_html"]
    assert "&lt;for free&gt;" in message["body_html"]
    assert message["body_text"] == (
        "Hello Ada,\n\nYour parcel ships today:\n\n"
        "- tracked here (https://track.example.com/48213)\n- insured <for free>\n\n"
        "1. open it\n2. check it"
    )

    assert await send_queued_message(ctx, message["id"])
    ((recipients, mail),) = relay.received
    assert sorted(recipients) == sorted(
        ["ada@example.com", "Boss@example.com", "team@example.com", "audit@example.com"]
    )
    assert mail["To"] == "ada@example.com"
    assert mail["Cc"] == "Boss@example.com, team@example.com"
    assert mail["Bcc"] is None
    assert "audit@example.com" not in mail.as_string()
    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.get_payload()
    assert text.get_content_type() == "text/plain"
    plain = text.get_payload(decode=True).decode()
    assert "- tracked here (https://track.example.com/48213)" in plain
    assert html.get_content_type() == "text/html"
    assert "<strong>Ada</strong>" in html.get_payload(decode=True).decode()
    stored = (await client.get(f"{API}/messages/{message['id']}", headers=agent.headers)).json()
    assert stored["delivery_status"] == "sent"
    assert stored["cc"] == ["Boss@example.com", "team@example.com"]


async def test_html_from_a_client_is_rebuilt_before_it_is_stored(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, relay: Relay
) -> None:
    cid = await customer_emailed(ctx, client, admin)
    html = (
        '<p onclick="steal()">Hi <a href="javascript:alert(1)">there</a>'
        '<a href="https://example.com" style="x">site</a></p><script>alert(1)</script>'
        '<img src="https://tracker.example.com/p.gif"><iframe src="https://x"></iframe>'
    )
    posted = await write(client, admin, cid, body_text="Hi there", body_html=html)
    assert posted.status_code == 201, posted.text
    assert posted.json()["body_html"] == (
        '<p>Hi <a>there</a><a href="https://example.com">site</a></p>'
    )
    assert await send_queued_message(ctx, posted.json()["id"])
    ((_, mail),) = relay.received
    assert "script" not in mail.as_string()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"channel": "chat", "cc": ["a@example.com"]}, "cc and bcc are for outbound e-mail"),
        ({"channel": "sms", "body_format": "markup"}, "markup is for outbound e-mail"),
        ({"body_format": "markup", "body_html": "<p>x</p>"}, "send body_text only"),
        ({"cc": ["not an address"]}, ""),
        ({"cc": [f"c{n}@example.com" for n in range(21)]}, ""),
    ],
)
async def test_copies_and_markup_are_for_outbound_email(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, body: dict[str, Any], why: str
) -> None:
    cid = await customer_emailed(ctx, client, admin)
    refused = await write(client, admin, cid, body_text="Hello", **body)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert why in str(refused.json()["errors"])
