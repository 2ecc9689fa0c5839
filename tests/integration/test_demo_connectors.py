"""The demo shows business-system data: its two seeded connectors read the demo's
simulated CRM, which ``opencx demo`` serves and ``opencx serve`` does not."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import select

from opencx.cli.demo import crm_reference, seed_demo
from opencx.cli.demo_crm import DEMO_CRM_HOST, DEMO_CRM_PATH, create_demo_crm
from opencx.cli.main import _demo_app
from opencx.db.models import Customer
from opencx.features.auth import create_api_token
from opencx.features.context import AppContext, transaction
from opencx.features.transports import LocalHosts
from opencx.runtime import build_app
from opencx.settings import Settings
from opencx.testing import FakeHttp

AGENT_LOGIN = "agent@demo.opencx.dev"


async def test_the_demo_agent_reads_contract_and_delivery_from_the_simulated_crm(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    outside = FakeHttp()
    ctx.http = LocalHosts(outside, {DEMO_CRM_HOST: create_demo_crm(lambda: date(2026, 12, 8))})
    await seed_demo(ctx, customers=6)
    headers = {"Authorization": f"Bearer {await create_api_token(ctx, email=AGENT_LOGIN)}"}
    async with transaction(ctx) as session:
        customer_ids = list(await session.scalars(select(Customer.id).order_by(Customer.id)))
    statuses = set()
    for customer_id in customer_ids:
        response = await client.get(
            f"/api/v1/customers/{customer_id}/connectors", params={"locale": "fr"}, headers=headers
        )
        assert response.status_code == 200, response.text
        contract, delivery = response.json()
        assert (contract["name"], delivery["name"]) == ("Contrat", "Suivi de livraison")
        assert contract["status"] == "ok", contract
        number, _plan, status, start, renewal, fee, _payment = contract["fields"]
        assert number["label"] == "N° de contrat"
        assert number["value"].startswith("CT-")
        assert status["format"] == "status"
        assert (fee["format"], fee["currency"]) == ("money", "EUR")
        assert fee["value"] in (9.99, 14.99, 29)
        assert start["format"] == renewal["format"] == "date"
        assert delivery["status"] in {"ok", "not_found"}
        statuses.add(delivery["status"])
    assert "ok" in statuses
    assert outside.requests == []  # the simulated CRM answered in process


def test_the_crm_knows_the_demo_customers_by_their_reference() -> None:
    assert crm_reference(7) == "VIG-000007"


async def test_only_the_demo_server_shows_the_simulated_crm(settings: Settings) -> None:
    for app, expected in ((_demo_app(settings), 200), (build_app(settings), 404)):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as http:
            about = await http.get(f"{DEMO_CRM_PATH}/")
            assert about.status_code == expected
            if expected == 200:
                assert about.json()["system"] == "Vigilo CRM, simulated for the OpenCX demo"
                unsigned = await http.get(f"{DEMO_CRM_PATH}/api/customers/VIG-000001/contract")
                assert unsigned.status_code == 401
        await app.state.ctx.engine.dispose()
