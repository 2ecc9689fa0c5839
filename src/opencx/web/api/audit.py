"""/api/v1/audit: the trail of changes, for admins."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from opencx.core.ids import MAX_BIG_ID
from opencx.features.common import Page
from opencx.features.events import history
from opencx.web.deps import (
    MAX_ID,
    TEXT,
    ContextDep,
    CursorQuery,
    IsoDateTime,
    LimitQuery,
    PrincipalDep,
)

router = APIRouter(prefix="/audit", tags=["audit"])


IdFilter = Annotated[int | None, Query(ge=0, le=MAX_ID)]
#: Audit entries name their entity with a BIGINT.
BigIdFilter = Annotated[int | None, Query(ge=0, le=MAX_BIG_ID)]


@router.get("", response_model=Page[history.AuditOut])
async def list_audit(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    actor_user_id: IdFilter = None,
    action: Annotated[
        str | None, Query(max_length=64, pattern=TEXT, description="e.g. customer.merge")
    ] = None,
    entity_kind: Annotated[str | None, Query(max_length=32, pattern=TEXT)] = None,
    entity_id: BigIdFilter = None,
    since: Annotated[IsoDateTime | None, Query(description="inclusive")] = None,
    until: Annotated[IsoDateTime | None, Query(description="exclusive")] = None,
    order: Annotated[
        Literal["oldest", "newest"], Query(description="newest: the latest change first")
    ] = "oldest",
) -> Page[history.AuditOut]:
    return await history.list_audit(
        ctx,
        principal,
        cursor=cursor,
        limit=limit,
        actor_user_id=actor_user_id,
        action=action,
        entity_kind=entity_kind,
        entity_id=entity_id,
        since=since,
        until=until,
        newest_first=order == "newest",
    )
