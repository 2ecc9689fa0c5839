"""/api/v1/connectors (admins' configuration) and /api/v1/customers/{id}/connectors
(what the agent desktop shows beside a customer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from opencx.features import connectors
from opencx.features.common import Page
from opencx.web.deps import ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(tags=["connectors"])

LocaleQuery = Annotated[
    str,
    Query(
        pattern=r"^[a-z]{2}([-_][A-Za-z]{2})?$",
        description="the language of the labels (fr, en…); English when one is missing",
    ),
]


@router.get("/connectors", response_model=Page[connectors.ConnectorOut])
async def list_connectors(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    enabled: bool | None = None,
) -> Page[connectors.ConnectorOut]:
    return await connectors.list_connectors(
        ctx, principal, cursor=cursor, limit=limit, enabled=enabled
    )


@router.post("/connectors", status_code=201, response_model=connectors.ConnectorOut)
async def create_connector(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: connectors.ConnectorCreate
) -> JSONResponse:
    return await created(
        request, ctx, principal, lambda: connectors.create_connector(ctx, principal, body)
    )


@router.get("/connectors/{connector_id}", response_model=connectors.ConnectorOut)
async def get_connector(
    ctx: ContextDep, principal: PrincipalDep, connector_id: EntityId
) -> connectors.ConnectorOut:
    return await connectors.get_connector(ctx, principal, connector_id)


@router.patch("/connectors/{connector_id}", response_model=connectors.ConnectorOut)
async def update_connector(
    ctx: ContextDep,
    principal: PrincipalDep,
    connector_id: EntityId,
    body: connectors.ConnectorUpdate,
) -> connectors.ConnectorOut:
    return await connectors.update_connector(ctx, principal, connector_id, body)


@router.delete("/connectors/{connector_id}", status_code=204)
async def delete_connector(
    ctx: ContextDep, principal: PrincipalDep, connector_id: EntityId
) -> Response:
    await connectors.delete_connector(ctx, principal, connector_id)
    return Response(status_code=204)


@router.post("/connectors/{connector_id}/test", response_model=connectors.ConnectorTestOut)
async def test_connector(
    ctx: ContextDep,
    principal: PrincipalDep,
    connector_id: EntityId,
    body: connectors.ConnectorTestIn,
) -> connectors.ConnectorTestOut:
    """Call the business system about one customer now (no cache), even when disabled."""
    return await connectors.test_connector(ctx, principal, connector_id, body)


@router.get(
    "/customers/{customer_id}/connectors",
    response_model=list[connectors.ConnectorResult],
    tags=["customers"],
)
async def customer_connectors(
    ctx: ContextDep, principal: PrincipalDep, customer_id: EntityId, locale: LocaleQuery = "en"
) -> list[connectors.ConnectorResult]:
    """Every enabled connector visible to the caller's site, asked about this customer
    at once; a failing system gives its own line a status, never the whole call."""
    return await connectors.customer_connectors(ctx, principal, customer_id, locale=locale)
