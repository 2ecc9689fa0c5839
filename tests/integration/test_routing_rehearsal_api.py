"""Rehearsing routing through the API, as the admin console does: an expression checked
as it is typed (an error names its column), and a dry run of a draft workflow that says
where a contact arriving now would go, and why, without saving anything."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opencx.core.enums import Role
from tests.conftest import Caller, MakeCaller
from tests.integration.test_routing_api import Floor, agent_on, build_floor, call

pytestmark = pytest.mark.timeout(30)

PROBLEM = "application/problem+json"


@pytest.fixture
async def floor(client: httpx.AsyncClient, admin: Caller) -> Floor:
    return await build_floor(client, admin)


def french_to(queue_id: int, expression: str = 'lang == "fr"') -> dict[str, Any]:
    return {
        "filters": [
            {"name": "French", "expression": expression, "targets": [{"queue_id": queue_id}]}
        ],
        "fallback": "callback",
    }


async def test_a_valid_expression_is_answered_with_the_roots_it_reads(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    body = {"expression": 'lang == "fr" AND worker.skills.french >= 2', "root": "task"}

    found = await call(client, admin, "POST", "/routing/expressions/validate", body)

    assert found == {"expression": body["expression"], "roots": ["task", "worker"]}


async def test_an_invalid_expression_is_a_problem_naming_its_column(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    response = await client.post(
        "/api/v1/routing/expressions/validate",
        json={"expression": "skills.billing >= ", "root": "worker"},
        headers=admin.headers,
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["code"] == "opencx.invalid_input"
    assert problem["column"] == 19
    assert problem["errors"] == [{"field": "expression", "message": problem["detail"]}]
    assert "at column 19" in problem["detail"]


async def test_agents_may_neither_check_expressions_nor_dry_run(
    client: httpx.AsyncClient, make_caller: MakeCaller, floor: Floor
) -> None:
    agent = await make_caller(Role.AGENT)
    validate = {"expression": "vip", "root": "task"}
    dry = {"workflow": french_to(floor.queue_id), "contact": {"channel": "chat"}}

    await call(client, agent, "POST", "/routing/expressions/validate", validate, expect=403)
    await call(client, agent, "POST", "/routing/dry-run", dry, expect=403)


async def test_a_dry_run_says_which_filter_queue_and_agents_and_saves_nothing(
    client: httpx.AsyncClient, make_caller: MakeCaller, floor: Floor
) -> None:
    skilled = await agent_on(client, make_caller, floor, billing=2)
    unskilled = await agent_on(client, make_caller, floor, billing=None)
    away = await agent_on(client, make_caller, floor, billing=2, presence="not_ready")
    body = {
        "workflow": french_to(floor.queue_id),
        "contact": {"channel": "chat", "attributes": {"lang": "fr"}},
    }

    found = await call(client, floor.admin, "POST", "/routing/dry-run", body)

    assert (found["filter_index"], found["filter_name"]) == (0, "French")
    assert (found["queue_id"], found["queue_name"], found["step_index"]) == (
        floor.queue_id,
        "Billing",
        0,
    )
    assert found["fallback"] is None
    assert found["offered_to"] == skilled.user.id
    verdicts = {c["worker_id"]: (c["eligible"], c["reason"]) for c in found["candidates"]}
    assert verdicts[skilled.user.id] == (True, None)
    assert verdicts[unskilled.user.id] == (False, "does not match the target of queue Billing")
    assert verdicts[away.user.id] == (False, "is not_ready")
    away_verdict = next(c for c in found["candidates"] if c["worker_id"] == away.user.id)
    assert away_verdict["reason_code"] == "presence"
    assert away_verdict["reason_params"] == {"presence": "not_ready"}
    workflow = await call(client, floor.admin, "GET", "/routing/workflow")
    assert workflow["version"] is None  # nothing was saved


async def test_a_contact_no_filter_takes_gets_the_fallback(
    client: httpx.AsyncClient, floor: Floor
) -> None:
    body = {"workflow": french_to(floor.queue_id), "contact": {"channel": "chat"}}

    found = await call(client, floor.admin, "POST", "/routing/dry-run", body)

    assert found["filter_index"] is None
    assert found["filters_not_matched"] == ["French"]
    assert (found["fallback"], found["queue_id"]) == ("callback", None)
    assert found["fallback_reason"] == "no workflow filter matches the task"


async def test_without_a_draft_the_workflow_in_force_is_tried(
    client: httpx.AsyncClient, floor: Floor
) -> None:
    await call(client, floor.admin, "PUT", "/routing/workflow", french_to(floor.queue_id))
    contact = {"channel": "chat", "attributes": {"lang": "fr"}}

    found = await call(client, floor.admin, "POST", "/routing/dry-run", {"contact": contact})

    assert (found["filter_name"], found["queue_id"]) == ("French", floor.queue_id)


@pytest.mark.parametrize(
    ("workflow", "field", "column"),
    [
        (lambda q: french_to(q, 'lang == "fr" AND'), "filters[0].expression", 17),
        (lambda q: french_to(q + 1000), "filters[0].targets[0].queue_id", None),
    ],
)
async def test_a_draft_with_an_error_is_a_problem_naming_the_field(
    client: httpx.AsyncClient, floor: Floor, workflow: Any, field: str, column: int | None
) -> None:
    body = {"workflow": workflow(floor.queue_id), "contact": {"channel": "chat"}}

    response = await client.post("/api/v1/routing/dry-run", json=body, headers=floor.admin.headers)

    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == field
    assert problem.get("column") == column


async def test_attributes_that_opencx_sets_are_refused(
    client: httpx.AsyncClient, floor: Floor
) -> None:
    contact = {"channel": "chat", "attributes": {"customer_id": 1}}
    body = {"workflow": french_to(floor.queue_id), "contact": contact}

    response = await client.post("/api/v1/routing/dry-run", json=body, headers=floor.admin.headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "contact.attributes"


async def test_a_partner_supervisor_sees_only_their_sites_agents_and_queues(
    client: httpx.AsyncClient, make_caller: MakeCaller, floor: Floor
) -> None:
    lyon_agent = await agent_on(client, make_caller, floor, billing=1)
    dakar = await call(
        client, floor.admin, "POST", "/sites", {"name": "Dakar", "kind": "partner"}, expect=201
    )
    awa = await make_caller(Role.AGENT, site_id=dakar["id"])
    moussa = await make_caller(Role.SUPERVISOR, site_id=dakar["id"])
    body = {
        "workflow": french_to(floor.queue_id),
        "contact": {"channel": "chat", "attributes": {"lang": "fr"}},
    }

    found = await call(client, moussa, "POST", "/routing/dry-run", body)

    shown = {c["worker_id"] for c in found["candidates"]}
    assert awa.user.id in shown
    assert lyon_agent.user.id not in shown
    assert (found["queue_id"], found["queue_name"], found["offered_to"]) == (None, None, None)


async def test_the_audit_trail_can_be_read_newest_first(
    client: httpx.AsyncClient, floor: Floor
) -> None:
    oldest = await call(client, floor.admin, "GET", "/audit", params={"limit": 2})
    newest = await call(
        client, floor.admin, "GET", "/audit", params={"limit": 2, "order": "newest"}
    )
    rest = await call(
        client,
        floor.admin,
        "GET",
        "/audit",
        params={"limit": 2, "order": "newest", "cursor": newest["next_cursor"]},
    )

    ids = [entry["id"] for entry in newest["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)
    assert newest["items"][0]["action"] == "queue.create"  # the floor's last change
    assert oldest["items"][0]["id"] < newest["items"][-1]["id"]
