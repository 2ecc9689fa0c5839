"""Live views: snapshots converge with events, and the WebSocket protocol end to end
through the ASGI app (docs/realtime.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from base64 import b64encode
from collections.abc import AsyncIterator
from datetime import timedelta
from types import TracebackType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from itsdangerous import TimestampSigner

from opencx.core.enums import Channel, Direction, InteractionState, PresenceState, Role, SiteKind
from opencx.core.errors import NotFound
from opencx.core.events import DomainEvent, EventType
from opencx.core.live_views import (
    AgentView,
    SnapshotMark,
    SupervisorView,
    View,
    WorkState,
    apply,
    relevant,
    view_json,
)
from opencx.core.permissions import Principal
from opencx.core.routing.model import SiteState
from opencx.features.auth import create_api_token, end_session, list_api_tokens, start_session
from opencx.features.chat.visitors import publish_typing
from opencx.features.context import AppContext
from opencx.features.conversations.conversations import (
    ConversationCreate,
    ConversationOut,
    create_conversation,
)
from opencx.features.conversations.help_requests import (
    HelpAnswer,
    HelpRequestCreate,
    answer_help_request,
    ask_for_help,
)
from opencx.features.conversations.interactions import (
    InteractionCreate,
    InteractionOut,
    StateChange,
    change_interaction_state,
    create_interaction,
)
from opencx.features.customers.schemas import CustomerCreate, CustomerDetail
from opencx.features.customers.service import create_customer
from opencx.features.directory.queues import QueueCreate, QueueOut, create_queue
from opencx.features.directory.sites import SiteCreate, SiteUpdate, create_site, update_site
from opencx.features.live import read_agent_view, read_details, read_supervisor_view
from opencx.features.routing.engine import routing_service
from opencx.features.routing.insight import SiteRoutingUpdate, set_site_routing_state
from opencx.features.routing.tasks import TaskCreate, create_task
from opencx.features.users.presence import PresenceUpdate, set_agent_presence
from opencx.features.users.service import UserCreate, UserOut, create_user_as_system
from opencx.realtime.bus import InProcessBus
from opencx.testing import FakeClock, RecordingPublisher
from opencx.web import create_app
from tests.conftest import Caller, MakeCaller
from tests.integration.test_routing_api import (
    Floor,
    agent_on,
    build_floor,
    call,
    offers,
    task_when,
)
from tests.integration.test_routing_api import router as router  # a fixture

pytestmark = pytest.mark.timeout(60)


async def replay(
    ctx: AppContext, view: View, mark: SnapshotMark, events: list[DomainEvent], viewer: Principal
) -> View:
    """What a client holds: the snapshot, then each event the server would send, with
    the details the server would send beside it."""
    for event in events:
        if event.id is not None and mark.covers(event.id):
            continue
        if relevant(view, event, viewer):
            view = apply(view, event, await read_details(ctx, view, event))
            assert not view.needs_resync, event
    return view


async def user(ctx: AppContext, email: str, role: Role, site_id: int | None = None) -> UserOut:
    data = UserCreate(email=email, role=role, site_id=site_id)  # tokens only: no hashing
    return await create_user_as_system(ctx, data)


async def system_admin(ctx: AppContext) -> Principal:
    """An admin to make changes as (the event log records who acted)."""
    found = await user(ctx, "root@example.com", Role.ADMIN)
    return Principal(user_id=found.id, role=Role.ADMIN)


async def presence(ctx: AppContext, user_id: int, state: str, reason: str | None = None) -> None:
    """As the agent themselves (``presence.set_own``)."""
    me = Principal(user_id=user_id, role=Role.AGENT)
    await set_agent_presence(
        ctx, me, user_id, PresenceUpdate(state=PresenceState(state), reason=reason)
    )


# --- convergence: stale snapshot + events == fresh snapshot ------------------------------


async def test_supervisor_views_converge(
    ctx: AppContext, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    admin = await system_admin(ctx)
    lyon = await create_site(ctx, admin, SiteCreate(name="Lyon"))
    dakar = await create_site(ctx, admin, SiteCreate(name="Dakar", kind=SiteKind.PARTNER))
    ana = await user(ctx, "ana@example.com", Role.AGENT, lyon.id)
    bob = await user(ctx, "bob@example.com", Role.AGENT, dakar.id)
    boss = await user(ctx, "boss@example.com", Role.SUPERVISOR, lyon.id)
    partner_boss = await user(ctx, "pboss@example.com", Role.SUPERVISOR, dakar.id)
    await presence(ctx, ana.id, "available")
    internal = Principal(user_id=boss.id, role=Role.SUPERVISOR, site_id=lyon.id)
    partner = Principal(
        user_id=partner_boss.id, role=Role.SUPERVISOR, site_id=dakar.id, site_kind=SiteKind.PARTNER
    )
    stale = {p: await read_supervisor_view(ctx, p) for p in (internal, partner)}

    clock.advance(30)
    await presence(ctx, ana.id, "not_ready", "break")
    await presence(ctx, bob.id, "available")
    clock.advance(30)
    await presence(ctx, bob.id, "not_ready", "lunch")
    await presence(ctx, partner_boss.id, "available")
    await update_site(ctx, admin, lyon.id, SiteUpdate(name="Lyon Part-Dieu"))
    await update_site(ctx, admin, dakar.id, SiteUpdate(timezone="Africa/Dakar"))
    await create_site(ctx, admin, SiteCreate(name="Porto", kind=SiteKind.PARTNER))
    clock.advance(30)
    await presence(ctx, ana.id, "offline")

    for viewer, (view, mark) in stale.items():
        # Every event since the start, including those the snapshot already reflects.
        replayed = await replay(ctx, view, mark, publisher.events, viewer)
        fresh, _ = await read_supervisor_view(ctx, viewer)
        assert replayed == fresh
        assert replayed != view
    partner_view, _ = await read_supervisor_view(ctx, partner)
    assert sorted(partner_view.agents) == [bob.id, partner_boss.id]
    assert sorted(partner_view.sites) == [dakar.id]


async def test_queues_converge_and_a_partner_supervisor_sees_only_their_sites(
    ctx: AppContext, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    """Contacts queued, offered and ended by hand in two sites' queues: stale views plus
    events equal fresh ones; the partner's shows their queue alone, and they may not
    steer the other site."""
    admin = await system_admin(ctx)
    lyon = await create_site(ctx, admin, SiteCreate(name="Lyon"))
    dakar = await create_site(ctx, admin, SiteCreate(name="Dakar", kind=SiteKind.PARTNER))
    boss = await user(ctx, "boss@example.com", Role.SUPERVISOR, lyon.id)
    partner_boss = await user(ctx, "pboss@example.com", Role.SUPERVISOR, dakar.id)
    internal = Principal(user_id=boss.id, role=Role.SUPERVISOR, site_id=lyon.id)
    partner = Principal(
        user_id=partner_boss.id, role=Role.SUPERVISOR, site_id=dakar.id, site_kind=SiteKind.PARTNER
    )
    contacts: dict[int, list[int]] = {}
    for site in (lyon, dakar):
        queue = await create_queue(
            ctx, admin, QueueCreate(name=f"Chat {site.name}", channel=Channel.CHAT, site_id=site.id)
        )
        customer = await create_customer(ctx, admin, CustomerCreate(display_name="Ada"))
        conversation = await create_conversation(
            ctx, admin, ConversationCreate(customer_id=customer.id, queue_id=queue.id)
        )
        contacts[queue.id] = []
        for _ in range(2):
            made = await create_interaction(
                ctx,
                admin,
                conversation.id,
                InteractionCreate(
                    channel=Channel.CHAT, direction=Direction.INBOUND, queue_id=queue.id
                ),
            )
            contacts[queue.id].append(made.id)
    lyon_queue, dakar_queue = sorted(contacts)
    first = contacts[lyon_queue][0]
    await change_interaction_state(ctx, admin, first, StateChange(state=InteractionState.QUEUED))
    stale = {p: await read_supervisor_view(ctx, p) for p in (internal, partner)}

    clock.advance(10)
    for interaction_id in (contacts[lyon_queue][1], *contacts[dakar_queue]):
        await change_interaction_state(
            ctx, admin, interaction_id, StateChange(state=InteractionState.QUEUED)
        )
    clock.advance(10)
    await change_interaction_state(ctx, admin, first, StateChange(state=InteractionState.ACTIVE))
    await change_interaction_state(
        ctx, admin, contacts[dakar_queue][0], StateChange(state=InteractionState.ABANDONED)
    )

    for viewer, (view, mark) in stale.items():
        replayed = await replay(ctx, view, mark, publisher.events, viewer)
        fresh, _ = await read_supervisor_view(ctx, viewer)
        assert replayed == fresh
        assert replayed != view
    internal_view, _ = await read_supervisor_view(ctx, internal)
    assert isinstance(internal_view, SupervisorView)
    assert sorted(internal_view.queues) == [lyon_queue, dakar_queue]
    assert sorted(internal_view.waiting) == [contacts[lyon_queue][1], contacts[dakar_queue][1]]
    partner_view, _ = await read_supervisor_view(ctx, partner)
    assert list(partner_view.queues) == [dakar_queue]
    [(waiting_id, waiting)] = partner_view.waiting.items()
    assert (waiting_id, waiting.queue_id) == (contacts[dakar_queue][1], dakar_queue)
    assert waiting.since == clock.now() - timedelta(seconds=10)
    json_queues = view_json(partner_view)["queues"]
    assert [q["name"] for q in json_queues] == ["Chat Dakar"]
    with pytest.raises(NotFound):
        await set_site_routing_state(
            ctx, partner, lyon.id, SiteRoutingUpdate(state=SiteState.CLOSED)
        )


async def test_help_requests_converge_for_supervisors_and_the_asking_agent(
    ctx: AppContext, publisher: RecordingPublisher
) -> None:
    admin = await system_admin(ctx)
    lyon = await create_site(ctx, admin, SiteCreate(name="Lyon"))
    dakar = await create_site(ctx, admin, SiteCreate(name="Dakar", kind=SiteKind.PARTNER))
    ana = await user(ctx, "ana@example.com", Role.AGENT, lyon.id)
    boss = await user(ctx, "boss@example.com", Role.SUPERVISOR, lyon.id)
    partner_boss = await user(ctx, "pboss@example.com", Role.SUPERVISOR, dakar.id)
    asking = Principal(user_id=ana.id, role=Role.AGENT, site_id=lyon.id)
    internal = Principal(user_id=boss.id, role=Role.SUPERVISOR, site_id=lyon.id)
    partner = Principal(
        user_id=partner_boss.id, role=Role.SUPERVISOR, site_id=dakar.id, site_kind=SiteKind.PARTNER
    )
    conversations = {}
    for site in (lyon, dakar):
        queue = await create_queue(
            ctx, admin, QueueCreate(name=f"Chat {site.name}", channel=Channel.CHAT, site_id=site.id)
        )
        customer = await create_customer(ctx, admin, CustomerCreate(display_name="Ada"))
        created = await create_conversation(
            ctx, admin, ConversationCreate(customer_id=customer.id, queue_id=queue.id)
        )
        conversations[site.id] = created.id
    first = await ask_for_help(
        ctx, asking, HelpRequestCreate(conversation_id=conversations[lyon.id], question="One?")
    )
    stale = {p: await read_supervisor_view(ctx, p) for p in (internal, partner)}
    stale_agent = await read_agent_view(ctx, asking)

    second = await ask_for_help(
        ctx, asking, HelpRequestCreate(conversation_id=conversations[dakar.id], question="Two?")
    )
    await ask_for_help(
        ctx, asking, HelpRequestCreate(conversation_id=conversations[lyon.id], question="Three?")
    )
    await answer_help_request(ctx, internal, first.id, HelpAnswer(answer="Yes"))
    await answer_help_request(ctx, partner, second.id, HelpAnswer(answer="No"))

    for viewer, (view, mark) in [*stale.items(), (asking, stale_agent)]:
        replayed = await replay(ctx, view, mark, publisher.events, viewer)
        fresh = (
            await read_agent_view(ctx, viewer)
            if viewer is asking
            else await read_supervisor_view(ctx, viewer)
        )[0]
        assert replayed == fresh
        # The partner's one request came and went: their view is back where it was.
        assert (replayed != view) is (viewer is not partner)
    internal_view, _ = await read_supervisor_view(ctx, internal)
    assert [r.question for r in internal_view.help_requests.values()] == ["Three?"]
    partner_view, _ = await read_supervisor_view(ctx, partner)
    assert partner_view.help_requests == {}
    agent_view, _ = await read_agent_view(ctx, asking)
    assert len(agent_view.help_pending) == 1


async def test_agent_view_converges(
    ctx: AppContext, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    ana = await user(ctx, "ana@example.com", Role.AGENT)
    bob = await user(ctx, "bob@example.com", Role.AGENT)
    viewer = Principal(user_id=ana.id, role=Role.AGENT)
    view, mark = await read_agent_view(ctx, viewer)
    moves = [
        (("available", None), ("not_ready", "admin")),
        (("not_ready", "break"), ("available", None)),
        (("not_ready", "lunch"), ("offline", None)),
    ]
    for mine, theirs in moves:
        clock.advance(10)
        await presence(ctx, ana.id, *mine)
        await presence(ctx, bob.id, *theirs)
    replayed = await replay(ctx, view, mark, publisher.events, viewer)
    fresh, _ = await read_agent_view(ctx, viewer)
    assert isinstance(replayed, AgentView)
    assert replayed == fresh
    assert replayed.me.reason == "lunch"


async def test_new_users_make_the_view_resync(
    ctx: AppContext, publisher: RecordingPublisher
) -> None:
    boss = await user(ctx, "boss@example.com", Role.SUPERVISOR)
    viewer = Principal(user_id=boss.id, role=Role.SUPERVISOR)
    view, mark = await read_supervisor_view(ctx, viewer)
    await user(ctx, "new@example.com", Role.AGENT)
    created = [e for e in publisher.events if not mark.covers(e.id or 0)]
    assert len(created) == 1
    assert relevant(view, created[0], viewer)
    assert apply(view, created[0]).needs_resync
    fresh, _ = await read_supervisor_view(ctx, viewer)
    assert isinstance(fresh, SupervisorView)
    assert len(fresh.agents) == len(view.agents) + 1


async def chat_for(client: httpx.AsyncClient, floor: Floor, customer: dict[str, Any]) -> int:
    """A chat of ``customer`` (a customer's body) waiting in the floor's queue, routed."""
    admin = floor.admin
    created = await call(client, admin, "POST", "/customers", customer, expect=201)
    body = {"customer_id": created["id"], "queue_id": floor.queue_id, "subject": "Colis"}
    conversation = await call(client, admin, "POST", "/conversations", body, expect=201)
    interaction = await call(
        client,
        admin,
        "POST",
        f"/conversations/{conversation['id']}/interactions",
        {"channel": "chat", "direction": "inbound"},
        expect=201,
    )
    task = await call(
        client, admin, "POST", "/tasks", {"interaction_id": interaction["id"]}, expect=201
    )
    return int(task["id"])


async def pending_offer(
    client: httpx.AsyncClient, floor: Floor, agent: Caller, task_id: int
) -> int:
    reserved = await task_when(client, floor.admin, task_id, "reserved")
    assert reserved["worker_id"] == agent.user.id
    [offer] = [o for o in await offers(client, agent, state="pending") if o["task_id"] == task_id]
    return int(offer["id"])


@pytest.mark.usefixtures("router")
async def test_the_agent_desk_converges_through_routing(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    publisher: RecordingPublisher,
) -> None:
    """Offers with their customer and queue, work in hand held, resumed, wrapped up,
    handed on with a note, rejected and ended: events applied to stale views equal
    fresh ones, for the agent who hands on and the one who takes over."""
    floor = await build_floor(client, admin)
    ana = await agent_on(client, make_caller, floor)
    bob = await agent_on(client, make_caller, floor, presence="not_ready")
    viewers = [Principal(user_id=who.user.id, role=Role.AGENT) for who in (ana, bob)]
    stale = [await read_agent_view(ctx, viewer) for viewer in viewers]
    supervisor = Principal(user_id=admin.user.id, role=Role.ADMIN)
    supervised = await read_supervisor_view(ctx, supervisor)

    first = await chat_for(
        client, floor, {"identities": [{"kind": "email", "value": "zoe@example.com"}]}
    )
    await call(
        client,
        ana,
        "POST",
        f"/reservations/{await pending_offer(client, floor, ana, first)}/accept",
    )
    interaction = (await call(client, ana, "GET", f"/tasks/{first}"))["interaction_id"]
    for state in ("held", "active", "held"):
        path = f"/interactions/{interaction}/state"
        await call(client, ana, "POST", path, {"state": state})
    held, _ = await read_agent_view(ctx, viewers[0])
    assert held.conversations[first].state is WorkState.HELD
    await call(client, ana, "POST", f"/tasks/{first}/complete")  # from hold: wraps up
    wrapping, _ = await read_agent_view(ctx, viewers[0])
    assert wrapping.conversations[first].state is WorkState.WRAP_UP

    second = await chat_for(client, floor, {"display_name": "Marc"})
    await call(
        client,
        ana,
        "POST",
        f"/reservations/{await pending_offer(client, floor, ana, second)}/accept",
    )
    conversation = (await call(client, ana, "GET", f"/interactions/{interaction}"))[
        "conversation_id"
    ]
    message = {
        "body_text": "Bonjour",
        "channel": "chat",
        "direction": "outbound",
        "author_kind": "agent",
    }
    await call(client, ana, "POST", f"/conversations/{conversation}/messages", message, expect=201)
    await call(client, bob, "PUT", f"/users/{bob.user.id}/presence", {"state": "available"})
    handover = {"worker_ids": [bob.user.id], "note": "Client VIP, colis perdu deux fois"}
    await call(client, ana, "POST", f"/tasks/{second}/transfer", handover)
    bob_offer = await pending_offer(client, floor, bob, second)
    midway, _ = await read_agent_view(ctx, viewers[1])
    assert midway.offers[bob_offer].transfer_note == handover["note"]
    assert (midway.offers[bob_offer].customer_name, midway.offers[bob_offer].subject) == (
        "Marc",
        "Colis",
    )
    await call(client, bob, "POST", f"/reservations/{bob_offer}/accept")
    reason = {"state": "not_ready", "reason": "break"}
    await call(client, bob, "PUT", f"/users/{bob.user.id}/presence", reason)

    third = await chat_for(client, floor, {"display_name": "Léa"})
    await call(
        client,
        ana,
        "POST",
        f"/reservations/{await pending_offer(client, floor, ana, third)}/reject",
    )
    fourth = await chat_for(client, floor, {"display_name": "Paul"})
    await pending_offer(client, floor, ana, fourth)  # left pending
    await call(client, ana, "POST", f"/tasks/{first}/end-wrap-up")

    for viewer, (view, mark) in zip(viewers, stale, strict=True):
        replayed = await replay(ctx, view, mark, publisher.events, viewer)
        fresh, _ = await read_agent_view(ctx, viewer)
        assert replayed == fresh
        assert replayed != view
    # The supervisor's queues and agents' contacts in hand converge the same way.
    replayed = await replay(ctx, *supervised, publisher.events, supervisor)
    fresh_floor, _ = await read_supervisor_view(ctx, supervisor)
    assert replayed == fresh_floor
    assert isinstance(fresh_floor, SupervisorView)
    # The third (declined, queued again) and the fourth (offered to Ana, not taken) wait.
    assert len(fresh_floor.waiting) == 2
    assert {c.queue_id for c in fresh_floor.waiting.values()} == {floor.queue_id}
    assert fresh_floor.handling == {second: bob.user.id}
    mine, _ = await read_agent_view(ctx, viewers[0])
    assert isinstance(mine, AgentView)
    assert [o.task_id for o in mine.offers.values()] == [fourth]
    assert mine.conversations == {}  # wrapped up, handed on
    theirs, _ = await read_agent_view(ctx, viewers[1])
    [taken] = theirs.conversations.values()
    assert (taken.task_id, taken.state, taken.customer_name) == (second, WorkState.ACTIVE, "Marc")


@pytest.mark.usefixtures("router")
async def test_a_wrap_up_shows_until_when_and_a_customer_without_a_name_by_their_address(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    publisher: RecordingPublisher,
) -> None:
    floor = await build_floor(client, admin, wrap_up_seconds=45)
    ana = await agent_on(client, make_caller, floor)
    viewer = Principal(user_id=ana.user.id, role=Role.AGENT)
    stale, mark = await read_agent_view(ctx, viewer)
    customer = {
        "identities": [
            {"kind": "web", "value": "visitor-81"},
            {"kind": "phone", "value": "+33612345678"},
        ]
    }
    task_id = await chat_for(client, floor, customer)
    await call(
        client,
        ana,
        "POST",
        f"/reservations/{await pending_offer(client, floor, ana, task_id)}/accept",
    )
    await call(client, ana, "POST", f"/tasks/{task_id}/complete")
    fresh, _ = await read_agent_view(ctx, viewer)
    assert await replay(ctx, stale, mark, publisher.events, viewer) == fresh
    data = view_json(fresh)["conversations"]
    assert [(c["task_id"], c["state"], c["customer_name"]) for c in data] == [
        (task_id, "wrap_up", "+33612345678")
    ]
    assert data[0]["since"] == "2026-01-05T09:00:00+00:00"
    assert data[0]["wrap_up_until"] == "2026-01-05T09:00:45+00:00"


# --- the WebSocket protocol through the ASGI app --------------------------------------

WAIT = 5.0  # seconds; a message that does not come within this fails the test


class Closed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


class AsgiWebSocket:
    """A WebSocket client speaking ASGI to the app in this event loop."""

    def __init__(self, app: FastAPI, url: str, headers: dict[str, str] | None = None) -> None:
        path, _, query = url.partition("?")
        raw_headers = [(b"host", b"testserver")]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "http_version": "1.1",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "subprotocols": [],
            "state": {},
        }
        self._app = app
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AsgiWebSocket:
        self._task = asyncio.create_task(
            self._app(self.scope, self._to_app.get, self._from_app.put)
        )
        await self._to_app.put({"type": "websocket.connect"})
        accepted = await asyncio.wait_for(self._from_app.get(), WAIT)
        assert accepted["type"] == "websocket.accept", accepted
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        assert self._task is not None
        await asyncio.wait_for(self._task, WAIT)

    async def receive_json(self) -> Any:
        message = await asyncio.wait_for(self._from_app.get(), WAIT)
        if message["type"] == "websocket.close":
            raise Closed(message["code"])
        return json.loads(message["text"])

    async def send_text(self, text: str) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": text})

    async def send_json(self, data: Any) -> None:
        await self.send_text(json.dumps(data))


class Live:
    """The app over a real in-process bus, with HTTP and WebSocket clients."""

    def __init__(self, ctx: AppContext, http: httpx.AsyncClient, app: FastAPI) -> None:
        self.ctx = ctx
        self.http = http
        self.app = app
        self._admin: Principal | None = None

    def connect(self, url: str, headers: dict[str, str] | None = None) -> AsgiWebSocket:
        return AsgiWebSocket(self.app, url, headers)

    async def caller(
        self, email: str, role: Role, site_id: int | None = None
    ) -> tuple[UserOut, str]:
        created = await user(self.ctx, email, role, site_id)
        return created, await create_api_token(self.ctx, email=email)

    async def site(self, name: str, kind: SiteKind = SiteKind.INTERNAL) -> int:
        if self._admin is None:
            self._admin = await system_admin(self.ctx)
        return (await create_site(self.ctx, self._admin, SiteCreate(name=name, kind=kind))).id

    async def close_code(self, url: str, headers: dict[str, str] | None = None) -> int:
        async with self.connect(url, headers) as ws:
            with pytest.raises(Closed) as closed:
                await ws.receive_json()
        return closed.value.code


@pytest.fixture
async def live(ctx: AppContext) -> AsyncIterator[Live]:
    ctx.publisher = InProcessBus()
    app = create_app(ctx)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield Live(ctx, http, app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_supervisor_gets_a_snapshot_then_numbered_events(live: Live) -> None:
    site_id = await live.site("Lyon")
    agent, agent_token = await live.caller("ana@example.com", Role.AGENT, site_id)
    _, token = await live.caller("boss@example.com", Role.SUPERVISOR, site_id)
    _, admin_token = await live.caller("admin@example.com", Role.ADMIN)
    async with live.connect(f"/ws/supervisor?token={token}") as ws:
        snapshot = await ws.receive_json()
        assert snapshot["type"] == "snapshot"
        assert snapshot["seq"] == 0
        assert "resync" not in snapshot
        assert snapshot["data"]["sites"] == [
            {"id": site_id, "name": "Lyon", "kind": "internal", "is_open": True, "state": "open"}
        ]
        assert [a["display_name"] for a in snapshot["data"]["agents"]] == ["ana", "boss"]

        response = await live.http.patch(
            f"/api/v1/sites/{site_id}", json={"name": "Lyon 3"}, headers=bearer(admin_token)
        )
        assert response.status_code == 200, response.text
        message = await ws.receive_json()
        assert message["type"] == "event"
        assert message["seq"] == 1
        assert message["event"]["type"] == "site.changed"
        assert message["event"]["entity_id"] == site_id
        assert message["event"]["payload"] == {"action": "site.update", "name": "Lyon 3"}

        response = await live.http.put(
            f"/api/v1/users/{agent.id}/presence",
            json={"state": "not_ready", "reason": "break"},
            headers=bearer(agent_token),
        )
        assert response.status_code == 200, response.text
        message = await ws.receive_json()
        assert message["seq"] == 2
        assert message["event"]["type"] == "agent.presence_changed"
        assert message["event"]["payload"]["presence"] == "not_ready"
        assert message["event"]["payload"]["reason"] == "break"

        await ws.send_json({"type": "ping"})
        assert await ws.receive_json() == {"type": "pong"}
        await ws.send_text("hello")
        assert (await ws.receive_json())["type"] == "error"


async def test_agent_gets_only_their_own_presence(live: Live) -> None:
    ana, ana_token = await live.caller("ana@example.com", Role.AGENT)
    bob, bob_token = await live.caller("bob@example.com", Role.AGENT)
    async with live.connect(f"/ws/agent?token={ana_token}") as ws:
        snapshot = await ws.receive_json()
        assert snapshot["seq"] == 0
        assert snapshot["data"]["user_id"] == ana.id
        assert snapshot["data"]["presence"] == "offline"
        for who, token in [(bob, bob_token), (ana, ana_token)]:
            response = await live.http.put(
                f"/api/v1/users/{who.id}/presence",
                json={"state": "available"},
                headers=bearer(token),
            )
            assert response.status_code == 200, response.text
        message = await ws.receive_json()  # bob's change was not sent: this is ana's, seq 1
        assert message["seq"] == 1
        assert message["event"]["entity_id"] == ana.id


async def test_an_agent_socket_once_up_to_date_is_handed_only_what_concerns_them(
    live: Live,
) -> None:
    ana, ana_token = await live.caller("ana@example.com", Role.AGENT)
    bob, bob_token = await live.caller("bob@example.com", Role.AGENT)
    bus = live.ctx.publisher
    assert isinstance(bus, InProcessBus)
    async with live.connect(f"/ws/agent?token={ana_token}") as ws:
        await ws.receive_json()
        async with asyncio.timeout(5):
            while bus.narrowed_count != 1:  # noqa: ASYNC110 - the server narrows on its own time
                await asyncio.sleep(0.01)
        for who, token in [(bob, bob_token), (ana, ana_token)]:
            response = await live.http.put(
                f"/api/v1/users/{who.id}/presence",
                json={"state": "available"},
                headers=bearer(token),
            )
            assert response.status_code == 200, response.text
        message = await ws.receive_json()
        assert (message["seq"], message["event"]["entity_id"]) == (1, ana.id)
    async with asyncio.timeout(5):
        while bus.narrowed_count:  # noqa: ASYNC110 - closing is the server's
            await asyncio.sleep(0.01)


async def test_partner_supervisor_sees_only_their_sites(live: Live) -> None:
    own = await live.site("Dakar", SiteKind.PARTNER)
    other = await live.site("Lyon")
    _, token = await live.caller("pboss@example.com", Role.SUPERVISOR, own)
    _, admin_token = await live.caller("admin@example.com", Role.ADMIN)
    async with live.connect(f"/ws/supervisor?token={token}") as ws:
        snapshot = await ws.receive_json()
        assert [s["id"] for s in snapshot["data"]["sites"]] == [own]
        for site_id in (other, own):
            response = await live.http.patch(
                f"/api/v1/sites/{site_id}", json={"timezone": "UTC"}, headers=bearer(admin_token)
            )
            assert response.status_code == 200
        message = await ws.receive_json()
        assert (message["seq"], message["event"]["entity_id"]) == (1, own)


async def test_new_agent_sends_a_resync_snapshot(live: Live) -> None:
    _, token = await live.caller("boss@example.com", Role.SUPERVISOR)
    async with live.connect(f"/ws/supervisor?token={token}") as ws:
        assert len((await ws.receive_json())["data"]["agents"]) == 1
        await live.caller("new@example.com", Role.AGENT)
        message = await ws.receive_json()
        assert message["type"] == "snapshot"
        assert message["resync"] is True
        assert message["seq"] == 1
        assert [a["display_name"] for a in message["data"]["agents"]] == ["boss", "new"]


async def test_bus_overflow_sends_a_resync_snapshot_and_goes_on(live: Live) -> None:
    site_id = await live.site("Lyon")
    _, token = await live.caller("admin@example.com", Role.ADMIN)
    bus = live.ctx.publisher
    assert isinstance(bus, InProcessBus)
    async with live.connect(f"/ws/supervisor?token={token}") as ws:
        await ws.receive_json()
        bus.resync_all()
        message = await ws.receive_json()
        assert (message["type"], message["seq"], message["resync"]) == ("snapshot", 1, True)
        await live.http.patch(f"/api/v1/sites/{site_id}", json={"name": "L"}, headers=bearer(token))
        assert (await ws.receive_json())["seq"] == 2  # subscribed again
        with_the_client = bus.subscriber_count  # the socket, and the token cache
    assert bus.subscriber_count == with_the_client - 1  # unsubscribed when the client left


async def test_unauthenticated_and_forbidden_are_closed_with_4401_and_4403(live: Live) -> None:
    _, agent_token = await live.caller("ana@example.com", Role.AGENT)
    assert await live.close_code("/ws/supervisor") == 4401
    assert await live.close_code("/ws/agent?token=ocx_not_a_token") == 4401
    assert await live.close_code(f"/ws/supervisor?token={agent_token}") == 4403
    assert await live.close_code("/ws/supervisor", bearer(agent_token)) == 4403


async def session_cookie(ctx: AppContext, user_id: int, key: str | None = None) -> str:
    """The cookie a browser holds once signed in: a session row's key, signed."""
    key = key or await start_session(ctx, user_id)
    signer = TimestampSigner(ctx.settings.security.secret_key.get_secret_value())
    data = b64encode(json.dumps({"sid": key}).encode())
    return "opencx_session=" + signer.sign(data).decode()


async def test_session_cookie_works_from_our_own_pages_only(live: Live) -> None:
    boss, _ = await live.caller("boss@example.com", Role.SUPERVISOR)
    cookie = await session_cookie(live.ctx, boss.id)
    own_page = {"cookie": cookie, "origin": "http://testserver"}
    async with live.connect("/ws/supervisor", own_page) as ws:
        assert (await ws.receive_json())["type"] == "snapshot"
    evil = {"cookie": cookie, "origin": "https://evil.example"}
    assert await live.close_code("/ws/supervisor", evil) == 4403


async def test_signing_out_or_revoking_closes_the_sockets_using_it(live: Live) -> None:
    boss, token = await live.caller("boss@example.com", Role.SUPERVISOR)
    _, other_token = await live.caller("boss2@example.com", Role.SUPERVISOR)
    key = await start_session(live.ctx, boss.id)
    other_key = await start_session(live.ctx, boss.id)
    cookie = await session_cookie(live.ctx, boss.id, key)
    by_cookie = live.connect("/ws/supervisor", {"cookie": cookie})
    by_token = live.connect(f"/ws/supervisor?token={token}")
    unrelated = live.connect(f"/ws/supervisor?token={other_token}")
    async with by_cookie as cookie_ws, by_token as token_ws, unrelated as other_ws:
        for ws in (cookie_ws, token_ws, other_ws):
            assert (await ws.receive_json())["type"] == "snapshot"
        await end_session(live.ctx, other_key)  # another session of the same user ends
        [listed] = (await list_api_tokens(live.ctx, Principal(boss.id, Role.SUPERVISOR))).items
        revoked = await live.http.delete(f"/api/v1/tokens/{listed.id}", headers=bearer(token))
        assert revoked.status_code == 200, revoked.text
        with pytest.raises(Closed) as closed:
            await token_ws.receive_json()
        assert closed.value.code == 4401
        await other_ws.send_json({"type": "ping"})
        assert await other_ws.receive_json() == {"type": "pong"}
        await cookie_ws.send_json({"type": "ping"})  # its own session still holds
        assert await cookie_ws.receive_json() == {"type": "pong"}
        await end_session(live.ctx, key)
        with pytest.raises(Closed) as closed:
            await cookie_ws.receive_json()
        assert closed.value.code == 4401


async def test_token_is_removed_from_the_query_string(live: Live) -> None:
    _, token = await live.caller("boss@example.com", Role.SUPERVISOR)
    async with live.connect(f"/ws/supervisor?lang=fr&token={token}") as ws:
        await ws.receive_json()
        assert ws.scope["query_string"] == b"lang=fr"  # what the server logs


async def voice_call(
    live: Live,
) -> tuple[Principal, QueueOut, CustomerDetail, ConversationOut, InteractionOut]:
    """A customer's inbound call in an auto-accept queue "Support", not yet routed: the
    system admin, the queue, the customer, the conversation and the interaction."""
    admin = await system_admin(live.ctx)
    queue = await create_queue(
        live.ctx, admin, QueueCreate(name="Support", channel=Channel.VOICE, auto_accept=True)
    )
    customer = await create_customer(live.ctx, admin, CustomerCreate(display_name="Ada"))
    conversation = await create_conversation(
        live.ctx, admin, ConversationCreate(customer_id=customer.id, queue_id=queue.id)
    )
    interaction = await create_interaction(
        live.ctx,
        admin,
        conversation.id,
        InteractionCreate(channel=Channel.VOICE, direction=Direction.INBOUND),
    )
    return admin, queue, customer, conversation, interaction


async def test_an_agent_is_offered_a_task_live_and_finds_it_again_on_reconnecting(
    live: Live,
) -> None:
    ana, ana_token = await live.caller("ana@example.com", Role.AGENT)
    _, admin_token = await live.caller("admin@example.com", Role.ADMIN)
    admin, queue, customer, conversation, interaction = await voice_call(live)
    router = asyncio.create_task(routing_service(live.ctx))
    try:
        async with live.connect(f"/ws/agent?token={ana_token}") as ws:
            snapshot = (await ws.receive_json())["data"]
            assert (snapshot["offers"], snapshot["conversations"]) == ([], [])
            assert snapshot["help_answers_pending"] == []
            await presence(live.ctx, ana.id, "available")
            task = await create_task(live.ctx, admin, TaskCreate(interaction_id=interaction.id))
            message = await next_event(ws, "reservation.created")
            offer = message["event"]["payload"]
            assert offer["worker_id"] == ana.id
            assert offer["interaction_id"] == interaction.id
            assert offer["conversation_id"] == conversation.id
            assert offer["state"] == "pending"
            assert "customer_name" not in offer  # no personal data in events
            assert message["details"] == {
                "reservation_id": offer["reservation_id"],
                "task_id": task.id,
                "interaction_id": interaction.id,
                "conversation_id": conversation.id,
                "channel": "voice",
                "queue_id": queue.id,
                "expires_at": offer["expires_at"],
                "callback": False,
                "customer_id": customer.id,
                "customer_name": "Ada",
                "queue_name": "Support",
                "waiting_since": "2026-01-05T09:00:00+00:00",
                "auto_accept": True,
                "transfer_note": None,
                "subject": None,
            }

            # The customer typing and writing reach the agent the contact is offered to.
            await publish_typing(live.ctx, conversation.id, who="agent", name="Ana")
            await publish_typing(live.ctx, conversation.id, who="visitor", name="Ada")
            typing = await ws.receive_json()
            assert typing["event"]["type"] == "chat.typing"
            assert typing["event"]["payload"]["who"] == "visitor"
            said = {"channel": "voice", "direction": "inbound", "author_kind": "customer"}
            posted = await live.http.post(
                f"/api/v1/conversations/{conversation.id}/messages",
                json={**said, "body_text": "Allô ?"},
                headers=bearer(admin_token),
            )
            assert posted.status_code == 201, posted.text
            news = await next_event(ws, "message.created")
            assert news["event"]["entity_id"] == posted.json()["id"]

            accepted = await live.http.post(
                f"/api/v1/reservations/{offer['reservation_id']}/accept",
                headers=bearer(ana_token),
            )
            assert accepted.status_code == 200, accepted.text
            taken = await next_event(ws, "reservation.updated")
            assert taken["event"]["payload"]["state"] == "accepted"
            assert taken["event"]["payload"]["accepted_at"] == "2026-01-05T09:00:00+00:00"
        async with live.connect(f"/ws/agent?token={ana_token}") as ws:
            data = (await ws.receive_json())["data"]
            assert data["offers"] == []
            assert data["conversations"] == [
                {
                    "task_id": task.id,
                    "interaction_id": interaction.id,
                    "conversation_id": conversation.id,
                    "channel": "voice",
                    "queue_id": queue.id,
                    "queue_name": "Support",
                    "customer_id": customer.id,
                    "customer_name": "Ada",
                    "subject": None,
                    "state": "active",
                    "since": "2026-01-05T09:00:00+00:00",
                    "wrap_up_until": None,
                }
            ]
    finally:
        router.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await router


async def next_event(ws: AsgiWebSocket, type_: str) -> dict[str, Any]:
    """The next event message of ``type_``, skipping the others the router sends."""
    while True:
        message: dict[str, Any] = await asyncio.wait_for(ws.receive_json(), 10)
        assert message["type"] == "event", message  # no resync: the reducers kept up
        if message["event"]["type"] == type_:
            return message


async def test_a_desktop_following_its_inbox_hears_that_colleagues_work_moved_it(
    live: Live,
) -> None:
    _, ana_token = await live.caller("ana@example.com", Role.AGENT)
    bob, _ = await live.caller("bob@example.com", Role.AGENT)
    admin, _, _, _, interaction = await voice_call(live)
    router = asyncio.create_task(routing_service(live.ctx))
    try:
        async with (
            live.connect(f"/ws/agent?inbox=1&token={ana_token}") as following,
            live.connect(f"/ws/agent?token={ana_token}") as plain,
        ):
            await following.receive_json()
            await plain.receive_json()
            await presence(live.ctx, bob.id, "available")
            await create_task(live.ctx, admin, TaskCreate(interaction_id=interaction.id))

            # Bob is offered the contact and takes it: Ana's queue line and team moved.
            notices: list[dict[str, Any]] = []
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3):
                    while True:
                        notices.append(await following.receive_json())
            assert notices, "no notice reached the desktop following its inbox"
            # Only which views moved, nothing of Bob's contact; the steps of one contact
            # that come together make one notice, the rest at most one more.
            assert notices == [
                {"type": "inbox", "seq": seq, "views": ["team", "waiting"]}
                for seq in range(1, len(notices) + 1)
            ]
            assert len(notices) <= 2

            with pytest.raises(TimeoutError):  # a socket that did not ask hears nothing of it
                async with asyncio.timeout(0.5):
                    await plain.receive_json()
    finally:
        router.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await router


async def test_inbox_notices_come_at_most_once_a_second(live: Live) -> None:
    """A busy queue does not flood a desktop: steps arriving every 0.3 s for 1.5 s make
    a notice at once, then one a second, not one a step."""
    admin = await system_admin(live.ctx)
    queue = await create_queue(live.ctx, admin, QueueCreate(name="Support", channel=Channel.CHAT))
    _, ana_token = await live.caller("ana@example.com", Role.AGENT)
    bus = live.ctx.publisher
    assert isinstance(bus, InProcessBus)
    async with live.connect(f"/ws/agent?inbox=1&token={ana_token}") as ws:
        await ws.receive_json()
        for task in range(1, 6):
            step = DomainEvent(
                type=EventType.TASK_UPDATED,
                entity_kind="task",
                entity_id=task,
                occurred_at=live.ctx.clock.now(),
                payload={"interaction_id": task, "queue_id": queue.id},
            )
            await bus.publish([step])
            await asyncio.sleep(0.3)
        notices: list[dict[str, Any]] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.5):
                while True:
                    notices.append(await ws.receive_json())
    assert {n["type"] for n in notices} == {"inbox"}
    assert 2 <= len(notices) <= 3, notices  # five steps over 1.2 s
