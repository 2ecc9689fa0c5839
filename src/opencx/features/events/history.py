"""Reading the event log and the audit trail.

The event log is the source of every live view and KPI; integrators poll it with
``after_id`` (the last id they processed) and get what happened since, in order.
Partner-site users read the events of the sites they see, and no event that belongs to
no site. The audit trail is for admins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import AuditEntry, Event
from opencx.features.common import Page, Schema, paginate
from opencx.features.context import AppContext, transaction

__all__ = ["AuditOut", "EventOut", "list_audit", "list_events"]


class EventOut(Schema):
    id: int
    type: str
    entity_kind: str
    entity_id: int
    site_id: int | None
    actor_user_id: int | None
    payload: dict[str, Any]
    occurred_at: datetime


class AuditOut(Schema):
    id: int
    actor_user_id: int | None
    action: str
    entity_kind: str
    entity_id: int | None
    changes: dict[str, Any]
    at: datetime


async def list_events(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    type_: str | None = None,
    entity_kind: str | None = None,
    entity_id: int | None = None,
    after_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[EventOut]:
    """Oldest first; ``since`` is inclusive, ``until`` exclusive."""
    require(principal, Permission.EVENTS_READ)
    stmt = select(Event)
    visible = principal.visible_site_ids
    if visible is not None:
        stmt = stmt.where(Event.site_id.in_(visible))
    if type_ is not None:
        stmt = stmt.where(Event.type == type_)
    if entity_kind is not None:
        stmt = stmt.where(Event.entity_kind == entity_kind)
    if entity_id is not None:
        stmt = stmt.where(Event.entity_id == entity_id)
    if after_id is not None:
        stmt = stmt.where(Event.id > after_id)
    if since is not None:
        stmt = stmt.where(Event.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(Event.occurred_at < until)
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=Event.id,
            cursor=cursor,
            limit=limit,
            to_out=EventOut.model_validate,
        )


async def list_audit(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    actor_user_id: int | None = None,
    action: str | None = None,
    entity_kind: str | None = None,
    entity_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    newest_first: bool = False,
) -> Page[AuditOut]:
    """Oldest first, or newest first if asked; ``since`` is inclusive, ``until`` exclusive."""
    require(principal, Permission.AUDIT_READ)
    stmt = select(AuditEntry)
    filters: dict[str, Any] = {
        "actor_user_id": actor_user_id,
        "action": action,
        "entity_kind": entity_kind,
        "entity_id": entity_id,
    }
    for name, value in filters.items():
        if value is not None:
            stmt = stmt.where(getattr(AuditEntry, name) == value)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=AuditEntry.id,
            cursor=cursor,
            limit=limit,
            to_out=AuditOut.model_validate,
            newest_first=newest_first,
        )
