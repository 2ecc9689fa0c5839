"""What an agent's customer panel shows from connected business systems, through the
API, with ``FakeHttp`` standing for the company's CRM. The CRM answers, for a contract,
the JSON documented in ``docs/connectors.md``::

    {"contract": {"number": "C-1042", "plan": "Premium", "status": "active",
                  "start_date": "2025-03-01", "renewal_at": "2026-03-01T09:00:00+01:00",
                  "monthly_fee": "12.90",
                  "options": [{"name": "Theft cover"}, {"name": "Assistance"}]}}
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from opencx.core.enums import Role
from opencx.features.context import AppContext
from opencx.testing import FakeClock, FakeHttp
from tests.conftest import Caller, MakeCaller
from tests.integration.test_connectors_api import CRM, TOKEN, connector
from tests.integration.test_directory_api import API, assert_problem, post

CONTRACT = {
    "contract": {
        "number": "C-1042",
        "plan": "Premium",
        "status": "active",
        "start_date": "2025-03-01",
        "renewal_at": "2026-03-01T09:00:00+01:00",
        "monthly_fee": "12.90",
        "options": [{"name": "Theft cover"}, {"name": "Assistance"}],
    }
}
FIELDS = [
    {"label": {"en": "Contract number", "fr": "N° de contrat"}, "path": "contract.number"},
    {"label": {"en": "Status", "fr": "Statut"}, "path": "contract.status", "format": "status"},
    {"label": {"en": "Since", "fr": "Depuis"}, "path": "contract.start_date", "format": "date"},
    {
        "label": {"en": "Renewal", "fr": "Renouvellement"},
        "path": "contract.renewal_at",
        "format": "datetime",
    },
    {
        "label": {"en": "Monthly fee", "fr": "Mensualité"},
        "path": "contract.monthly_fee",
        "format": "money",
        "currency": "EUR",
    },
    {"label": {"en": "Last option"}, "path": "contract.options[-1].name"},
    {"label": {"en": "Discount", "fr": "Remise"}, "path": "contract.discount", "format": "money"},
]
#: The customer's reference in the CRM: a slash and a space that must stay in their segment.
REFERENCE = "C/42 é"


@pytest.fixture
def crm(ctx: AppContext) -> FakeHttp:
    fake = FakeHttp()
    fake.route(
        "GET",
        "/api/customers/{ref:path}/contract",
        lambda _request, _params: httpx.Response(200, json=CONTRACT),
        host="crm.example.com",
    )
    ctx.http = fake
    return fake


async def customer(client: httpx.AsyncClient, caller: Caller, **fields: Any) -> int:
    body = {
        "display_name": "Zoé Martin",
        "identities": [
            {"kind": "email", "value": "zoe@example.com"},
            {"kind": "external", "value": REFERENCE},
        ],
        **fields,
    }
    created: int = (await post(client, caller, "/customers", body))["id"]
    return created


async def panel(
    client: httpx.AsyncClient, caller: Caller, customer_id: int, locale: str = "en"
) -> list[dict[str, Any]]:
    response = await client.get(
        f"{API}/customers/{customer_id}/connectors",
        params={"locale": locale},
        headers=caller.headers,
    )
    assert response.status_code == 200, response.text
    shown: list[dict[str, Any]] = response.json()
    return shown


async def test_the_panel_shows_each_mapped_field_in_the_agents_language(
    client: httpx.AsyncClient,
    admin: Caller,
    make_caller: MakeCaller,
    crm: FakeHttp,
    clock: FakeClock,
) -> None:
    made = await post(
        client,
        admin,
        "/connectors",
        connector(fields=FIELDS, label={"en": "Contract", "fr": "Contrat"}),
    )
    agent = await make_caller(Role.AGENT)
    customer_id = await customer(client, admin)
    [shown] = await panel(client, agent, customer_id, locale="fr")
    assert shown == {
        "connector_id": made["id"],
        "name": "Contrat",
        "status": "ok",
        "fields": [
            {"label": "N° de contrat", "value": "C-1042", "format": "text", "currency": None},
            {"label": "Statut", "value": "active", "format": "status", "currency": None},
            {"label": "Depuis", "value": "2025-03-01", "format": "date", "currency": None},
            {
                "label": "Renouvellement",
                "value": "2026-03-01T08:00:00Z",
                "format": "datetime",
                "currency": None,
            },
            {"label": "Mensualité", "value": 12.9, "format": "money", "currency": "EUR"},
            {"label": "Last option", "value": "Assistance", "format": "text", "currency": None},
            {"label": "Remise", "value": None, "format": "money", "currency": None},
        ],
        "fetched_at": clock.now().isoformat().replace("+00:00", "Z"),
        "cached": False,
        "error": None,
    }
    [request] = crm.requests
    assert request.url.raw_path == b"/api/customers/C%2F42%20%C3%A9/contract"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/json"


@pytest.mark.parametrize(
    ("auth", "header", "expected"),
    [
        (
            {"kind": "basic", "username": "opencx", "password": TOKEN},
            "authorization",
            "Basic " + base64.b64encode(f"opencx:{TOKEN}".encode()).decode(),
        ),
        ({"kind": "header", "name": "X-Api-Key", "value": TOKEN}, "x-api-key", TOKEN),
        ({"kind": "none"}, "authorization", None),
    ],
)
async def test_each_kind_of_auth_is_sent_as_the_system_expects(
    client: httpx.AsyncClient,
    admin: Caller,
    crm: FakeHttp,
    auth: dict[str, str],
    header: str,
    expected: str | None,
) -> None:
    await post(client, admin, "/connectors", connector(auth=auth))
    [shown] = await panel(client, admin, await customer(client, admin))
    assert shown["status"] == "ok"
    [request] = crm.requests
    assert request.headers.get(header) == expected


def _answer(status: int, body: bytes, content_type: str = "application/json") -> Any:
    return lambda _request, _params: httpx.Response(
        status, content=body, headers={"content-type": content_type}
    )


async def _never_answers(_request: httpx.Request, _params: dict[str, str]) -> httpx.Response:
    await asyncio.Event().wait()  # until the connector's timeout cancels the call
    raise AssertionError("unreachable")


def _read_timeout(request: httpx.Request, _params: dict[str, str]) -> httpx.Response:
    raise httpx.ReadTimeout("no answer", request=request)


def _refused(request: httpx.Request, _params: dict[str, str]) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


#: Per system: how it answers, and (status, words of the error) the panel shows.
SYSTEMS: dict[str, tuple[Any, str, str | None]] = {
    "ok": (_answer(200, json.dumps(CONTRACT).encode()), "ok", None),
    "unknown": (_answer(404, b'{"error": "no such customer"}'), "not_found", None),
    "broken": (_answer(500, b'{"error": "boom"}'), "error", "HTTP 500"),
    "html": (_answer(200, b"<html>login</html>", "text/html"), "error", "not JSON (text/html)"),
    "garbled": (_answer(200, b'{"contract": '), "error", "not valid JSON"),
    "huge": (_answer(200, b'{"a": "' + b"x" * 600_000 + b'"}'), "error", "larger than 512 KiB"),
    "moved": (
        lambda _r, _p: httpx.Response(302, headers={"location": "https://evil.example.com/"}),
        "error",
        "redirect, not followed",
    ),
    "slow": (_read_timeout, "timeout", "no answer within 10000 ms"),
    "hanging": (_never_answers, "timeout", "no answer within 100 ms"),
    "down": (_refused, "error", "no answer from the system (ConnectError)"),
}


async def test_each_system_gets_its_own_status_and_one_failing_spoils_nothing_else(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext
) -> None:
    fake = FakeHttp()
    ctx.http = fake
    for name, (handler, _status, _error) in SYSTEMS.items():
        fake.route("GET", f"/{name}/{{ref:path}}", handler, host="crm.example.com")
        await post(
            client,
            admin,
            "/connectors",
            connector(
                name=name,
                url_template=f"{CRM}/{name}/{{customer.external_id}}",
                timeout_ms=100 if name == "hanging" else 10_000,
            ),
        )
    phone = connector(name="by phone", url_template=CRM + "/ok/{customer.phone}")
    await post(client, admin, "/connectors", phone)
    shown = {
        line["name"]: line for line in await panel(client, admin, await customer(client, admin))
    }
    for name, (_handler, status, error) in SYSTEMS.items():
        assert shown[name]["status"] == status, name
        assert (shown[name]["error"] is None) == (error is None), name
        assert error is None or error in shown[name]["error"], (name, shown[name]["error"])
    assert shown["ok"]["fields"][0]["value"] == "C-1042"
    assert shown["unknown"]["fields"] == []
    assert shown["by phone"]["status"] == "not_applicable"
    assert shown["by phone"]["error"] == "the customer has no value for {customer.phone}"
    # Nothing was asked about a customer the URL cannot name, and no redirect was followed.
    hosts = [request.url.host for request in fake.requests]
    assert len(fake.requests) == len(SYSTEMS)
    assert set(hosts) == {"crm.example.com"}


async def test_an_answer_is_kept_for_the_cache_seconds_and_a_failure_is_not(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext, clock: FakeClock
) -> None:
    fake = FakeHttp()
    ctx.http = fake
    fake.route("GET", "/ok/{ref:path}", SYSTEMS["ok"][0])
    fake.route("GET", "/broken/{ref:path}", SYSTEMS["broken"][0])
    ok = await post(
        client,
        admin,
        "/connectors",
        connector(name="ok", url_template=CRM + "/ok/{customer.id}", cache_seconds=30),
    )
    await post(
        client,
        admin,
        "/connectors",
        connector(name="broken", url_template=CRM + "/broken/{customer.id}"),
    )
    customer_id = await customer(client, admin)

    async def look() -> dict[str, tuple[str, bool]]:
        shown = await panel(client, admin, customer_id)
        return {line["name"]: (line["status"], line["cached"]) for line in shown}

    first = clock.now()
    assert await look() == {"ok": ("ok", False), "broken": ("error", False)}
    clock.advance(29)
    assert await look() == {"ok": ("ok", True), "broken": ("error", False)}
    [kept] = [line for line in await panel(client, admin, customer_id) if line["name"] == "ok"]
    assert kept["fetched_at"] == first.isoformat().replace("+00:00", "Z")
    asked = sorted(r.url.path.split("/")[1] for r in fake.requests)
    assert asked == ["broken", "broken", "broken", "ok"]
    clock.advance(1)
    assert (await look())["ok"] == ("ok", False)
    # A changed connector is asked again at once.
    patched = await client.patch(
        f"{API}/connectors/{ok['id']}", json={"fields": FIELDS}, headers=admin.headers
    )
    assert patched.status_code == 200
    assert (await look())["ok"] == ("ok", False)
    assert (await look())["ok"] == ("ok", True)


async def test_agents_see_only_connectors_of_their_site_about_customers_they_may_read(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller, crm: FakeHttp
) -> None:
    dakar = await post(client, admin, "/sites", {"name": "Dakar", "kind": "partner"})
    tunis = await post(client, admin, "/sites", {"name": "Tunis", "kind": "partner"})
    await post(client, admin, "/connectors", connector(name="Everyone"))
    await post(client, admin, "/connectors", connector(name="Tunis only", site_ids=[tunis["id"]]))
    await post(client, admin, "/connectors", connector(name="Off", enabled=False))
    queue = await post(
        client, admin, "/queues", {"name": "Dakar chat", "channel": "chat", "site_id": dakar["id"]}
    )
    customer_id = await customer(client, admin)
    await post(
        client, admin, "/conversations", {"customer_id": customer_id, "queue_id": queue["id"]}
    )
    in_dakar = await make_caller(Role.AGENT, site_id=dakar["id"])
    in_tunis = await make_caller(Role.AGENT, site_id=tunis["id"])

    assert [line["name"] for line in await panel(client, in_dakar, customer_id)] == ["Everyone"]
    assert [line["name"] for line in await panel(client, admin, customer_id)] == [
        "Everyone",
        "Tunis only",
    ]
    hidden = await client.get(f"{API}/customers/{customer_id}/connectors", headers=in_tunis.headers)
    assert_problem(hidden, 404, "opencx.not_found")
    missing = await client.get(f"{API}/customers/999999/connectors", headers=admin.headers)
    assert_problem(missing, 404, "opencx.not_found")
    # "Everyone" once (kept for the admin after Dakar's agent), "Tunis only" once.
    assert len(crm.requests) == 2


async def test_an_admin_dry_run_calls_now_even_a_disabled_connector_and_keeps_nothing(
    client: httpx.AsyncClient, admin: Caller, crm: FakeHttp
) -> None:
    made = await post(client, admin, "/connectors", connector(fields=FIELDS[:1], enabled=False))
    customer_id = await customer(client, admin)
    url = f"{API}/connectors/{made['id']}/test"
    for _ in range(2):
        response = await client.post(
            url, json={"customer_id": customer_id, "locale": "fr"}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        tested = response.json()
        assert (tested["status"], tested["cached"], tested["http_status"]) == ("ok", False, 200)
        assert tested["url"] == CRM + "/api/customers/C%2F42%20%C3%A9/contract"
        assert tested["fields"][0] == {
            "label": "N° de contrat",
            "value": "C-1042",
            "format": "text",
            "currency": None,
        }
    assert len(crm.requests) == 2
    assert await panel(client, admin, customer_id) == []  # disabled: not in the panel
    gone = await client.post(url, json={"customer_id": 999999}, headers=admin.headers)
    problem = assert_problem(gone, 422, "opencx.invalid_input")
    assert problem["errors"][0]["field"] == "customer_id"


async def test_a_credential_sealed_with_an_old_key_says_so_instead_of_calling(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext, crm: FakeHttp
) -> None:
    await post(client, admin, "/connectors", connector())
    ctx.settings.security.secret_key = SecretStr("another-secret-key-after-rotation-0123456789")
    [shown] = await panel(client, admin, await customer(client, admin))
    assert shown["status"] == "error"
    assert "enter it again" in shown["error"]
    assert crm.requests == []
