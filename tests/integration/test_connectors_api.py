"""Connectors as admins configure them through the API: checked URL templates and
mappings, credentials that never come back (nor reach the audit trail), admins only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from opencx.core.enums import Role, SiteKind
from opencx.core.events import EventType
from opencx.db.models import AuditEntry
from opencx.features.context import AppContext, transaction
from opencx.testing import RecordingPublisher
from tests.conftest import Caller, MakeCaller
from tests.integration.test_directory_api import API, assert_problem, post

PATH = "/connectors"
TOKEN = "s3cr3t-crm-token"
CRM = "https://crm.example.com"


def field_of(problem: dict[str, Any]) -> str:
    field: str = problem["errors"][0]["field"]
    return field


def connector(**fields: Any) -> dict[str, Any]:
    """A connector to the fake CRM of these tests (``tests.integration.test_connector_panel``)."""
    return {
        "name": "Contract",
        "url_template": CRM + "/api/customers/{customer.external_id}/contract",
        "auth": {"kind": "bearer", "token": TOKEN},
        "fields": [
            {"label": {"en": "Contract number", "fr": "N° de contrat"}, "path": "contract.number"}
        ],
        # The most a connector may wait: on a busy test machine the fake system's answer
        # can take longer than the 2 s default, which is not what these tests are about.
        "timeout_ms": 10_000,
        **fields,
    }


async def test_a_connector_is_created_read_updated_and_deleted_with_every_change_audited(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext, publisher: RecordingPublisher
) -> None:
    created = await post(client, admin, PATH, connector(description="The CRM's contracts"))
    assert {k: v for k, v in created.items() if k not in {"id", "created_at", "updated_at"}} == {
        "name": "Contract",
        "description": "The CRM's contracts",
        "label": None,
        "enabled": True,
        "url_template": CRM + "/api/customers/{customer.external_id}/contract",
        "method": "GET",
        "auth": {"kind": "bearer", "username": None, "name": None, "has_secret": True},
        "fields": [
            {
                "label": {"en": "Contract number", "fr": "N° de contrat"},
                "path": "contract.number",
                "format": "text",
                "currency": None,
            }
        ],
        "timeout_ms": 10_000,
        "cache_seconds": 60,
        "site_ids": [],
    }
    url = f"{API}{PATH}/{created['id']}"
    changed = await client.patch(
        url,
        json={"enabled": False, "timeout_ms": 500, "label": {"en": "Contract", "fr": "Contrat"}},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["enabled"], changed.json()["timeout_ms"]) == (False, 500)
    assert changed.json()["label"] == {"en": "Contract", "fr": "Contrat"}
    listed = await client.get(API + PATH, headers=admin.headers)
    assert [c["id"] for c in listed.json()["items"]] == [created["id"]]
    assert (await client.delete(url, headers=admin.headers)).status_code == 204
    assert_problem(await client.get(url, headers=admin.headers), 404, "opencx.not_found")
    async with transaction(ctx) as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.entity_kind == "connector")
            )
        )
    assert actions == ["connector.create", "connector.update", "connector.delete"]
    changes = [e for e in publisher.events if e.type is EventType.DIRECTORY_CHANGED]
    assert [(e.entity_kind, e.payload["action"]) for e in changes] == [
        ("connector", "create"),
        ("connector", "update"),
        ("connector", "delete"),
    ]


@pytest.mark.parametrize(
    ("auth", "shown"),
    [
        ({"kind": "bearer", "token": TOKEN}, {"kind": "bearer", "username": None, "name": None}),
        (
            {"kind": "basic", "username": "opencx", "password": TOKEN},
            {"kind": "basic", "username": "opencx", "name": None},
        ),
        (
            {"kind": "header", "name": "X-Api-Key", "value": TOKEN},
            {"kind": "header", "username": None, "name": "X-Api-Key"},
        ),
    ],
)
async def test_a_credential_is_write_only_and_never_audited(
    client: httpx.AsyncClient,
    admin: Caller,
    ctx: AppContext,
    auth: dict[str, str],
    shown: dict[str, Any],
) -> None:
    created = await post(client, admin, PATH, connector(auth=auth))
    assert created["auth"] == {**shown, "has_secret": True}
    url = f"{API}{PATH}/{created['id']}"
    # A change of everything but the credential keeps it.
    kept = {k: v for k, v in auth.items() if k not in {"token", "password", "value"}}
    patched = await client.patch(url, json={"auth": kept}, headers=admin.headers)
    assert patched.json()["auth"]["has_secret"] is True
    answers = [
        created,
        patched.json(),
        (await client.get(url, headers=admin.headers)).json(),
        (await client.get(API + PATH, headers=admin.headers)).json(),
        (await client.get(API + "/audit", headers=admin.headers)).json(),
    ]
    for answer in answers:
        assert TOKEN not in str(answer)
    async with transaction(ctx) as session:
        audited = list(await session.scalars(select(AuditEntry.changes)))
        stored = await session.scalar(select(AuditEntry.id).where(AuditEntry.id > 0))
    assert stored is not None
    assert TOKEN not in str(audited)
    assert {"secret": "set"}.items() <= audited[-2]["auth"].items()


async def test_a_kind_of_auth_that_needs_a_credential_is_refused_without_one(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    response = await client.post(
        API + PATH, json=connector(auth={"kind": "bearer"}), headers=admin.headers
    )
    problem = assert_problem(response, 422, "opencx.invalid_input")
    assert field_of(problem) == "auth.token"
    created = await post(client, admin, PATH, connector())
    # Another kind does not inherit the bearer token.
    switched = await client.patch(
        f"{API}{PATH}/{created['id']}",
        json={"auth": {"kind": "basic", "username": "opencx"}},
        headers=admin.headers,
    )
    assert field_of(assert_problem(switched, 422, "opencx.invalid_input")) == "auth.password"
    cleared = await client.patch(
        f"{API}{PATH}/{created['id']}", json={"auth": {"kind": "none"}}, headers=admin.headers
    )
    assert cleared.json()["auth"] == {
        "kind": "none",
        "username": None,
        "name": None,
        "has_secret": False,
    }


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("ftp://crm.example.com/{customer.id}", "http:// or https://"),
        ("https://{customer.email}.example.com/", "placeholder in its host"),
        ("https://crm.example.com:{customer.id}/", "placeholder in its host"),
        ("https://user:pw@crm.example.com/{customer.id}", "user name or password"),
        ("https://crm.example.com/{customer.name}", "unknown placeholder"),
        ("https://crm.example.com/{customer.id", "stray brace"),
        ("/api/{customer.id}", "http:// or https://"),
        ("https://crm.example.com/a b", "spaces"),
        ("https://127.0.0.1/api/{customer.id}", "loopback"),
        ("http://10.1.2.3/api/{customer.id}", "private"),
        ("http://[::1]:8080/api", "loopback"),
    ],
)
async def test_a_url_template_that_could_go_astray_is_refused(
    client: httpx.AsyncClient, admin: Caller, template: str, why: str
) -> None:
    response = await client.post(
        API + PATH, json=connector(url_template=template), headers=admin.headers
    )
    problem = assert_problem(response, 422, "opencx.invalid_input")
    assert field_of(problem) == "url_template"
    assert why in problem["detail"]


@pytest.mark.parametrize(
    "change",
    [
        {"fields": [{"label": {"en": "X"}, "path": "a..b"}]},
        {"fields": [{"label": {"fr": "Sans anglais"}, "path": "a"}]},
        {"fields": [{"label": {"en": "X"}, "path": "a", "format": "percent"}]},
        {"fields": [{"label": {"en": "X"}, "path": "a", "currency": "euro"}]},
        {"timeout_ms": 10_001},
        {"timeout_ms": 0},
        {"cache_seconds": -1},
        {"method": "POST"},
        {"auth": {"kind": "header", "name": "Host", "value": "x"}},
        {"auth": {"kind": "header", "name": "X Key", "value": "x"}},
        {"auth": {"kind": "bearer", "token": "line\r\nX-Injected: 1"}},
        {"auth": {"kind": "basic", "username": "a:b", "password": "x"}},
        {"site_ids": [999]},
    ],
)
async def test_bad_configuration_is_a_422_naming_what_is_wrong(
    client: httpx.AsyncClient, admin: Caller, change: dict[str, Any]
) -> None:
    response = await client.post(API + PATH, json=connector(**change), headers=admin.headers)
    assert_problem(response, 422, "opencx.invalid_input")


@pytest.mark.parametrize("name", ["auth", "url_template", "fields", "site_ids", "enabled"])
async def test_a_change_cannot_clear_what_a_connector_needs(
    client: httpx.AsyncClient, admin: Caller, name: str
) -> None:
    created = await post(client, admin, PATH, connector())
    response = await client.patch(
        f"{API}{PATH}/{created['id']}", json={name: None}, headers=admin.headers
    )
    assert field_of(assert_problem(response, 422, "opencx.invalid_input")) == name


async def test_names_are_unique(client: httpx.AsyncClient, admin: Caller) -> None:
    await post(client, admin, PATH, connector())
    response = await client.post(API + PATH, json=connector(), headers=admin.headers)
    assert field_of(assert_problem(response, 409, "opencx.conflict")) == "name"


async def test_a_connector_scoped_to_sites_names_existing_sites(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    site = await post(client, admin, "/sites", {"name": "Lyon", "kind": SiteKind.PARTNER.value})
    created = await post(client, admin, PATH, connector(site_ids=[site["id"], site["id"]]))
    assert created["site_ids"] == [site["id"]]


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
async def test_only_admins_read_or_change_the_configuration(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller, role: Role
) -> None:
    created = await post(client, admin, PATH, connector())
    caller = await make_caller(role)
    url = f"{API}{PATH}/{created['id']}"
    for response in [
        await client.get(API + PATH, headers=caller.headers),
        await client.post(API + PATH, json=connector(name="Other"), headers=caller.headers),
        await client.get(url, headers=caller.headers),
        await client.patch(url, json={"enabled": False}, headers=caller.headers),
        await client.delete(url, headers=caller.headers),
        await client.post(url + "/test", json={"customer_id": 1}, headers=caller.headers),
    ]:
        assert_problem(response, 403, "opencx.permission_denied")
