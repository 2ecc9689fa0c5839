"""What connectors show beside a customer: the agent's panel, and an admin's dry run.

Rules:
- an agent sees the enabled connectors visible to their site
  (``opencx.core.connectors.connector_visible``), about a customer they may read
  (``opencx.features.customers.access``): a hidden customer is a 404;
- connectors are asked at the same time, each within its own timeout, after the
  transaction that read them has ended (no database lock is held while a system
  answers); one failing system changes only its own line;
- an answer is taken from the cache when it may be (``cached: true``); a dry run
  (``test_connector``) never reads or fills the cache, and works on a disabled one.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TypeVar

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.connectors import (
    IDENTITY_PLACEHOLDERS,
    AuthKind,
    ConnectorStatus,
    FieldFormat,
    FieldSpec,
    connector_visible,
    customer_values,
    parse_path,
    parse_url_template,
    pick_label,
)
from opencx.core.errors import NotFound
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Connector, Customer, CustomerIdentity
from opencx.features.connectors.cache import answer_cache
from opencx.features.connectors.calls import Answer, ConnectorSpec, call_connector
from opencx.features.connectors.schemas import (
    ConnectorResult,
    ConnectorTestIn,
    ConnectorTestOut,
    FieldShown,
)
from opencx.features.context import AppContext, transaction
from opencx.features.customers.access import load_customer
from opencx.features.directory.provider_settings import SecretUnreadable, open_secret

__all__ = ["customer_connectors", "test_connector"]

log = structlog.get_logger(__name__)

R = TypeVar("R", bound=ConnectorResult)
_UNREADABLE = "the stored credential cannot be read with the current secret key: enter it again"


async def customer_connectors(
    ctx: AppContext, principal: Principal, customer_id: int, *, locale: str = "en"
) -> list[ConnectorResult]:
    """Every connector the caller sees, asked about this customer."""
    require(principal, Permission.CUSTOMERS_READ)
    async with transaction(ctx) as session:
        customer = await load_customer(session, principal, customer_id)
        values = await _customer_values(session, customer)
        rows = await session.scalars(
            select(Connector).where(Connector.enabled.is_(True)).order_by(Connector.id)
        )
        specs = [_spec(ctx, row) for row in rows if connector_visible(row.site_ids, principal)]
    looked_up = await asyncio.gather(*(_look_up(ctx, spec, customer.id, values) for spec in specs))
    return [
        _result(ConnectorResult, spec, answer, locale, cached=cached)
        for spec, (answer, cached) in zip(specs, looked_up, strict=True)
    ]


async def test_connector(
    ctx: AppContext, principal: Principal, connector_id: int, data: ConnectorTestIn
) -> ConnectorTestOut:
    """Call the connector about ``data.customer_id`` now, as the panel would."""
    require(principal, Permission.CONNECTORS_MANAGE)
    async with transaction(ctx) as session:
        row = await session.get(Connector, connector_id)
        if row is None:
            raise NotFound(f"connector {connector_id} does not exist")
        customer = await load_customer(session, principal, data.customer_id, field="customer_id")
        values = await _customer_values(session, customer)
        spec = _spec(ctx, row)
    url = spec.template.fill(values)
    answer = _not_applicable(spec, values) if url is None else await call_connector(ctx, spec, url)
    return _result(ConnectorTestOut, spec, answer, data.locale, cached=False, url=url)


async def _look_up(
    ctx: AppContext, spec: ConnectorSpec, customer_id: int, values: Mapping[str, str]
) -> tuple[Answer, bool]:
    url = spec.template.fill(values)
    if url is None:
        return _not_applicable(spec, values), False
    cache = answer_cache(ctx)
    kept = cache.get(spec, customer_id, url, now=ctx.clock.now())
    if kept is not None:
        return kept, True
    answer = await call_connector(ctx, spec, url)
    if answer.status not in (ConnectorStatus.OK, ConnectorStatus.NOT_FOUND):
        log.warning(
            "connector call failed",
            connector_id=spec.id,
            status=answer.status.value,
            error=answer.error,
        )
    cache.put(spec, customer_id, url, answer)
    return answer, False


def _not_applicable(spec: ConnectorSpec, values: Mapping[str, str]) -> Answer:
    names = ", ".join("{" + name + "}" for name in spec.template.missing(values))
    return Answer(ConnectorStatus.NOT_APPLICABLE, error=f"the customer has no value for {names}")


def _result(
    shape: type[R],
    spec: ConnectorSpec,
    answer: Answer,
    locale: str,
    *,
    cached: bool,
    url: str | None = None,
) -> R:
    fields = [
        FieldShown(
            label=pick_label(field.labels, locale),
            value=value,
            format=fmt,
            currency=field.currency if fmt is FieldFormat.MONEY else None,
        )
        for field, (value, fmt) in zip(spec.fields, answer.values, strict=False)
    ]
    extra = {"url": url, "http_status": answer.http_status} if shape is ConnectorTestOut else {}
    return shape.model_validate(
        {
            "connector_id": spec.id,
            "name": pick_label(dict(spec.labels), locale) if spec.labels else spec.name,
            "status": answer.status,
            "fields": fields,
            "fetched_at": answer.fetched_at,
            "cached": cached,
            "error": answer.error,
            **extra,
        }
    )


async def _customer_values(session: AsyncSession, customer: Customer) -> dict[str, str]:
    rows = await session.execute(
        select(CustomerIdentity.kind, CustomerIdentity.value, CustomerIdentity.verified)
        .where(
            CustomerIdentity.customer_id == customer.id,
            CustomerIdentity.kind.in_(list(IDENTITY_PLACEHOLDERS)),
        )
        .order_by(CustomerIdentity.id)
    )
    identities = [(kind, value, verified) for kind, value, verified in rows]
    return customer_values(customer.id, identities, customer.attributes)


def _spec(ctx: AppContext, row: Connector) -> ConnectorSpec:
    """The connector as a call uses it, its credential opened (a stored connector was
    checked when it was written, so its template and paths parse)."""
    headers: tuple[tuple[str, str], ...] = ()
    problem = None
    try:
        headers = _auth_headers(ctx, row)
    except SecretUnreadable:
        problem = _UNREADABLE
    return ConnectorSpec(
        id=row.id,
        name=row.name,
        labels=tuple(row.labels.items()),
        template=parse_url_template(row.url_template),
        fields=tuple(_field(item) for item in row.fields),
        timeout_ms=row.timeout_ms,
        cache_seconds=row.cache_seconds,
        headers=headers,
        auth_problem=problem,
        version=_version(row),
    )


def _field(item: Mapping[str, object]) -> FieldSpec:
    labels = item.get("label")
    currency = item.get("currency")
    return FieldSpec(
        labels=dict(labels) if isinstance(labels, dict) else {},
        path=parse_path(str(item["path"])),
        format=FieldFormat(str(item.get("format", FieldFormat.TEXT))),
        currency=currency if isinstance(currency, str) else None,
    )


def _auth_headers(ctx: AppContext, row: Connector) -> tuple[tuple[str, str], ...]:
    if row.auth_kind is AuthKind.NONE or row.secret is None:
        return ()
    secret = open_secret(ctx.settings.security.secret_key.get_secret_value(), row.secret)
    if row.auth_kind is AuthKind.BEARER:
        return (("Authorization", f"Bearer {secret}"),)
    if row.auth_kind is AuthKind.BASIC:
        pair = f"{row.auth_username or ''}:{secret}".encode()
        return (("Authorization", "Basic " + base64.b64encode(pair).decode("ascii")),)
    return ((row.auth_header or "X-Api-Key", secret),)


def _version(row: Connector) -> str:
    """A digest of everything that shapes an answer: another one means a new answer."""
    shaping: Sequence[object] = (
        row.url_template,
        row.auth_kind.value,
        row.auth_username,
        row.auth_header,
        row.secret,
        row.fields,
        row.timeout_ms,
    )
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()
