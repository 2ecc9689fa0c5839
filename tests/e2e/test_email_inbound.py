"""Mail sent with Python's smtplib (and with swaks, an SMTP client that is not Python's)
to a running server becomes a routed conversation at once (250 only after the commit); a
reply joins it; an unknown mailbox is refused; an agent's answer threads."""

from __future__ import annotations

import email
import email.message
import os
import re
import shutil
import smtplib
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.e2e.conftest import LiveServers, OpencxEnv, RunOpencx, free_port, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def mail(message_id: str, subject: str, body: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Ada Lovelace <ada@example.com>"
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def test_mail_becomes_a_routed_conversation_and_a_reply_joins_it(
    database_url: str,
    live_servers: LiveServers,
    opencx_env: OpencxEnv,
    run_opencx: RunOpencx,
) -> None:
    smtp_port = free_port()
    env = opencx_env(database_url, SMTP__PORT=str(smtp_port))
    server = live_servers.start(env)
    admin = ["--email", "admin@example.com", "--role", "admin", "--password", "long enough"]
    run_opencx(["user", "create", *admin], env)
    token = run_opencx(["token", "create", "--user", "admin@example.com"], env).splitlines()[-1]
    with httpx.Client(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as api:
        converse(api, smtp_port)


def converse(api: httpx.Client, smtp_port: int) -> None:
    queue = api.post("/queues", json={"name": "Support mail", "channel": "email"}).json()
    account = api.post(
        "/channel-accounts",
        json={
            "channel": "email",
            "provider": "smtp",
            "address": "Support@Example.com",
            "name": "Support",
            "queue_id": queue["id"],
        },
    )
    assert account.status_code == 201, account.text

    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("ada@example.com", ["nobody@example.com"], b"Subject: x\r\n\r\nx")
        smtp.send_message(mail("first@example.com", "Parcel 48213", "Where is my parcel?"))

    # 250 came after the commit: the conversation is there already.
    (conversation,) = api.get("/conversations").json()["items"]
    assert conversation["subject"] == "Parcel 48213"
    assert conversation["queue_id"] == queue["id"]
    path = f"/conversations/{conversation['id']}/messages"
    (first,) = api.get(path).json()["items"]
    assert first["body_text"].strip() == "Where is my parcel?"
    assert first["channel"] == "email"
    task = wait_for(lambda: api.get("/tasks", params={"status": "waiting"}).json()["items"])[0]
    assert task["queue_id"] == queue["id"]

    reply = mail(
        "second@example.com",
        "Re: Parcel 48213",
        "Any news?\n\nOn Mon, 5 Jan 2026, Support wrote:\n> Where is my parcel?\n",
        In_Reply_To="<first@example.com>",
        References="<first@example.com>",
    )
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        smtp.send_message(reply)
        smtp.send_message(reply)  # delivered twice: stored once
    assert len(api.get("/conversations").json()["items"]) == 1
    messages = api.get(path).json()["items"]
    assert [m["body_text"].strip() for m in messages] == ["Where is my parcel?", "Any news?"]
    assert len(api.get("/tasks").json()["items"]) == 1  # the same e-mail contact

    # No readable From header: the envelope sender answers for it; nothing is refused.
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        smtp.sendmail(
            "grace@example.com",
            ["support@example.com"],
            b"Subject: no from\r\nMessage-ID: <fourth@example.com>\r\n\r\nHello?\r\n",
        )
    found = api.get("/customers", params={"identity": "email:grace@example.com"})
    customers = found.json()["items"]
    assert customers, "the envelope sender became the customer"


class Sink:
    """A real SMTP server standing for the relay: it keeps what it is sent."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_an_answer_threads_in_the_customers_mail_client_and_their_reply_joins(
    database_url: str,
    live_servers: LiveServers,
    opencx_env: OpencxEnv,
    run_opencx: RunOpencx,
    sink: tuple[Sink, int],
) -> None:
    relay, relay_port = sink
    smtp_port = free_port()
    env = opencx_env(
        database_url,
        SMTP__PORT=str(smtp_port),
        SMTP_OUT__HOST="127.0.0.1",
        SMTP_OUT__PORT=str(relay_port),
        SMTP_OUT__STARTTLS="false",
    )
    server = live_servers.start(env)
    admin = ["--email", "admin@example.com", "--role", "admin", "--password", "long enough"]
    run_opencx(["user", "create", *admin], env)
    token = run_opencx(["token", "create", "--user", "admin@example.com"], env).splitlines()[-1]
    with httpx.Client(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as api:
        queue = api.post("/queues", json={"name": "Support mail", "channel": "email"}).json()
        account = {
            "channel": "email",
            "provider": "smtp",
            "address": "support@example.com",
            "name": "Acme Support",
            "queue_id": queue["id"],
            "auto_ack_hours": 48,
            "locale": "en",
        }
        assert api.post("/channel-accounts", json=account).status_code == 201
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.send_message(mail("first@example.com", "Parcel 48213", "Where is my parcel?"))
        (conversation,) = api.get("/conversations").json()["items"]
        token_text = f"[#{conversation['id']}]"

        ack = wait_for(lambda: relay.messages)[0]
        assert ack["Auto-Submitted"] == "auto-replied"
        assert ack["In-Reply-To"] == "<first@example.com>"
        assert ack["To"] == "ada@example.com"
        assert "48" in ack.get_payload(decode=True).decode()
        assert token_text in ack["Subject"]

        # The agent uploads the shipping label, then answers with it.
        label = b"%PDF-1.7 shipping label 48213"
        uploaded = api.post(
            f"/conversations/{conversation['id']}/attachments",
            files={"file": ("Étiquette 48213.pdf", label, "application/pdf")},
        )
        assert uploaded.status_code == 201, uploaded.text
        answer = api.post(
            f"/conversations/{conversation['id']}/messages",
            json={
                "channel": "email",
                "direction": "outbound",
                "author_kind": "agent",
                "body_text": "It left our warehouse this morning.",
                "attachment_ids": [uploaded.json()["id"]],
            },
        )
        assert answer.status_code == 201, answer.text
        sent = wait_for(lambda: relay.messages[1:])[0]
        (file,) = [part for part in sent.walk() if part.get_filename()]
        assert file.get_filename() == "Étiquette 48213.pdf"
        assert file.get_content_type() == "application/pdf"
        assert file.get_payload(decode=True) == label
        assert sent["From"] == "Acme Support <support@example.com>"
        assert sent["To"] == "ada@example.com"
        assert sent["Subject"] == f"Re: Parcel 48213 {token_text}"
        assert sent["In-Reply-To"] == "<first@example.com>"
        assert "<first@example.com>" in sent["References"]
        assert sent["Auto-Submitted"] is None
        body = next(part for part in sent.walk() if part.get_content_type() == "text/plain")
        assert "warehouse" in body.get_payload(decode=True).decode()
        status = wait_for(
            lambda: api.get(f"/messages/{answer.json()['id']}").json()["delivery_status"] == "sent"
        )
        assert status

        # The customer's mail client replies to our answer: same conversation.
        reply = mail(
            "third@example.com",
            sent["Subject"].replace("Re: ", "RE: "),
            "Thank you!",
            In_Reply_To=sent["Message-ID"],
        )
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.send_message(reply)
        assert len(api.get("/conversations").json()["items"]) == 1
        bodies = [
            m["body_text"].strip()
            for m in api.get(f"/conversations/{conversation['id']}/messages").json()["items"]
        ]
        assert bodies[-1] == "Thank you!"


def swaks_command() -> str:
    """swaks (Debian package ``swaks``): skipped where it is missing, except in CI."""
    found = shutil.which("swaks")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("swaks is not on PATH: CI must install it (apt-get install swaks)")
        pytest.skip("swaks is not on PATH (Debian package swaks); CI runs this test")
    return found


def swaks(command: str, smtp_port: int, *args: str) -> str:
    """Send one mail with swaks; its transcript (what it sent is on `` -> `` lines)."""
    done = subprocess.run(
        [command, "--server", f"127.0.0.1:{smtp_port}", "--timeout", "10", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"swaks exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def sent_message_id(transcript: str) -> str:
    """The Message-ID swaks wrote into the mail, read from its transcript."""
    found = re.search(r"^ -> Message-Id: <([^>]+)>\s*$", transcript, re.IGNORECASE | re.MULTILINE)
    assert found is not None, transcript
    return found.group(1)


def test_a_mail_sent_with_swaks_is_routed_and_the_agents_answer_threads(
    database_url: str,
    live_servers: LiveServers,
    opencx_env: OpencxEnv,
    run_opencx: RunOpencx,
    sink: tuple[Sink, int],
) -> None:
    command = swaks_command()
    relay, relay_port = sink
    smtp_port = free_port()
    env = opencx_env(
        database_url,
        SMTP__PORT=str(smtp_port),
        SMTP_OUT__HOST="127.0.0.1",
        SMTP_OUT__PORT=str(relay_port),
        SMTP_OUT__STARTTLS="false",
    )
    server = live_servers.start(env)
    for email_address, role in (("admin@example.com", "admin"), ("agent@example.com", "agent")):
        user = ["--email", email_address, "--role", role, "--password", "long enough"]
        run_opencx(["user", "create", *user], env)
    tokens = {
        who: run_opencx(["token", "create", "--user", f"{who}@example.com"], env).splitlines()[-1]
        for who in ("admin", "agent")
    }
    api_url = f"{server.url}/api/v1"
    with (
        httpx.Client(
            base_url=api_url, headers={"Authorization": f"Bearer {tokens['admin']}"}
        ) as api,
        httpx.Client(
            base_url=api_url, headers={"Authorization": f"Bearer {tokens['agent']}"}
        ) as agent,
    ):
        queue = api.post("/queues", json={"name": "Invoices", "channel": "email"}).json()
        account = {
            "channel": "email",
            "provider": "smtp",
            "address": "billing@example.com",
            "name": "Acme Billing",
            "queue_id": queue["id"],
        }
        assert api.post("/channel-accounts", json=account).status_code == 201

        transcript = swaks(
            command,
            smtp_port,
            "--to", "billing@example.com",
            "--from", "grace@example.com",
            "--header", "Subject: Invoice 2231 is wrong",
            "--body", "The total is 12 EUR too high.",
        )  # fmt: skip
        assert re.search(r"^<-  250 2\.0\.0 OK: stored as message", transcript, re.MULTILINE)
        message_id = sent_message_id(transcript)

        # 250 came after the commit: the conversation is there, in the mailbox's queue.
        (conversation,) = api.get("/conversations").json()["items"]
        assert conversation["subject"] == "Invoice 2231 is wrong"
        assert conversation["queue_id"] == queue["id"]
        path = f"/conversations/{conversation['id']}/messages"
        (first,) = api.get(path).json()["items"]
        assert first["provider_message_id"] == message_id
        assert first["body_text"].strip() == "The total is 12 EUR too high."
        task = wait_for(lambda: api.get("/tasks", params={"status": "waiting"}).json()["items"])[0]
        assert task["queue_id"] == queue["id"]

        answer = agent.post(
            path,
            json={
                "channel": "email",
                "direction": "outbound",
                "author_kind": "agent",
                "body_text": "You are right: a corrected invoice is on its way.",
            },
        )
        assert answer.status_code == 201, answer.text
        sent = wait_for(lambda: relay.messages)[0]
        assert sent["From"] == "Acme Billing <billing@example.com>"
        assert sent["To"] == "grace@example.com"
        assert sent["In-Reply-To"] == f"<{message_id}>"
        assert f"<{message_id}>" in sent["References"].split()
        assert sent["Subject"] == f"Re: Invoice 2231 is wrong [#{conversation['id']}]"
        assert "corrected invoice" in sent.get_payload(decode=True).decode()
        assert wait_for(
            lambda: api.get(f"/messages/{answer.json()['id']}").json()["delivery_status"] == "sent"
        )
