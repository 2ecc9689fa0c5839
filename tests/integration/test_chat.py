"""The web chat's public side through the app: widgets and their origins, starting a
chat, writing once per client id, files, what a visitor may see, and the offline form
that becomes an e-mail conversation. (The browser and the WebSocket: tests/e2e.)"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from opencx.core.enums import Channel, InteractionState
from opencx.db.models import Interaction, Message, QueueStats, RoutingTask
from opencx.features.context import AppContext, transaction
from opencx.features.delivery.outbox import SEND_JOB, send_queued_message
from opencx.settings import Settings, SmtpOutSettings
from opencx.testing import RecordingJobQueue
from tests.conftest import Caller
from tests.e2e.conftest import free_port
from tests.integration.test_directory_api import API, assert_problem, post

SHOP = "https://shop.example.com"


async def widget(
    client: httpx.AsyncClient, admin: Caller, *, queue_id: int | None, **settings: Any
) -> dict[str, Any]:
    return await post(
        client,
        admin,
        "/channel-accounts",
        {
            "channel": "chat",
            "provider": "widget",
            "address": "shop",
            "name": "Shop",
            "queue_id": queue_id,
            "settings": settings,
        },
    )


async def chat_queue(client: httpx.AsyncClient, admin: Caller) -> dict[str, Any]:
    return await post(client, admin, "/queues", {"name": "Chat", "channel": "chat"})


async def start(client: httpx.AsyncClient, *, origin: str = SHOP, **form: Any) -> httpx.Response:
    body = {"name": "Ada", "email": "Ada@Example.com", "intent": "Parcel 48213?", **form}
    return await client.post("/chat/widgets/shop/chats", json=body, headers={"Origin": origin})


async def test_a_widget_is_found_by_key_and_speaks_the_pages_language(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    queue = await chat_queue(client, admin)
    await widget(client, admin, queue_id=queue["id"], title_fr="Parlons-en")
    english = (await client.get("/chat/widgets/shop", params={"lang": "en-GB"})).json()
    french = (await client.get("/chat/widgets/shop", params={"lang": "fr"})).json()
    assert (english["locale"], english["title"]) == ("en", "Chat with us")
    assert (french["locale"], french["title"]) == ("fr", "Parlons-en")
    assert french["texts"]["start"] == "Démarrer la discussion"
    assert english["online"] is False  # nobody who serves the queue is logged in
    missing = await client.get("/chat/widgets/nope")
    assert_problem(missing, 404, "opencx.not_found")
    nul = await client.get("/chat/widgets/no%00pe")  # PostgreSQL cannot compare a NUL
    assert_problem(nul, 404, "opencx.not_found")
    script = await client.get("/chat/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")


async def test_only_the_allowed_origins_may_use_a_widget(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    queue = await chat_queue(client, admin)
    await widget(client, admin, queue_id=queue["id"], allowed_origins=[SHOP])
    refused = await start(client, origin="https://evil.example.net")
    assert_problem(refused, 403, "opencx.permission_denied")
    assert (await admin_conversations(client, admin)) == []
    preflight = await client.options(
        "/chat/widgets/shop/chats",
        headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert (await start(client)).status_code == 201


async def admin_conversations(client: httpx.AsyncClient, admin: Caller) -> list[Any]:
    response = await client.get(f"{API}/conversations", headers=admin.headers)
    items: list[Any] = response.json()["items"]
    return items


async def test_a_chat_is_a_routed_conversation_and_a_resent_message_is_stored_once(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    queue = await chat_queue(client, admin)
    await widget(client, admin, queue_id=queue["id"])
    started = await start(client)
    assert started.status_code == 201, started.text
    chat = started.json()
    assert chat["mode"] == "chat"
    headers = {"X-Chat-Token": chat["token"]}

    (conversation,) = await admin_conversations(client, admin)
    assert conversation["queue_id"] == queue["id"]
    assert conversation["subject"] == "Parcel 48213?"
    tasks = (await client.get(f"{API}/tasks", headers=admin.headers)).json()["items"]
    assert len(tasks) == 1  # handed to the router (which these tests do not run)

    for _ in range(2):  # the browser resends after a lost connection
        sent = await client.post(
            "/chat/messages", json={"text": "Any news?", "client_id": "c1"}, headers=headers
        )
        assert sent.status_code == 201, sent.text
    history = (await client.get("/chat/history", headers=headers)).json()
    assert [(m["author"], m["text"], m["client_id"]) for m in history["messages"]] == [
        ("visitor", "Parcel 48213?", "start"),
        ("visitor", "Any news?", "c1"),
    ]
    # The router has not taken the task yet: no place in a queue to show.
    assert history["status"] == {
        "state": "waiting",
        "position": None,
        "estimated_wait_seconds": None,
    }
    later = await client.get(
        "/chat/history", params={"after": history["messages"][0]["id"]}, headers=headers
    )
    assert [m["text"] for m in later.json()["messages"]] == ["Any news?"]

    # The agent's answer reaches the visitor; the address is not proved, so the chat is
    # not the customer's who has it (test_chat_verification.py proves it).
    answer = await client.post(
        f"{API}/conversations/{conversation['id']}/messages",
        json={
            "channel": "chat",
            "direction": "outbound",
            "author_kind": "agent",
            "body_text": "On its way.",
        },
        headers=admin.headers,
    )
    assert answer.status_code == 201, answer.text
    messages = (await client.get("/chat/history", headers=headers)).json()["messages"]
    assert (messages[-1]["author"], messages[-1]["text"]) == ("agent", "On its way.")
    found = await client.get(
        f"{API}/customers",
        params={"identity": "email:ada@example.com"},
        headers=admin.headers,
    )
    assert found.json()["items"] == []


async def test_a_visitor_sees_only_their_chat_and_needs_a_good_token(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    queue = await chat_queue(client, admin)
    await widget(client, admin, queue_id=queue["id"])
    chat = (await start(client)).json()
    (conversation,) = await admin_conversations(client, admin)
    # The same conversation also holds an e-mail to the customer: not the chat's.
    email = await client.post(
        f"{API}/conversations/{conversation['id']}/messages",
        json={
            "channel": "email",
            "direction": "outbound",
            "author_kind": "agent",
            "body_text": "Your invoice is attached.",
        },
        headers=admin.headers,
    )
    assert email.status_code == 201, email.text
    history = await client.get("/chat/history", headers={"X-Chat-Token": chat["token"]})
    assert [m["text"] for m in history.json()["messages"]] == ["Parcel 48213?"]

    for token in (None, "forged", chat["token"][:-2] + "xx"):
        headers = {"X-Chat-Token": token} if token else {}
        refused = await client.get("/chat/history", headers=headers)
        assert_problem(refused, 401, "opencx.unauthenticated")
    bad_id = await client.post(
        "/chat/messages",
        json={"text": "hi", "client_id": "no spaces"},
        headers={"X-Chat-Token": chat["token"]},
    )
    assert_problem(bad_id, 422, "opencx.invalid_input")


async def test_a_waiting_visitor_sees_their_place_in_the_queue_then_their_agent(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext
) -> None:
    queue = await chat_queue(client, admin)
    await widget(client, admin, queue_id=queue["id"])
    ada = (await start(client)).json()
    bob = (await start(client, name="Bob", email="bob@example.org")).json()

    async def status(chat: dict[str, Any]) -> Any:
        headers = {"X-Chat-Token": chat["token"]}
        return (await client.get("/chat/history", headers=headers)).json()["status"]

    async def routed(priorities: dict[int, int]) -> None:
        """As the router writes it: both tasks waiting in the queue; one agent logged
        in who serves it, busy, two chats at once, 120 s a chat on average."""
        async with transaction(ctx) as session:
            for task in await session.scalars(select(RoutingTask)):
                task.status, task.queue_id = "waiting", queue["id"]
                interaction = await session.get(Interaction, task.interaction_id)
                assert interaction is not None
                task.priority = priorities[interaction.conversation_id]
                interaction.state = InteractionState.QUEUED
            stats = await session.get(QueueStats, queue["id"]) or QueueStats(queue_id=queue["id"])
            stats.free_agents, stats.slots, stats.average_handle_seconds = 0, 2, 120.0
            stats.updated_at = ctx.clock.now()
            session.add(stats)

    await routed({ada["conversation_id"]: 0, bob["conversation_id"]: 0})
    assert await status(ada) == {"state": "waiting", "position": 1, "estimated_wait_seconds": 60}
    assert await status(bob) == {"state": "waiting", "position": 2, "estimated_wait_seconds": 120}

    # A higher priority goes first, whoever came first.
    await routed({ada["conversation_id"]: 0, bob["conversation_id"]: 5})
    assert (await status(bob))["position"] == 1
    assert (await status(ada))["position"] == 2

    async with transaction(ctx) as session:  # an agent accepted Ada's chat
        interaction = await session.scalar(
            select(Interaction).where(Interaction.conversation_id == ada["conversation_id"])
        )
        assert interaction is not None
        interaction.state, interaction.agent_id = InteractionState.ACTIVE, admin.user.id
    assert await status(ada) == {"state": "connected", "agent": admin.user.display_name}

    async with transaction(ctx) as session:
        interaction = await session.scalar(
            select(Interaction).where(Interaction.conversation_id == bob["conversation_id"])
        )
        assert interaction is not None
        interaction.state = InteractionState.ABANDONED
    assert await status(bob) == {"state": "ended"}


async def test_a_visitor_sends_a_file(client: httpx.AsyncClient, admin: Caller) -> None:
    queue = await chat_queue(client, admin)
    await widget(client, admin, queue_id=queue["id"])
    chat = (await start(client)).json()
    headers = {"X-Chat-Token": chat["token"]}
    sent = await client.post(
        "/chat/files",
        files={"file": ("receipt.pdf", b"%PDF-1.4 receipt", "application/pdf")},
        data={"client_id": "f1"},
        headers=headers,
    )
    assert sent.status_code == 201, sent.text
    last = (await client.get("/chat/history", headers=headers)).json()["messages"][-1]
    (file,) = last["files"]
    assert (file["filename"], file["size"], file["content_type"]) == (
        "receipt.pdf",
        16,
        "application/pdf",
    )
    download = await client.get(f"/chat/files/{file['id']}", headers=headers)
    assert download.content == b"%PDF-1.4 receipt"
    assert "receipt.pdf" in download.headers["content-disposition"]

    # An agent uploads a label, then sends it with their answer: the visitor sees the
    # answer and its file together. Another visitor's token cannot read either file.
    (conversation,) = await admin_conversations(client, admin)
    uploaded = await client.post(
        f"{API}/conversations/{conversation['id']}/attachments",
        files={"file": ("label.png", b"\x89PNG label", "image/png")},
        headers=admin.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["message_id"] is None
    history = (await client.get("/chat/history", headers=headers)).json()["messages"]
    assert all(f["id"] != uploaded.json()["id"] for m in history for f in m["files"])
    waiting = await client.get(f"/chat/files/{uploaded.json()['id']}", headers=headers)
    assert_problem(waiting, 404, "opencx.not_found")
    answer = await post(
        client,
        admin,
        f"/conversations/{conversation['id']}/messages",
        {
            "channel": "chat",
            "direction": "outbound",
            "author_kind": "agent",
            "body_text": "Label",
            "attachment_ids": [uploaded.json()["id"]],
        },
    )
    assert [a["filename"] for a in answer["attachments"]] == ["label.png"]
    late = await client.post(
        f"{API}/messages/{answer['id']}/attachments",
        files={"file": ("late.png", b"\x89PNG late", "image/png")},
        headers=admin.headers,
    )
    assert_problem(late, 409, "opencx.conflict")
    (label,) = (await client.get("/chat/history", headers=headers)).json()["messages"][-1]["files"]
    assert (await client.get(f"/chat/files/{label['id']}", headers=headers)).content == (
        b"\x89PNG label"
    )
    other = (await start(client, email="bob@example.com")).json()
    for attachment_id in (file["id"], label["id"]):
        stolen = await client.get(
            f"/chat/files/{attachment_id}", headers={"X-Chat-Token": other["token"]}
        )
        assert_problem(stolen, 404, "opencx.not_found")
    empty = await client.post(
        "/chat/files",
        files={"file": ("empty.txt", b"", "text/plain")},
        data={"client_id": "f2"},
        headers=headers,
    )
    assert_problem(empty, 422, "opencx.invalid_input")


async def test_with_nobody_to_chat_the_form_becomes_an_email_conversation(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    mail_queue = await post(client, admin, "/queues", {"name": "Mail", "channel": "email"})
    await post(
        client,
        admin,
        "/channel-accounts",
        {
            "channel": "email",
            "provider": "smtp",
            "address": "help@shop.example.com",
            "name": "Shop help",
            "queue_id": mail_queue["id"],
        },
    )
    queue = await chat_queue(client, admin)
    await widget(client, admin, queue_id=queue["id"], offline_mailbox="help@shop.example.com")
    config = (await client.get("/chat/widgets/shop")).json()
    assert (config["online"], config["offline_email"]) == (False, True)
    no_email = await start(client, email=None)
    assert_problem(no_email, 422, "opencx.invalid_input")

    left = await start(client)
    assert left.status_code == 201, left.text
    assert (left.json()["mode"], left.json()["token"]) == ("email", None)
    (conversation,) = await admin_conversations(client, admin)
    assert conversation["queue_id"] == mail_queue["id"]
    messages = await client.get(
        f"{API}/conversations/{conversation['id']}/messages", headers=admin.headers
    )
    (message,) = messages.json()["items"]
    assert message["channel"] == "email"
    assert message["metadata"]["sender"] == "ada@example.com"
    assert message["metadata"]["recipient"] == "help@shop.example.com"


@pytest.mark.parametrize(
    ("given", "where"),
    [
        ({"invitations": [{"message_en": "Hi"}]}, "settings.invitations.0.message_fr"),
        ({"allowed_origins": "https://x"}, "settings.allowed_origins"),
        ({"colour": "blue"}, "settings.colour"),
    ],
)
async def test_widget_settings_are_checked(
    client: httpx.AsyncClient, admin: Caller, given: Any, where: str
) -> None:
    response = await client.post(
        f"{API}/channel-accounts",
        json={
            "channel": "chat",
            "provider": "widget",
            "address": "shop",
            "name": "Shop",
            "settings": given,
        },
        headers=admin.headers,
    )
    problem = assert_problem(response, 422, "opencx.invalid_input")
    assert problem["errors"][0]["field"] == where


async def test_a_sample_page_shows_the_widget_and_the_tag_to_embed(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    queue = await chat_queue(client, admin)
    await widget(client, admin, queue_id=queue["id"])
    page = await client.get("/chat/try/shop", params={"lang": "fr"})
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert '<script src="http://testserver/chat/widget.js" data-widget="shop" async>' in page.text
    assert "Placez la balise ci-dessous" in page.text
    assert_problem(await client.get("/chat/try/nope"), 404, "opencx.not_found")


async def test_a_visitor_gets_the_transcript_by_email_from_the_widgets_mailbox(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext, settings: Settings
) -> None:
    await post(
        client,
        admin,
        "/channel-accounts",
        {
            "channel": "email",
            "provider": "smtp",
            "address": "help@shop.example.com",
            "name": "Shop help",
        },
    )
    queue = await chat_queue(client, admin)
    await widget(client, admin, queue_id=queue["id"], offline_mailbox="help@shop.example.com")
    async with transaction(ctx) as session:  # as the router writes it: an agent is logged in
        session.add(QueueStats(queue_id=queue["id"], slots=2, updated_at=ctx.clock.now()))
    assert (await client.get("/chat/widgets/shop")).json()["transcripts"] is True
    chat = (await start(client)).json()
    assert chat["mode"] == "chat"
    headers = {"X-Chat-Token": await verified_token(client, ctx, chat)}
    answer = await client.post(
        f"{API}/conversations/{chat['conversation_id']}/messages",
        json={
            "channel": "chat",
            "direction": "outbound",
            "author_kind": "agent",
            "body_text": "On its way.",
        },
        headers=admin.headers,
    )
    assert answer.status_code == 201

    sent = await client.post(
        "/chat/transcript", json={"lang": "fr", "timezone": "Europe/Paris"}, headers=headers
    )
    assert sent.status_code == 202, sent.text
    assert sent.json() == {"email": "ada@example.com"}

    relay, port = Relay(), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.smtp_out = SmtpOutSettings(host="127.0.0.1", port=port, starttls=False)
        assert isinstance(ctx.jobs, RecordingJobQueue)
        for job in ctx.jobs.jobs:
            if job.task == SEND_JOB:
                await send_queued_message(ctx, job.args["message_id"])
    finally:
        controller.stop()
    (mail,) = [m for m in relay.messages if "Parcel" in m.get_content()]
    assert mail["To"] == "ada@example.com"
    assert mail["From"] == "Shop help <help@shop.example.com>"
    assert f"[#{chat['conversation_id']}]" in mail["Subject"]
    assert "Your chat transcript" not in mail["Subject"]  # written in French
    body = mail.get_content()
    assert "Parcel 48213?" in body
    assert "On its way." in body
    for _ in range(2):
        await client.post("/chat/transcript", json={}, headers=headers)
    refused = await client.post("/chat/transcript", json={}, headers=headers)
    assert_problem(refused, 409, "opencx.conflict")


async def verified_token(client: httpx.AsyncClient, ctx: AppContext, chat: dict[str, Any]) -> str:
    """The chat's token once the visitor typed the code e-mailed to them."""
    async with transaction(ctx) as session:
        sent = await session.scalar(
            select(Message.body_text)
            .where(Message.conversation_id == chat["conversation_id"])
            .where(Message.channel == Channel.EMAIL)
            .order_by(Message.id.desc())
        )
    code = re.search(r"\b\d{6}\b", sent or "")
    assert code, sent
    checked = await client.post(
        "/chat/verification/code",
        json={"code": code.group(0)},
        headers={"X-Chat-Token": chat["token"]},
    )
    assert checked.status_code == 200, checked.text
    token: str = checked.json()["token"]
    return token


class Relay:
    """A real SMTP server standing for the relay."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"
