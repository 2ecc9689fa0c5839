"""The agent's inbox views through the API: what mine, team, waiting and all hold and in
which order, what a line shows, partner-site isolation, pages, and a page's cost in
statements whatever its size."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opencx.core.enums import Role
from opencx.features.context import AppContext
from opencx.testing import FakeClock
from tests.conftest import Caller, MakeCaller
from tests.integration.inbox_helpers import (
    call,
    conversation,
    customer,
    inbox,
    inbox_ids,
    statements,
    write,
)
from tests.integration.test_routing_api import (
    Floor,
    agent_on,
    build_floor,
    handled_task,
    router,
    task_when,
)

__all__ = ["router"]  # the fixture, used by name

pytestmark = pytest.mark.timeout(60)


def at(clock: FakeClock) -> str:
    return clock.now().isoformat().replace("+00:00", "Z")


async def team(client: httpx.AsyncClient, admin: Caller, name: str, *members: Caller) -> int:
    made = await call(client, admin, "POST", "/teams", {"name": name}, expect=201)
    for member in members:
        await call(client, admin, "PATCH", f"/users/{member.user.id}", {"team_id": made["id"]})
    return int(made["id"])


async def test_mine_and_team_hold_what_their_agents_handle_newest_activity_first(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller, clock: FakeClock
) -> None:
    ann, ben, cid, dan = [await make_caller(Role.AGENT) for _ in range(4)]
    await team(client, admin, "Billing", ann, ben)
    await team(client, admin, "Sales", cid)
    alice = await customer(client, admin, "Alice Martin", ("email", "alice@example.com"))
    bruno = await customer(client, admin, "Bruno")
    invoice = await conversation(client, admin, alice, subject="Facture", assignee_id=ann.user.id)
    refund = await conversation(client, admin, bruno, assignee_id=ann.user.id)
    bens = await conversation(client, admin, bruno, assignee_id=ben.user.id)
    cids = await conversation(client, admin, alice, assignee_id=cid.user.id)
    nobodys = await conversation(client, admin, alice)
    created = at(clock)
    clock.advance(60)
    await write(client, admin, invoice, "Bonjour, ma facture est fausse.")
    clock.advance(60)
    await write(
        client, ann, refund, "Le remboursement part demain.", author="agent", channel="chat"
    )
    answered = at(clock)

    mine = await inbox(client, ann)
    assert [line["conversation_id"] for line in mine] == [refund, invoice]
    assert mine[0] == {
        "conversation_id": refund,
        "customer_id": bruno,
        "customer_name": "Bruno",
        "channels": ["chat"],
        "status": "open",
        "subject": "",
        "preview": "Le remboursement part demain.",
        "last_activity_at": answered,
        "last_author_kind": "agent",
        "assignee_id": ann.user.id,
        "assignee_name": ann.user.display_name,
        "queue_id": None,
        "queue_name": None,
        "snoozed_until": None,
        "waiting_since": None,
    }
    assert (mine[1]["preview"], mine[1]["last_author_kind"]) == (
        "Bonjour, ma facture est fausse.",
        "customer",
    )
    assert (mine[1]["channels"], mine[1]["subject"]) == (["email"], "Facture")
    # Equal activity: the newer conversation first.
    assert await inbox_ids(client, ann, view="team") == [refund, invoice, bens]
    assert await inbox_ids(client, ben, view="team") == [refund, invoice, bens]
    assert await inbox_ids(client, cid, view="team") == [cids]
    assert await inbox_ids(client, dan, view="team") == []
    everything = await inbox(client, admin, view="all")
    assert [line["conversation_id"] for line in everything] == [
        refund,
        invoice,
        nobodys,
        cids,
        bens,
    ]
    assert everything[2]["last_activity_at"] == created
    assert (everything[2]["assignee_id"], everything[2]["preview"]) == (None, "")

    await call(client, ann, "POST", f"/conversations/{invoice}/status", {"status": "closed"})
    assert await inbox_ids(client, ann) == [refund]
    assert await inbox_ids(client, admin, view="all", status="closed") == [invoice]
    assert await inbox_ids(client, admin, view="all", channel="chat") == [refund]


async def test_the_agent_of_a_live_task_has_it_and_keeps_it_once_answered(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller, router: None
) -> None:
    floor = await build_floor(client, admin, wrap_up_seconds=0)
    agent = await agent_on(client, make_caller, floor)
    colleague = await make_caller(Role.AGENT, site_id=floor.site_id)
    task = await handled_task(client, floor, agent)
    contact = await call(client, agent, "GET", f"/interactions/{task['interaction_id']}")
    conversation_id = contact["conversation_id"]

    [line] = await inbox(client, agent)
    assert line["conversation_id"] == conversation_id
    assert (line["assignee_id"], line["queue_id"], line["queue_name"]) == (
        agent.user.id,
        floor.queue_id,
        "Billing",
    )
    assert line["channels"] == ["chat"]
    assert await inbox_ids(client, colleague) == []

    await call(client, agent, "POST", f"/tasks/{task['id']}/complete")
    # No live task now: the agent who answered last still has the open conversation.
    assert await inbox_ids(client, agent) == [conversation_id]
    await call(
        client, agent, "POST", f"/conversations/{conversation_id}/status", {"status": "resolved"}
    )
    assert await inbox_ids(client, agent) == []


async def waiting_task(
    client: httpx.AsyncClient, floor: Floor, queue_id: int, name: str
) -> tuple[int, dict[str, Any]]:
    """A customer's chat, handed to routing in ``queue_id``: its conversation and task."""
    admin = floor.admin
    person = await customer(client, admin, name)
    conversation_id = await conversation(client, admin, person, queue_id=queue_id)
    interaction = await call(
        client,
        admin,
        "POST",
        f"/conversations/{conversation_id}/interactions",
        {"channel": "chat", "direction": "inbound"},
        expect=201,
    )
    body = {"interaction_id": interaction["id"]}
    task = await call(client, admin, "POST", "/tasks", body, expect=201)
    return conversation_id, await task_when(client, admin, task["id"], "waiting")


async def test_waiting_holds_the_tasks_of_the_queues_the_agent_serves_longest_wait_first(
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    clock: FakeClock,
    router: None,
) -> None:
    floor = await build_floor(client, admin)
    sales_skill = await call(client, admin, "POST", "/skills", {"name": "sales"}, expect=201)
    sales = await call(
        client,
        admin,
        "POST",
        "/queues",
        {
            "name": "Sales",
            "channel": "chat",
            "site_id": floor.site_id,
            "target_expression": "skills.sales >= 1",
        },
        expect=201,
    )
    biller = await agent_on(client, make_caller, floor, presence="not_ready")
    seller = await agent_on(client, make_caller, floor, billing=None, presence="not_ready")
    await call(
        client,
        admin,
        "PUT",
        f"/users/{seller.user.id}/skills",
        [{"skill_id": sales_skill["id"], "level": 2}],
    )
    first, first_task = await waiting_task(client, floor, floor.queue_id, "Ada")
    clock.advance(60)
    deal, _ = await waiting_task(client, floor, sales["id"], "Bob")
    clock.advance(60)
    second, _ = await waiting_task(client, floor, floor.queue_id, "Cy")

    lines = await inbox(client, biller, view="waiting")
    assert [line["conversation_id"] for line in lines] == [first, second]
    assert lines[0]["waiting_since"] == first_task["created_at"]
    assert lines[0]["queue_name"] == "Billing"
    assert await inbox_ids(client, seller, view="waiting") == [deal]
    # Not routed: an admin is shown every queue's waiting work.
    assert await inbox_ids(client, admin, view="waiting") == [first, deal, second]
    assert await inbox_ids(client, biller, view="waiting", q="cy") == [second]


async def test_a_partner_agent_sees_only_their_sites_conversations(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    partner_site = await call(
        client, admin, "POST", "/sites", {"name": "Dakar", "kind": "partner"}, expect=201
    )
    queue = await call(
        client,
        admin,
        "POST",
        "/queues",
        {"name": "Dakar chat", "channel": "chat", "site_id": partner_site["id"]},
        expect=201,
    )
    partner = await make_caller(Role.AGENT, site_id=partner_site["id"])
    insider = await make_caller(Role.AGENT)
    await team(client, admin, "Mixed", partner, insider)
    person = await customer(client, admin, "Zoé Lambert")
    theirs = await conversation(
        client, admin, person, queue_id=queue["id"], assignee_id=partner.user.id
    )
    # Handled by the partner agent, but on no site of theirs: not shown to them.
    hidden = await conversation(client, admin, person, assignee_id=partner.user.id)
    insiders = await conversation(client, admin, person, assignee_id=insider.user.id)

    assert await inbox_ids(client, partner) == [theirs]
    # Handled on their site by an agent of another: the agent's name is not theirs.
    await call(client, admin, "PATCH", f"/conversations/{theirs}", {"assignee_id": insider.user.id})
    [line] = await inbox(client, partner, view="all")
    assert (line["assignee_id"], line["assignee_name"]) == (insider.user.id, None)
    [line] = await inbox(client, insider, view="all", q=f"#{theirs}")
    assert line["assignee_name"] == insider.user.display_name
    await call(client, admin, "PATCH", f"/conversations/{theirs}", {"assignee_id": partner.user.id})
    assert await inbox_ids(client, partner, view="team") == [theirs]
    assert await inbox_ids(client, partner, view="all") == [theirs]
    assert await inbox_ids(client, partner, view="all", q="zoe") == [theirs]
    assert await inbox_ids(client, partner, view="all", q=f"#{hidden}") == []
    assert await inbox_ids(client, insider, view="team") == [insiders, hidden, theirs]
    response = await client.post(
        f"/api/v1/conversations/{hidden}/snooze",
        json={"until": "2026-01-06T09:00:00Z"},
        headers=partner.headers,
    )
    assert response.status_code == 404, response.text


async def test_pages_follow_each_other_and_a_forged_cursor_is_refused(
    client: httpx.AsyncClient, admin: Caller, clock: FakeClock
) -> None:
    person = await customer(client, admin, "Eve")
    made = []
    for _ in range(5):
        made.append(await conversation(client, admin, person))
        clock.advance(1)
    pages = []
    cursor = None
    while True:
        params: dict[str, Any] = {"view": "all", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await call(client, admin, "GET", "/inbox", params=params)
        pages.append([line["conversation_id"] for line in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [made[:2:-1], made[2:0:-1], made[:1]]

    for params in [{"cursor": "bm90IG9uZQ"}, {"view": "everything"}, {"limit": 0}]:
        response = await client.get("/api/v1/inbox", params=params, headers=admin.headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_page_costs_the_same_statements_whatever_its_size(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    clock: FakeClock,
) -> None:
    agent = await make_caller(Role.AGENT)
    await call(client, admin, "POST", "/queues", {"name": "Any", "channel": "chat"}, expect=201)
    person = await customer(client, admin, "Fay", ("email", "fay@example.com"))
    for n in range(12):
        made = await conversation(client, admin, person, assignee_id=agent.user.id)
        await write(client, admin, made, f"Question {n}")
        await write(client, agent, made, f"Answer {n}", author="agent", channel="chat")
        clock.advance(30)
    await inbox(client, agent)  # the token is known from now on

    costs = {}
    for view in ["mine", "all", "waiting"]:
        for limit in [1, 12]:
            with statements(ctx) as seen:
                params = {"view": view, "limit": limit}
                page = await call(client, agent, "GET", "/inbox", params=params)
            costs[view, limit] = len(inbox_reads(seen))
            assert len(page["items"]) == (0 if view == "waiting" else limit)
    assert costs["mine", 1] == costs["mine", 12] == 2  # the lines, their channels
    assert costs["all", 1] == costs["all", 12] == 2
    # Waiting also reads the agent's routing profile (4) and the queues.
    assert costs["waiting", 1] == costs["waiting", 12] == 6
    with statements(ctx) as seen:
        await call(client, agent, "GET", "/inbox", params={"view": "all", "q": "question fay"})
    assert len(inbox_reads(seen)) == 2


def inbox_reads(seen: list[str]) -> list[str]:
    """The statements of the inbox itself: not its transaction's BEGIN, nor the
    caller's authentication (their token, their site grants)."""
    auth = ("api_tokens", "site_grants")
    return [s for s in seen if not s.startswith("BEGIN") and not any(t in s for t in auth)]
