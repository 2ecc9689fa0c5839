"""Internal notes with @mentions and help requests to supervisors, through the API and
the live views: who may write, read and answer them, partner sites kept apart, the
conversation's timeline, and the customer who never sees any of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from opencx.core.enums import Role
from opencx.db.models import QueueStats
from opencx.features.context import AppContext, transaction
from opencx.testing import RecordingPublisher
from tests.conftest import Caller, MakeCaller
from tests.integration.test_chat import chat_queue, start, verified_token, widget
from tests.integration.test_directory_api import API, assert_problem, post
from tests.integration.test_routing_api import call
from tests.integration.test_websockets import Live, bearer
from tests.integration.test_websockets import live as live  # a fixture

pytestmark = pytest.mark.timeout(60)


@dataclass(frozen=True)
class Floors:
    """An internal site (Lyon) and a partner's (Dakar), a conversation on each."""

    lyon: int
    dakar: int
    lyon_conversation: int
    dakar_conversation: int


async def build_floors(client: httpx.AsyncClient, admin: Caller) -> Floors:
    sites = {}
    conversations = {}
    for name, kind in (("Lyon", "internal"), ("Dakar", "partner")):
        site = await post(client, admin, "/sites", {"name": name, "kind": kind})
        queue = await post(
            client,
            admin,
            "/queues",
            {"name": f"Chat {name}", "channel": "chat", "site_id": site["id"]},
        )
        customer = await post(client, admin, "/customers", {"display_name": f"Client {name}"})
        conversation = await post(
            client,
            admin,
            "/conversations",
            {"customer_id": customer["id"], "queue_id": queue["id"], "subject": "Colis"},
        )
        sites[name], conversations[name] = site["id"], conversation["id"]
    return Floors(sites["Lyon"], sites["Dakar"], conversations["Lyon"], conversations["Dakar"])


async def timeline(client: httpx.AsyncClient, caller: Caller, conversation_id: int) -> list[Any]:
    page = await call(client, caller, "GET", f"/conversations/{conversation_id}/timeline")
    items: list[Any] = page["items"]
    return items


# --- notes -------------------------------------------------------------------------------


async def test_a_note_mentions_only_people_who_can_read_the_conversation(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller, publisher: RecordingPublisher
) -> None:
    floors = await build_floors(client, admin)
    ana = await make_caller(Role.AGENT, site_id=floors.lyon)
    bob = await make_caller(Role.AGENT, site_id=floors.lyon)
    pat = await make_caller(Role.AGENT, site_id=floors.dakar)
    path = f"/conversations/{floors.lyon_conversation}/notes"

    body = {"body": "@bob the customer called twice", "mentions": [bob.user.id, bob.user.id]}
    note = await call(client, ana, "POST", path, body, expect=201)
    assert note == {
        "id": note["id"],
        "conversation_id": floors.lyon_conversation,
        "author_id": ana.user.id,
        "author_name": ana.user.display_name,
        "body": "@bob the customer called twice",
        "mentions": [bob.user.id],
        "transfer": False,
        "created_at": "2026-01-05T09:00:00Z",
    }
    [created] = [e for e in publisher.events if e.type == "note.created"]
    assert (created.entity_id, created.site_id, created.actor_user_id) == (
        note["id"],
        floors.lyon,
        ana.user.id,
    )
    assert created.payload == {
        "conversation_id": floors.lyon_conversation,
        "author_id": ana.user.id,
        "mentions": [bob.user.id],
        "transfer": False,
        "task_id": None,
    }  # the text stays out of the event log

    refused = await client.post(
        f"{API}{path}",
        json={"body": "see this", "mentions": [bob.user.id, pat.user.id, 999_999]},
        headers=ana.headers,
    )
    problem = assert_problem(refused, 422, "opencx.invalid_input")
    assert problem["user_ids"] == [pat.user.id, 999_999]
    assert problem["errors"][0]["field"] == "mentions"
    for bad in ({"body": "   "}, {"body": "x" * 2001}, {"body": "hi", "mentions": [0]}):
        assert_problem(
            await client.post(f"{API}{path}", json=bad, headers=ana.headers),
            422,
            "opencx.invalid_input",
        )

    assert (await call(client, bob, "GET", f"/notes/{note['id']}")) == note
    listed = await call(client, bob, "GET", path)
    assert listed["items"] == [note]
    *_, last = await timeline(client, bob, floors.lyon_conversation)
    assert last == {
        "kind": "note",
        "at": "2026-01-05T09:00:00Z",
        "interaction": None,
        "message": None,
        "note": note,
        "help_request": None,
    }
    # The partner's agent reads none of it, and writes none.
    await call(client, pat, "GET", f"/notes/{note['id']}", expect=404)
    await call(client, pat, "GET", path, expect=404)
    await call(client, pat, "POST", path, {"body": "hello"}, expect=404)


async def test_a_mentioned_agent_hears_of_the_note_live(live: Live) -> None:
    admin, admin_token = await live.caller("admin@example.com", Role.ADMIN)
    as_admin = Caller(admin, admin_token)
    floors = await build_floors(live.http, as_admin)
    ana, ana_token = await live.caller("ana@example.com", Role.AGENT, floors.lyon)
    _, bob_token = await live.caller("bob@example.com", Role.AGENT, floors.lyon)
    path = f"{API}/conversations/{floors.lyon_conversation}/notes"
    async with live.connect(f"/ws/agent?token={ana_token}") as ws:
        assert (await ws.receive_json())["seq"] == 0
        for mentions in ([], [ana.id]):  # only the second concerns her
            response = await live.http.post(
                path, json={"body": "Look at this", "mentions": mentions}, headers=bearer(bob_token)
            )
            assert response.status_code == 201, response.text
        message = await ws.receive_json()
        assert message["seq"] == 1
        assert message["event"]["type"] == "note.created"
        assert message["event"]["entity_id"] == response.json()["id"]
        assert message["event"]["payload"]["mentions"] == [ana.id]
        assert "body" not in message["event"]["payload"]


# --- help requests -------------------------------------------------------------------------


async def test_an_agent_asks_a_supervisor_of_their_site_who_answers_once(live: Live) -> None:
    admin, admin_token = await live.caller("admin@example.com", Role.ADMIN)
    floors = await build_floors(live.http, Caller(admin, admin_token))
    ana = Caller(*await live.caller("ana@example.com", Role.AGENT, floors.lyon))
    bob = Caller(*await live.caller("bob@example.com", Role.AGENT, floors.lyon))
    boss = Caller(*await live.caller("boss@example.com", Role.SUPERVISOR, floors.lyon))
    pboss = Caller(*await live.caller("pboss@example.com", Role.SUPERVISOR, floors.dakar))
    http = live.http
    async with (
        live.connect(f"/ws/agent?token={ana.token}") as agent_ws,
        live.connect(f"/ws/supervisor?token={boss.token}") as boss_ws,
        live.connect(f"/ws/supervisor?token={pboss.token}") as partner_ws,
    ):
        for ws in (agent_ws, boss_ws, partner_ws):
            snapshot = await ws.receive_json()
            assert snapshot.get("data", {}).get("help_requests", []) == []
        question = {"conversation_id": floors.lyon_conversation, "question": "Refund twice?"}
        asked = await call(http, ana, "POST", "/help-requests", question, expect=201)
        assert asked == {
            "id": asked["id"],
            "conversation_id": floors.lyon_conversation,
            "agent_id": ana.user.id,
            "question": "Refund twice?",
            "state": "open",
            "created_at": "2026-01-05T09:00:00Z",
            "answer": None,
            "answered_by": None,
            "answered_at": None,
        }
        told = await agent_ws.receive_json()
        assert (told["seq"], told["event"]["type"]) == (1, "help.requested")
        live_request = await boss_ws.receive_json()
        assert live_request["event"]["type"] == "help.requested"
        assert "question" not in live_request["event"]["payload"]
        assert live_request["details"] == {
            "id": asked["id"],
            "conversation_id": floors.lyon_conversation,
            "agent_id": ana.user.id,
            "site_id": floors.lyon,
            "question": "Refund twice?",
            "created_at": "2026-01-05T09:00:00+00:00",
        }

        # The partner's supervisor neither sees nor answers it; agents do not answer.
        await call(http, pboss, "GET", f"/help-requests/{asked['id']}", expect=404)
        assert (await call(http, pboss, "GET", "/help-requests"))["items"] == []
        answer_path = f"/help-requests/{asked['id']}/answer"
        await call(http, pboss, "POST", answer_path, {"answer": "No"}, expect=404)
        await call(http, bob, "POST", answer_path, {"answer": "No"}, expect=403)
        await call(http, bob, "GET", f"/help-requests/{asked['id']}", expect=404)
        await call(http, ana, "POST", "/help-requests", {**question, "question": " "}, expect=422)
        nowhere = {**question, "conversation_id": 999_999}
        refused = await http.post(f"{API}/help-requests", json=nowhere, headers=bob.headers)
        assert assert_problem(refused, 422, "opencx.invalid_input")["errors"][0]["field"] == (
            "conversation_id"
        )
        assert [
            r["id"]
            for r in (await call(http, boss, "GET", "/help-requests", params={"state": "open"}))[
                "items"
            ]
        ] == [asked["id"]]
        assert (await call(http, bob, "GET", "/help-requests"))["items"] == []

        answered = await call(http, boss, "POST", answer_path, {"answer": "Yes, once more."})
        assert (answered["state"], answered["answer"], answered["answered_by"]) == (
            "answered",
            "Yes, once more.",
            boss.user.id,
        )
        await call(http, boss, "POST", answer_path, {"answer": "Again"}, expect=409)
        back = await agent_ws.receive_json()
        assert (back["seq"], back["event"]["type"]) == (2, "help.answered")
        assert (await boss_ws.receive_json())["event"]["type"] == "help.answered"
        assert (await call(http, ana, "GET", f"/help-requests/{asked['id']}")) == answered
        assert (await call(http, boss, "GET", "/help-requests", params={"state": "open"}))[
            "items"
        ] == []

        # The partner's supervisor was told nothing: the next thing they hear is their own.
        await call(
            http, Caller(admin, admin_token), "PATCH", f"/sites/{floors.dakar}", {"name": "Dakar 2"}
        )
        assert (await partner_ws.receive_json())["event"]["entity_id"] == floors.dakar

    *_, last = await timeline(http, bob, floors.lyon_conversation)
    assert (last["kind"], last["help_request"]) == ("help_request", answered)
    async with live.connect(f"/ws/agent?token={ana.token}") as agent_ws:
        assert (await agent_ws.receive_json())["data"]["help_answers_pending"] == []


# --- what the customer sees ------------------------------------------------------------------


async def test_the_chat_visitor_never_sees_notes_nor_help_requests(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext, make_caller: MakeCaller
) -> None:
    await post(
        client,
        admin,
        "/channel-accounts",
        {
            "channel": "email",
            "provider": "smtp",
            "address": "help@shop.example.com",
            "name": "Help",
        },
    )
    queue = await chat_queue(client, admin)
    await widget(client, admin, queue_id=queue["id"], offline_mailbox="help@shop.example.com")
    async with transaction(ctx) as session:  # as the router writes it: an agent is logged in
        session.add(QueueStats(queue_id=queue["id"], slots=2, updated_at=ctx.clock.now()))
    chat = (await start(client)).json()
    assert chat["mode"] == "chat"
    conversation = chat["conversation_id"]
    agent = await make_caller(Role.AGENT)
    secret, question = "Customer seems angry, offer a voucher", "May I give a 20 EUR voucher?"
    await call(
        client, agent, "POST", f"/conversations/{conversation}/notes", {"body": secret}, expect=201
    )
    body = {"conversation_id": conversation, "question": question}
    await call(client, agent, "POST", "/help-requests", body, expect=201)
    answer = {
        "channel": "chat",
        "direction": "outbound",
        "author_kind": "agent",
        "body_text": "Hello!",
    }
    await call(client, agent, "POST", f"/conversations/{conversation}/messages", answer, expect=201)

    headers = {"X-Chat-Token": await verified_token(client, ctx, chat)}
    history = (await client.get("/chat/history", headers=headers)).json()
    shown = [m["text"] for m in history["messages"]]
    assert shown == ["Parcel 48213?", "Hello!"]
    sent = await client.post("/chat/transcript", json={"lang": "en"}, headers=headers)
    assert sent.status_code == 202, sent.text
    messages = (await call(client, admin, "GET", f"/conversations/{conversation}/messages"))[
        "items"
    ]
    [transcript] = [m for m in messages if "Hello!" in m["body_text"] and m["channel"] == "email"]
    for private in (secret, question):
        assert private not in transcript["body_text"]
        assert all(private not in m["body_text"] for m in messages)


async def test_merging_conversations_keeps_their_notes(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    customer = await post(client, admin, "/customers", {"display_name": "Ada"})
    first, second = [
        await post(client, admin, "/conversations", {"customer_id": customer["id"]})
        for _ in range(2)
    ]
    agent = await make_caller(Role.AGENT)
    note = await call(
        client,
        agent,
        "POST",
        f"/conversations/{second['id']}/notes",
        {"body": "Same parcel"},
        expect=201,
    )
    await call(
        client, agent, "POST", f"/conversations/{first['id']}/merge", {"source_id": second["id"]}
    )
    notes = (await call(client, agent, "GET", f"/conversations/{first['id']}/notes"))["items"]
    assert [(n["id"], n["conversation_id"]) for n in notes] == [(note["id"], first["id"])]


async def test_an_internal_supervisor_lists_every_sites_requests_a_partners_only_its_own(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    """An internal supervisor sees every site's requests; a partner's only theirs."""
    floors = await build_floors(client, admin)
    ana = await make_caller(Role.AGENT, site_id=floors.lyon)
    pat = await make_caller(Role.AGENT, site_id=floors.dakar)
    boss = await make_caller(Role.SUPERVISOR, site_id=floors.lyon)
    pboss = await make_caller(Role.SUPERVISOR, site_id=floors.dakar)
    asked = {}
    for who, conversation in ((ana, floors.lyon_conversation), (pat, floors.dakar_conversation)):
        body = {"conversation_id": conversation, "question": "?"}
        asked[who.user.id] = (await call(client, who, "POST", "/help-requests", body, expect=201))[
            "id"
        ]
    everything = await call(client, boss, "GET", "/help-requests")
    assert [r["id"] for r in everything["items"]] == [asked[ana.user.id], asked[pat.user.id]]
    theirs = await call(client, pboss, "GET", "/help-requests")
    assert [r["id"] for r in theirs["items"]] == [asked[pat.user.id]]
    await call(
        client, pboss, "POST", f"/help-requests/{asked[pat.user.id]}/answer", {"answer": "ok"}
    )
    bad = await client.get(f"{API}/help-requests", params={"state": "closed"}, headers=boss.headers)
    assert_problem(bad, 422, "opencx.invalid_input")
