"""/api/v1/sites"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from opencx.core.enums import SiteKind
from opencx.features.common import Page
from opencx.features.directory import sites
from opencx.web.deps import ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(prefix="/sites", tags=["sites"])


@router.get("", response_model=Page[sites.SiteOut])
async def list_sites(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    kind: SiteKind | None = None,
) -> Page[sites.SiteOut]:
    return await sites.list_sites(ctx, principal, cursor=cursor, limit=limit, kind=kind)


@router.post("", status_code=201, response_model=sites.SiteOut)
async def create_site(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: sites.SiteCreate
) -> JSONResponse:
    return await created(request, ctx, principal, lambda: sites.create_site(ctx, principal, body))


@router.get("/{site_id}", response_model=sites.SiteOut)
async def get_site(ctx: ContextDep, principal: PrincipalDep, site_id: EntityId) -> sites.SiteOut:
    return await sites.get_site(ctx, principal, site_id)


@router.patch("/{site_id}", response_model=sites.SiteOut)
async def update_site(
    ctx: ContextDep, principal: PrincipalDep, site_id: EntityId, body: sites.SiteUpdate
) -> sites.SiteOut:
    return await sites.update_site(ctx, principal, site_id, body)
