"""After the contact: coding it on the three axes of contact reasons with a summary,
and handing it on with a note; a queue whose offers the desktop accepts at once."""

from __future__ import annotations

import httpx
import pytest

from opencx.core.enums import Role
from opencx.core.permissions import Principal
from opencx.features.context import AppContext
from opencx.features.live import read_agent_view
from opencx.testing import RecordingPublisher
from tests.conftest import Caller, MakeCaller
from tests.integration.test_directory_api import API, assert_problem, post
from tests.integration.test_routing_api import (
    Floor,
    agent_on,
    call,
    handled_task,
    offers,
    task_when,
)
from tests.integration.test_routing_api import floor as floor  # a fixture
from tests.integration.test_routing_api import router as router  # a fixture

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("router")]


async def reasons(client: httpx.AsyncClient, admin: Caller) -> dict[str, int]:
    """One active reason per axis, a retired one, by code."""
    found = {}
    for axis, code, active in (
        ("declaration", "parcel.late", True),
        ("qualification", "payment.failed", True),
        ("action", "reship", True),
        ("action", "fax", False),
    ):
        body = {"axis": axis, "code": code, "labels": {"en": code, "fr": code}, "is_active": active}
        found[code] = (await post(client, admin, "/contact-reasons", body))["id"]
    return found


async def test_the_agent_who_handled_a_contact_codes_it_and_a_supervisor_corrects_it(
    client: httpx.AsyncClient, floor: Floor, make_caller: MakeCaller, publisher: RecordingPublisher
) -> None:
    codes = await reasons(client, floor.admin)
    ana = await agent_on(client, make_caller, floor)
    bob = await make_caller(Role.AGENT, site_id=floor.site_id)
    boss = await make_caller(Role.SUPERVISOR, site_id=floor.site_id)
    task = await handled_task(client, floor, ana)
    await call(client, ana, "POST", f"/tasks/{task['id']}/complete")
    path = f"/interactions/{task['interaction_id']}/wrap-up"

    coding = {
        "declaration_reason_id": codes["parcel.late"],
        "qualification_reason_id": codes["payment.failed"],
        "action_reason_id": codes["reship"],
        "summary": "Card refused, parcel held; reshipped after payment.",
    }
    coded = await call(client, ana, "POST", path, coding)
    assert (coded["id"], coded["state"]) == (task["interaction_id"], "wrap_up")
    assert {k: coded[k] for k in coding} == coding
    assert (coded["coded_by_id"], coded["coded_at"]) == (ana.user.id, "2026-01-05T09:00:00Z")

    for field, bad in (
        ("declaration_reason_id", codes["reship"]),  # another axis
        ("action_reason_id", codes["fax"]),  # retired
        ("qualification_reason_id", 999_999),
    ):
        refused = await client.post(f"{API}{path}", json={field: bad}, headers=ana.headers)
        assert assert_problem(refused, 422, "opencx.invalid_input")["errors"][0]["field"] == field
    empty = await client.post(f"{API}{path}", json={}, headers=ana.headers)
    assert_problem(empty, 422, "opencx.invalid_input")
    long = await client.post(f"{API}{path}", json={"summary": "x" * 4001}, headers=ana.headers)
    assert_problem(long, 422, "opencx.invalid_input")
    other = await client.post(f"{API}{path}", json={"summary": "mine"}, headers=bob.headers)
    assert_problem(other, 409, "opencx.conflict")

    corrected = await call(client, boss, "POST", path, {"qualification_reason_id": None})
    assert corrected["qualification_reason_id"] is None
    assert (corrected["declaration_reason_id"], corrected["summary"]) == (
        codes["parcel.late"],
        coding["summary"],
    )
    assert corrected["coded_by_id"] == boss.user.id

    audit = await call(client, floor.admin, "GET", "/audit", params={"action": "interaction.code"})
    assert [(a["actor_user_id"], a["changes"]) for a in audit["items"]] == [
        (ana.user.id, coding),
        (boss.user.id, {"qualification_reason_id": None}),
    ]
    events = [e for e in publisher.events if e.type == "interaction.coded"]
    assert [e.payload for e in events][-1] == {
        "conversation_id": coded["conversation_id"],
        "declaration_reason_id": codes["parcel.late"],
        "qualification_reason_id": None,
        "action_reason_id": codes["reship"],
        "fields": ["qualification_reason_id"],
    }
    page = await call(client, ana, "GET", f"/conversations/{coded['conversation_id']}/timeline")
    [shown] = [e["interaction"] for e in page["items"] if e["kind"] == "interaction"]
    assert shown == corrected
    used = await client.delete(
        f"{API}/contact-reasons/{codes['reship']}", headers=floor.admin.headers
    )
    assert_problem(used, 409, "opencx.conflict")


async def offered_note(ctx: AppContext, agent: Caller) -> str | None:
    """The transfer note on the agent's one offer, as their desktop shows it."""
    view, _ = await read_agent_view(ctx, Principal(user_id=agent.user.id, role=Role.AGENT))
    [offer] = view.offers.values()
    return offer.transfer_note


async def test_a_transfer_note_goes_to_the_timeline_and_the_next_offer(
    client: httpx.AsyncClient, floor: Floor, make_caller: MakeCaller, ctx: AppContext
) -> None:
    ana = await agent_on(client, make_caller, floor)
    task = await handled_task(client, floor, ana)
    expert = await agent_on(client, make_caller, floor, billing=3)
    path = f"/tasks/{task['id']}/transfer"
    too_long = {"worker_ids": [expert.user.id], "note": "x" * 2001}
    await call(client, ana, "POST", path, too_long, expect=422)
    assert (await call(client, ana, "GET", f"/tasks/{task['id']}"))["status"] == "assigned"

    note = "Wants a refund for the second parcel too"
    moved = await call(client, ana, "POST", path, {"worker_ids": [expert.user.id], "note": note})
    assert (moved["status"], moved["worker_id"]) == ("reserved", expert.user.id)
    conversation = (await call(client, ana, "GET", f"/interactions/{task['interaction_id']}"))[
        "conversation_id"
    ]
    page = await call(client, expert, "GET", f"/conversations/{conversation}/timeline")
    [entry] = [e["note"] for e in page["items"] if e["kind"] == "note"]
    assert (entry["body"], entry["transfer"], entry["author_id"]) == (note, True, ana.user.id)
    [offer] = await offers(client, expert, state="pending")
    assert await offered_note(ctx, expert) == note

    # The expert hands it back without a note: the next offer shows none.
    await call(client, expert, "POST", f"/reservations/{offer['id']}/accept")
    await call(client, expert, "POST", path, {"worker_ids": [ana.user.id]})
    await task_when(client, floor.admin, task["id"], "reserved")
    assert await offered_note(ctx, ana) is None
    notes = await call(client, ana, "GET", f"/conversations/{conversation}/notes")
    assert [n["body"] for n in notes["items"]] == [note]


async def test_a_queue_s_offers_may_be_accepted_by_the_desktop_at_once(
    client: httpx.AsyncClient, floor: Floor
) -> None:
    queue = await call(client, floor.admin, "GET", f"/queues/{floor.queue_id}")
    assert queue["auto_accept"] is False
    changed = await call(
        client, floor.admin, "PATCH", f"/queues/{floor.queue_id}", {"auto_accept": True}
    )
    assert changed["auto_accept"] is True
    nulled = await client.patch(
        f"{API}/queues/{floor.queue_id}", json={"auto_accept": None}, headers=floor.admin.headers
    )
    assert_problem(nulled, 422, "opencx.invalid_input")
