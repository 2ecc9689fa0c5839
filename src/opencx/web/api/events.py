"""/api/v1/events: the event log, for integrators polling with ``after_id``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from opencx.core.ids import MAX_BIG_ID
from opencx.features.common import Page
from opencx.features.events import history
from opencx.web.deps import TEXT, ContextDep, CursorQuery, IsoDateTime, LimitQuery, PrincipalDep

router = APIRouter(prefix="/events", tags=["events"])

#: Event ids and their entity ids are BIGINT.


@router.get("", response_model=Page[history.EventOut])
async def list_events(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    type: Annotated[
        str | None, Query(max_length=64, pattern=TEXT, description="e.g. message.created")
    ] = None,
    entity_kind: Annotated[str | None, Query(max_length=32, pattern=TEXT)] = None,
    entity_id: Annotated[int | None, Query(ge=0, le=MAX_BIG_ID)] = None,
    after_id: Annotated[
        int | None, Query(ge=0, le=MAX_BIG_ID, description="the last event id you processed")
    ] = None,
    since: Annotated[IsoDateTime | None, Query(description="inclusive")] = None,
    until: Annotated[IsoDateTime | None, Query(description="exclusive")] = None,
) -> Page[history.EventOut]:
    return await history.list_events(
        ctx,
        principal,
        cursor=cursor,
        limit=limit,
        type_=type,
        entity_kind=entity_kind,
        entity_id=entity_id,
        after_id=after_id,
        since=since,
        until=until,
    )
