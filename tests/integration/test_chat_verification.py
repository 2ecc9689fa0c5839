"""A chat that gives a known customer's e-mail address joins their history only once
the visitor shows the code sent there; agents see it unverified until then."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opencx.core.enums import Role
from opencx.core.events import EventType
from opencx.features.context import AppContext
from opencx.testing import RecordingPublisher
from opencx.web import create_app
from tests.conftest import Caller, MakeCaller
from tests.integration.local_server import serving
from tests.integration.test_chat import verified_token
from tests.integration.test_chat_limits import server as chat_server  # noqa: F401
from tests.integration.test_chat_limits import start
from tests.integration.test_directory_api import API


@pytest.fixture
def server(chat_server: str) -> str:  # noqa: F811
    return chat_server


@pytest.fixture
async def customer(ctx: AppContext, admin: Caller) -> dict[str, Any]:
    async with serving(create_app(ctx)) as url, httpx.AsyncClient(base_url=url) as http:
        created = await http.post(
            f"{API}/customers",
            json={
                "display_name": "Ada (real)",
                "identities": [{"kind": "email", "value": "ada@example.com"}],
            },
            headers=admin.headers,
        )
    assert created.status_code == 201, created.text
    found: dict[str, Any] = created.json()
    return found


async def first_message(http: httpx.AsyncClient, admin: Caller, conversation: int) -> Any:
    listed = await http.get(f"{API}/conversations/{conversation}/messages", headers=admin.headers)
    return listed.json()["items"][0]


async def conversation_of(http: httpx.AsyncClient, admin: Caller, conversation: int) -> Any:
    return (await http.get(f"{API}/conversations/{conversation}", headers=admin.headers)).json()


async def test_a_known_address_is_linked_only_once_the_code_is_shown(
    server: str,
    ctx: AppContext,
    admin: Caller,
    customer: dict[str, Any],
    publisher: RecordingPublisher,
) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        chat = (await start(http, visitor="192.0.2.7", email="Ada@example.com")).json()
        conversation = chat["conversation_id"]
        unproved = await conversation_of(http, admin, conversation)
        assert unproved["customer_id"] != customer["id"]
        first = await first_message(http, admin, conversation)
        assert first["metadata"]["email"] == "ada@example.com"
        assert first["metadata"]["email_verified"] == "false"

        headers = {"X-Chat-Token": chat["token"]}
        refused = await http.post("/chat/transcript", json={}, headers=headers)
        assert refused.status_code == 409
        wrong = await http.post("/chat/verification/code", json={"code": "000000"}, headers=headers)
        assert wrong.status_code == 422
        assert (await conversation_of(http, admin, conversation))["customer_id"] != customer["id"]

        token = await verified_token(http, ctx, chat)
        linked = await conversation_of(http, admin, conversation)
        assert linked["customer_id"] == customer["id"]
        assert (await first_message(http, admin, conversation))["metadata"][
            "email_verified"
        ] == "true"
        updated = [e for e in publisher.events if e.type is EventType.CONVERSATION_UPDATED]
        assert updated[-1].payload["email_verified"] is True
        later = await http.post(
            "/chat/messages",
            json={"text": "Still there?", "client_id": "later"},
            headers={"X-Chat-Token": token},
        )
        assert later.status_code == 201
        assert (await conversation_of(http, admin, conversation))["customer_id"] == customer["id"]
        sent = await http.post("/chat/transcript", json={}, headers={"X-Chat-Token": token})
        assert sent.status_code == 202


async def test_codes_cannot_be_guessed_for_long(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        chat = (await start(http, visitor="192.0.2.8", email="ada@example.com")).json()
        headers = {"X-Chat-Token": chat["token"]}
        statuses = []
        for n in range(7):
            guess = await http.post(
                "/chat/verification/code", json={"code": f"{n:06d}"}, headers=headers
            )
            statuses.append(guess.status_code)
    assert statuses[:5] == [422] * 5
    assert statuses[5:] == [429, 429]


async def test_agents_read_the_code_e_mail_without_its_code(
    server: str, make_caller: MakeCaller, admin: Caller
) -> None:
    agent = await make_caller(Role.AGENT)
    supervisor = await make_caller(Role.SUPERVISOR)
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        chat = (await start(http, visitor="192.0.2.9", email="ada@example.com")).json()
        conversation = chat["conversation_id"]
        path = f"{API}/conversations/{conversation}"

        def code_mail(items: list[dict[str, Any]]) -> dict[str, Any]:
            [found] = [m for m in items if m["metadata"].get("kind") == "chat_email_check"]
            return found

        as_admin = code_mail(
            (await http.get(f"{path}/messages", headers=admin.headers)).json()["items"]
        )
        code = as_admin["body_text"].rsplit(" ", 1)[-1]
        assert code.isdigit()
        assert len(code) == 6
        assert "withheld" not in as_admin["metadata"]
        for reader in (agent, supervisor):
            listed = (await http.get(f"{path}/messages", headers=reader.headers)).json()
            one = (
                await http.get(f"{API}/messages/{as_admin['id']}", headers=reader.headers)
            ).json()
            timeline = (await http.get(f"{path}/timeline", headers=reader.headers)).json()
            in_timeline = [e["message"] for e in timeline["items"] if e["kind"] == "message"]
            for seen in (code_mail(listed["items"]), one, code_mail(in_timeline)):
                assert seen["body_text"] == ""
                assert seen["body_html"] is None
                assert seen["metadata"]["withheld"] == "body"
                assert seen["metadata"]["to"] == "ada@example.com"
                assert code not in str(seen)
            customer = (await http.get(f"{path}", headers=reader.headers)).json()["customer_id"]
            overview = await http.get(
                f"{API}/customers/{customer}/overview", headers=reader.headers
            )
            assert code not in overview.text
