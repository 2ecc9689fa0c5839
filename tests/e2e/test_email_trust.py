"""What a hostile sender can do with e-mail, over SMTP against a running server: a
Reply-To never redirects answers, a trusted relay's failed verdict keeps a message out of
the conversation its token names, and a new subject is a new conversation unless the
mailbox says otherwise."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServers, OpencxEnv, RunOpencx, free_port, wait_for
from tests.e2e.test_email_inbound import Sink, sink  # noqa: F401 (the relay fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

RELAY = "mx.example.org"
ADA = "ada@example.com"
MALLORY = "mallory@evil.example.net"


def mail(message_id: str, subject: str, body: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Ada Lovelace <{ADA}>"
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def send(smtp_port: int, *messages: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        for message in messages:
            smtp.send_message(message)


@contextmanager
def running(
    database_url: str,
    live_servers: LiveServers,
    opencx_env: OpencxEnv,
    run_opencx: RunOpencx,
    **settings: str,
) -> Iterator[tuple[httpx.Client, int]]:
    """A server with our SMTP intake, trusting ``RELAY``'s verdicts; its admin's API."""
    smtp_port = free_port()
    env = opencx_env(
        database_url,
        SMTP__PORT=str(smtp_port),
        EMAIL_AUTH__TRUSTED_AUTHSERV_IDS=f'["{RELAY}"]',
        **settings,
    )
    server = live_servers.start(env)
    admin = ["--email", "admin@example.com", "--role", "admin", "--password", "long enough"]
    run_opencx(["user", "create", *admin], env)
    token = run_opencx(["token", "create", "--user", "admin@example.com"], env).splitlines()[-1]
    with httpx.Client(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as api:
        yield api, smtp_port


def mailbox(api: httpx.Client, address: str, **fields: Any) -> None:
    queue = api.post("/queues", json={"name": address, "channel": "email"}).json()
    account = {
        "channel": "email",
        "provider": "smtp",
        "address": address,
        "name": "Acme Support",
        "queue_id": queue["id"],
        **fields,
    }
    created = api.post("/channel-accounts", json=account)
    assert created.status_code == 201, created.text


def conversations(api: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get("/conversations").json()["items"]
    return sorted(items, key=lambda c: c["id"])


def messages(api: httpx.Client, conversation_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get(f"/conversations/{conversation_id}/messages").json()[
        "items"
    ]
    return items


def test_a_spoofed_reply_to_receives_neither_the_answer_nor_the_acknowledgement(
    database_url: str,
    live_servers: LiveServers,
    opencx_env: OpencxEnv,
    run_opencx: RunOpencx,
    sink: tuple[Sink, int],  # noqa: F811
) -> None:
    relay, relay_port = sink
    relay_settings = {
        "SMTP_OUT__HOST": "127.0.0.1",
        "SMTP_OUT__PORT": str(relay_port),
        "SMTP_OUT__STARTTLS": "false",
    }
    with running(database_url, live_servers, opencx_env, run_opencx, **relay_settings) as (
        api,
        smtp_port,
    ):
        mailbox(api, "support@example.com", auto_ack_hours=48)
        send(smtp_port, mail("first@example.com", "Parcel 48213", "Where is my parcel?"))
        (conversation,) = conversations(api)
        first_ack = wait_for(lambda: relay.messages)[0]
        assert first_ack["To"] == ADA
        # The contact ends (a supervisor takes it out of the queue; the router owns its
        # state, so it goes through the task): the next message starts a new one, and so
        # a new acknowledgement.
        first = messages(api, conversation["id"])[0]  # then the acknowledgement
        (task,) = wait_for(
            lambda: [
                t
                for t in api.get("/tasks", params={"status": "waiting"}).json()["items"]
                if t["interaction_id"] == first["interaction_id"]
            ]
        )
        ended = api.post(f"/tasks/{task['id']}/cancel")
        assert ended.status_code == 200, ended.text

        # The attack: From the customer, Reply-To someone else, the conversation's token.
        send(
            smtp_port,
            mail(
                "forged@evil.example.net",
                f"Re: Parcel 48213 [#{conversation['id']}]",
                "Please send the new label to my other address.",
                Reply_To=MALLORY,
            ),
        )
        assert len(conversations(api)) == 1  # nothing proves it forged: it is threaded
        second_ack = wait_for(lambda: relay.messages[1:])[0]
        assert second_ack["Auto-Submitted"] == "auto-replied"
        assert second_ack["To"] == ADA

        answer = api.post(
            f"/conversations/{conversation['id']}/messages",
            json={
                "channel": "email",
                "direction": "outbound",
                "author_kind": "agent",
                "body_text": "Here is the new label.",
            },
        )
        assert answer.status_code == 201, answer.text
        sent = wait_for(lambda: relay.messages[2:])[0]
        assert sent["To"] == ADA
        assert all(MALLORY not in str(m["To"]) for m in relay.messages)

        forged = next(
            m
            for m in messages(api, conversation["id"])
            if m["provider_message_id"] == "forged@evil.example.net"
        )
        assert forged["sender_authentication"] == "none"
        assert forged["unconfirmed_reply_to"] == [MALLORY]

        # The agent sees the address as one to confirm, and may confirm it (audited).
        (customer,) = api.get("/customers", params={"identity": f"email:{ADA}"}).json()["items"]
        identities = api.get(f"/customers/{customer['id']}").json()["identities"]
        pending = [i for i in identities if i["value"] == MALLORY]
        assert [i["confirmed"] for i in pending] == [False]
        assert [i["confirmed"] for i in identities if i["value"] == ADA] == [True]
        confirmed = api.post(f"/customers/{customer['id']}/identities/{pending[0]['id']}/confirm")
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["confirmed"] is True
        audit = api.get("/audit", params={"action": "customer.identity_confirm"}).json()
        assert [entry["changes"]["value"] for entry in audit["items"]] == [MALLORY]
        # Confirmed, the Reply-To is where answers go.
        api.post(
            f"/conversations/{conversation['id']}/messages",
            json={
                "channel": "email",
                "direction": "outbound",
                "author_kind": "agent",
                "body_text": "Sent to your other address, as you asked.",
            },
        )
        assert wait_for(lambda: relay.messages[3:])[0]["To"] == MALLORY


def test_a_sender_the_trusted_relay_failed_is_flagged_and_not_threaded_by_its_token(
    database_url: str,
    live_servers: LiveServers,
    opencx_env: OpencxEnv,
    run_opencx: RunOpencx,
) -> None:
    with running(database_url, live_servers, opencx_env, run_opencx) as (api, smtp_port):
        mailbox(api, "support@example.com")
        send(smtp_port, mail("first@example.com", "Parcel 48213", "Where is my parcel?"))
        (conversation,) = conversations(api)
        token = f"[#{conversation['id']}]"
        failed = mail(
            "forged@evil.example.net",
            f"Re: Parcel 48213 {token}",
            "Cancel my order.",
            In_Reply_To="<first@example.com>",
        )
        failed["Authentication-Results"] = (
            f"{RELAY}; spf=pass smtp.mailfrom=evil.example.net; "
            "dkim=none; dmarc=fail (p=reject) header.from=example.com"
        )
        send(smtp_port, failed)
        first, apart = conversations(api)
        assert first["id"] == conversation["id"]
        assert [m["body_text"].strip() for m in messages(api, first["id"])] == [
            "Where is my parcel?"
        ]
        (flagged,) = messages(api, apart["id"])
        assert flagged["sender_authentication"] == "fail"
        assert "auth_failed" in flagged["metadata"]["flags"].split(",")
        assert RELAY in flagged["metadata"]["authentication_details"]

        # A field from a relay we do not trust is anyone's word: ignored.
        untrusted = mail("other@example.com", f"Re: Parcel 48213 {token}", "Any news?")
        untrusted["Authentication-Results"] = "mx.evil.example.net; dmarc=fail"
        send(smtp_port, untrusted)
        assert len(conversations(api)) == 2
        latest = messages(api, conversation["id"])[-1]
        assert latest["body_text"].strip() == "Any news?"
        assert latest["sender_authentication"] == "none"
        assert "flags" not in latest["metadata"]


def test_a_new_subject_is_a_new_conversation_unless_the_mailbox_continues_recent_ones(
    database_url: str,
    live_servers: LiveServers,
    opencx_env: OpencxEnv,
    run_opencx: RunOpencx,
) -> None:
    with running(database_url, live_servers, opencx_env, run_opencx) as (api, smtp_port):
        mailbox(api, "support@example.com")
        send(
            smtp_port,
            mail("p1@example.com", "Parcel 48213", "Where is my parcel?"),
            mail("i1@example.com", "Invoice 2231", "The total is wrong."),
            # The same matter again, from a client that drops the reply fields.
            mail("p2@example.com", "RE: Parcel 48213", "Any news?"),
        )
        parcel, invoice = conversations(api)
        assert (parcel["subject"], invoice["subject"]) == ("Parcel 48213", "Invoice 2231")
        assert len(messages(api, parcel["id"])) == 2
        assert len(messages(api, invoice["id"])) == 1

        mailbox(api, "sales@example.com", settings={"threading": "recent"})
        sales = []
        for n, subject in enumerate(("Quote for 40 chairs", "Delivery address")):
            message = mail(f"s{n}@example.com", subject, "Hello")
            message.replace_header("To", "sales@example.com")
            message.replace_header("From", "grace@example.com")
            sales.append(message)
        send(smtp_port, *sales)
        (quote,) = conversations(api)[2:]
        assert len(messages(api, quote["id"])) == 2
