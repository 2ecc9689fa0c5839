"""/api/v1/customers: profiles, identities, resolution and merges.

A merged customer stays readable at its id, with ``merged_into_id`` naming the customer
it was folded into; lists leave merged customers out.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from opencx.features import customers
from opencx.features.common import MAX_PAGE, Page
from opencx.web.deps import TEXT, ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created, created_or_found

router = APIRouter(prefix="/customers", tags=["customers"])


IdentityQuery = Annotated[
    str | None,
    Query(
        max_length=400,
        pattern=TEXT,
        description="kind:value, e.g. email:jane@example.com (encode + as %2B)",
    ),
]
RegionQuery = Annotated[
    str | None, Query(pattern=r"^[A-Za-z]{2}$", description="for national phone numbers")
]


@router.get("", response_model=Page[customers.CustomerOut])
async def list_customers(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    q: Annotated[
        str | None, Query(max_length=200, pattern=TEXT, description="in display name")
    ] = None,
    identity: IdentityQuery = None,
    region: RegionQuery = None,
    segment: Annotated[str | None, Query(max_length=64, pattern=TEXT)] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
) -> Page[customers.CustomerOut]:
    return await customers.list_customers(
        ctx,
        principal,
        cursor=cursor,
        limit=limit,
        q=q,
        identity=identity,
        region=region,
        segment=segment,
        country=country,
    )


@router.post("", status_code=201, response_model=customers.CustomerDetail)
async def create_customer(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: customers.CustomerCreate
) -> JSONResponse:
    return await created(
        request, ctx, principal, lambda: customers.create_customer(ctx, principal, body)
    )


@router.post(
    "/resolve",
    status_code=201,
    response_model=customers.CustomerDetail,
    responses={200: {"model": customers.CustomerDetail, "description": "Found"}},
)
async def resolve_customer(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: customers.ResolveIn
) -> JSONResponse:
    """The customer owning the identity (200), or a new one created with it (201)."""
    return await created_or_found(
        request, ctx, principal, lambda: customers.resolve_customer_for(ctx, principal, body)
    )


@router.get("/{customer_id}", response_model=customers.CustomerDetail)
async def get_customer(
    ctx: ContextDep, principal: PrincipalDep, customer_id: EntityId
) -> customers.CustomerDetail:
    return await customers.get_customer(ctx, principal, customer_id)


@router.get("/{customer_id}/overview", response_model=customers.CustomerOverview)
async def customer_overview(
    ctx: ContextDep,
    principal: PrincipalDep,
    customer_id: EntityId,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="most recent conversations listed")
    ] = 50,
) -> customers.CustomerOverview:
    """The customer 360 view: profile, identities, conversations on every channel (most
    recent first), open tasks and contacts per channel."""
    return await customers.customer_overview(ctx, principal, customer_id, limit=limit)


@router.patch("/{customer_id}", response_model=customers.CustomerDetail)
async def update_customer(
    ctx: ContextDep, principal: PrincipalDep, customer_id: EntityId, body: customers.CustomerUpdate
) -> customers.CustomerDetail:
    return await customers.update_customer(ctx, principal, customer_id, body)


@router.post("/{customer_id}/identities", status_code=201, response_model=customers.IdentityOut)
async def add_identity(
    request: Request,
    ctx: ContextDep,
    principal: PrincipalDep,
    customer_id: EntityId,
    body: customers.IdentityIn,
) -> JSONResponse:
    return await created(
        request, ctx, principal, lambda: customers.add_identity(ctx, principal, customer_id, body)
    )


@router.post(
    "/{customer_id}/identities/{identity_id}/confirm", response_model=customers.IdentityOut
)
async def confirm_identity(
    ctx: ContextDep, principal: PrincipalDep, customer_id: EntityId, identity_id: EntityId
) -> customers.IdentityOut:
    """Let answers go to an address that only a message named (its Reply-To)."""
    return await customers.confirm_identity(ctx, principal, customer_id, identity_id)


@router.delete("/{customer_id}/identities/{identity_id}", status_code=204)
async def remove_identity(
    ctx: ContextDep, principal: PrincipalDep, customer_id: EntityId, identity_id: EntityId
) -> Response:
    await customers.remove_identity(ctx, principal, customer_id, identity_id)
    return Response(status_code=204)


@router.post("/{customer_id}/merge", status_code=201, response_model=customers.MergeOut)
async def merge_customer(
    request: Request,
    ctx: ContextDep,
    principal: PrincipalDep,
    customer_id: EntityId,
    body: customers.MergeIn,
) -> JSONResponse:
    """Fold ``source_customer_id`` into this customer; answers the merge record."""
    return await created(
        request,
        ctx,
        principal,
        lambda: customers.merge_customers(ctx, principal, customer_id, body),
    )


@router.get("/{customer_id}/merges", response_model=Page[customers.MergeOut])
async def list_merges(
    ctx: ContextDep,
    principal: PrincipalDep,
    customer_id: EntityId,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[customers.MergeOut]:
    return await customers.list_merges(ctx, principal, customer_id, cursor=cursor, limit=limit)
