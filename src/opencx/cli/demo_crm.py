"""The demo's simulated CRM: a small contract and delivery-tracking JSON API, standing
for the business systems a company connects (MISSION.md §2, "openness").

``opencx demo`` alone serves it, twice: to the demo's connectors, through the
context's HTTP transport (requests to ``DEMO_CRM_HOST`` never leave the process, so
the demo needs neither a port nor internal destinations), and under ``/demo-crm/`` of
the demo server, for a person who wants to see what the connectors read.

Its data is made up, the same for a customer reference on a given day: a contract for
everyone, a delivery for three customers in four (the others answer 404, which the
panel shows as "not found"). Every ``/api`` request needs ``DEMO_CRM_TOKEN``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["DEMO_CRM_HOST", "DEMO_CRM_PATH", "DEMO_CRM_TOKEN", "create_demo_crm", "demo_connectors"]

DEMO_CRM_HOST = "crm.vigilo.test"
DEMO_CRM_PATH = "/demo-crm"
DEMO_CRM_TOKEN = "vigilo-demo-crm-token"  # noqa: S105 - demo data, the demo's own system
_PARIS = ZoneInfo("Europe/Paris")
_PLANS = (("Essential", "9.99"), ("Premium", "14.99"), ("Fleet", "29.00"))
_CONTRACT_STATUSES = ("active", "active", "active", "active", "suspended", "renewal_due")
_CARRIERS = ("Colissimo", "Chronopost", "DHL Express", "UPS")
_DELIVERY_STATUSES = ("delivered", "delivered", "in_transit", "out_for_delivery")


def create_demo_crm(today: Callable[[], date]) -> Starlette:
    """The simulated CRM, its dates counted from ``today()``."""

    async def about(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "system": "Vigilo CRM, simulated for the OpenCX demo",
                "endpoints": [
                    "/api/customers/{reference}/contract",
                    "/api/customers/{reference}/deliveries/latest",
                ],
                "auth": "Authorization: Bearer <token> (the demo connectors hold it)",
            }
        )

    async def contract(request: Request) -> JSONResponse:
        return _answer(request, lambda ref: {"contract": _contract(ref, today())})

    async def delivery(request: Request) -> JSONResponse:
        return _answer(request, lambda ref: _delivery(ref, today()))

    return Starlette(
        routes=[
            Route("/", about),
            Route("/api/customers/{reference}/contract", contract),
            Route("/api/customers/{reference}/deliveries/latest", delivery),
        ]
    )


def _answer(request: Request, build: Callable[[str], dict[str, Any] | None]) -> JSONResponse:
    if request.headers.get("authorization") != f"Bearer {DEMO_CRM_TOKEN}":
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    reference = request.path_params["reference"]
    if not reference.startswith("VIG-"):
        return JSONResponse({"error": f"no customer {reference}"}, status_code=404)
    body = build(reference)
    if body is None:
        return JSONResponse({"error": f"no delivery for {reference}"}, status_code=404)
    return JSONResponse(body)


def _draw(reference: str) -> bytes:
    return hashlib.sha256(reference.encode()).digest()


def _contract(reference: str, today: date) -> dict[str, Any]:
    d = _draw(reference)
    plan, fee = _PLANS[d[0] % len(_PLANS)]
    start = today - timedelta(days=60 + d[1] * 3)
    return {
        "number": f"CT-{int.from_bytes(d[2:5], 'big') % 900_000 + 100_000}",
        "plan": plan,
        "status": _CONTRACT_STATUSES[d[5] % len(_CONTRACT_STATUSES)],
        "start_date": start.isoformat(),
        "renewal_date": (start + timedelta(days=365 * (1 + d[6] % 2))).isoformat(),
        "monthly_fee": fee,
        "payment": {"method": ("card", "direct_debit")[d[7] % 2]},
    }


def _delivery(reference: str, today: date) -> dict[str, Any] | None:
    d = _draw(reference)
    if d[8] % 4 == 0:
        return None
    status = _DELIVERY_STATUSES[d[9] % len(_DELIVERY_STATUSES)]
    shipped_day = today - timedelta(days=1 + d[10] % 6)
    shipped = datetime.combine(shipped_day, time(9 + d[11] % 8, 30), _PARIS)
    expected = shipped_day + timedelta(days=2 + d[12] % 2)
    return {
        "delivery": {
            "carrier": _CARRIERS[d[13] % len(_CARRIERS)],
            "tracking_number": f"VG{int.from_bytes(d[14:19], 'big') % 10**10:010d}FR",
            "status": status,
            "shipped_at": shipped.isoformat(),
            "expected_on": expected.isoformat(),
            "item": "Vigilo road-safety device",
        }
    }


def demo_connectors() -> list[dict[str, Any]]:
    """The demo's two connectors to this CRM, as ``POST /api/v1/connectors`` takes them."""
    base = f"https://{DEMO_CRM_HOST}/api/customers/{{customer.external_id}}"
    auth = {"kind": "bearer", "token": DEMO_CRM_TOKEN}
    return [
        {
            "name": "Contract",
            "label": {"en": "Contract", "fr": "Contrat"},
            "description": "The customer's contract in the demo's simulated CRM.",
            "url_template": f"{base}/contract",
            "auth": auth,
            "fields": [
                _field("Contract number", "N° de contrat", "contract.number"),
                _field("Plan", "Formule", "contract.plan"),
                _field("Status", "Statut", "contract.status", "status"),
                _field("Start date", "Date de début", "contract.start_date", "date"),
                _field("Renewal date", "Date de renouvellement", "contract.renewal_date", "date"),
                {
                    **_field("Monthly fee", "Mensualité", "contract.monthly_fee", "money"),
                    "currency": "EUR",
                },
                _field("Payment method", "Moyen de paiement", "contract.payment.method"),
            ],
        },
        {
            "name": "Delivery tracking",
            "label": {"en": "Delivery tracking", "fr": "Suivi de livraison"},
            "description": "The customer's latest delivery in the demo's simulated CRM.",
            "url_template": f"{base}/deliveries/latest",
            "auth": auth,
            "fields": [
                _field("Item", "Article", "delivery.item"),
                _field("Carrier", "Transporteur", "delivery.carrier"),
                _field("Tracking number", "N° de suivi", "delivery.tracking_number"),
                _field("Status", "Statut", "delivery.status", "status"),
                _field("Shipped", "Expédié le", "delivery.shipped_at", "datetime"),
                _field("Expected on", "Livraison prévue le", "delivery.expected_on", "date"),
            ],
        },
    ]


def _field(en: str, fr: str, path: str, fmt: str = "text") -> dict[str, Any]:
    return {"label": {"en": en, "fr": fr}, "path": path, "format": fmt}
