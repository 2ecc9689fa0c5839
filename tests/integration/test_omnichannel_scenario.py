"""MISSION §2 over HTTP: a customer writes on Messenger, calls, then e-mails, and the
contact center sees one customer, one conversation and one timeline.

The Messenger message is Meta's documented example, signed; the call is an interaction
created through the API (as a telephony integration does until voice lands); the
e-mail arrives through SendGrid Inbound Parse, raw."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from opencx.features.context import AppContext
from opencx.settings import MetaSettings, SendGridSettings
from opencx.web import create_app
from tests.conftest import Caller
from tests.integration.test_directory_api import API, post

PAYLOADS = Path(__file__).parents[1] / "unit" / "providers" / "meta" / "payloads"
META_SECRET = "scenario-app-secret-0123456789"
SENDGRID_TOKEN = "scenario-inbound-token-0123456789"
PSID = "6789012345678901"  # the sender of Meta's documented Messenger example


@pytest.fixture
async def http(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    ctx.settings.meta = MetaSettings(app_secret=SecretStr(META_SECRET))
    ctx.settings.sendgrid = SendGridSettings(inbound_token=SecretStr(SENDGRID_TOKEN))
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def raw_mail(conversation_id: int) -> bytes:
    """Her e-mail, with the reference the agent gave her on the phone: a new subject
    without one would be a new matter (the mailbox's default threading rule)."""
    mail = EmailMessage()
    mail["From"] = "Ada Lovelace <ada@example.com>"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"Ma commande [#{conversation_id}]"
    mail["Message-ID"] = "<scenario-1@example.com>"
    mail.set_content("Je vous envoie la photo du colis abîmé.")
    return bytes(mail)


async def test_messenger_then_a_call_then_email_is_one_customer_one_conversation(
    http: httpx.AsyncClient, admin: Caller
) -> None:
    body = (PAYLOADS / "messenger_text_message.body").read_bytes()
    delivered = await http.post("/webhooks/meta", content=body, headers=signed(body))
    assert delivered.status_code == 200, delivered.text
    (conversation,) = (await http.get(f"{API}/conversations", headers=admin.headers)).json()[
        "items"
    ]
    customer_id = conversation["customer_id"]

    # On Messenger the agent learns her phone number and e-mail address.
    for identity in (
        {"kind": "phone", "value": "06 12 34 56 78", "region": "FR"},
        {"kind": "email", "value": "Ada@Example.com"},
    ):
        await post(http, admin, f"/customers/{customer_id}/identities", identity)

    # She calls: the number finds her, and the call joins her open conversation.
    caller = await http.post(
        f"{API}/customers/resolve",
        json={"kind": "phone", "value": "+33612345678"},
        headers=admin.headers,
    )
    assert caller.status_code == 200, caller.text
    assert caller.json()["id"] == customer_id
    call = await post(
        http,
        admin,
        f"/conversations/{conversation['id']}/interactions",
        {"channel": "voice", "direction": "inbound"},
    )

    # Then she e-mails the photo, quoting the reference the agent gave her on the phone:
    # SendGrid posts the raw message.
    mailed = await http.post(
        "/webhooks/sendgrid/inbound",
        params={"token": SENDGRID_TOKEN},
        files={
            "email": (None, raw_mail(conversation["id"])),
            "to": (None, "support@example.com"),
            "from": (None, "Ada Lovelace <ada@example.com>"),
            "envelope": (
                None,
                json.dumps({"to": ["support@example.com"], "from": "ada@example.com"}),
            ),
        },
    )
    assert mailed.status_code == 200, mailed.text

    conversations = (await http.get(f"{API}/conversations", headers=admin.headers)).json()
    assert [c["id"] for c in conversations["items"]] == [conversation["id"]]
    found = await http.get(
        f"{API}/customers", params={"identity": "email:ada@example.com"}, headers=admin.headers
    )
    assert [c["id"] for c in found.json()["items"]] == [customer_id]

    timeline = await http.get(
        f"{API}/conversations/{conversation['id']}/timeline", headers=admin.headers
    )
    assert timeline.status_code == 200, timeline.text
    items = timeline.json()["items"]
    channels = [item["message"]["channel"] for item in items if item["kind"] == "message"]
    assert channels == ["messenger", "email"]
    interactions = {
        (item["interaction"]["channel"], item["interaction"]["id"])
        for item in items
        if item["kind"] == "interaction"
    }
    assert ("voice", call["id"]) in interactions
    assert {channel for channel, _ in interactions} == {"messenger", "voice", "email"}
