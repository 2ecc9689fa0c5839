"""What every directory service does around a change: audit, event, input checks."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from opencx.core.errors import Conflict, InvalidInput
from opencx.core.events import EventType
from opencx.core.ids import MAX_ID
from opencx.core.permissions import Principal
from opencx.features.context import AppContext
from opencx.features.events.record import record_audit, record_event

__all__ = [
    "MAX_ID",
    "RefId",
    "check_exists",
    "name_prefix",
    "record_change",
    "refuse_if_used",
    "reject_nulls",
]

#: An id given in input to refer to another row.
RefId = Annotated[int, Field(ge=1, le=MAX_ID)]


async def record_change(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    *,
    kind: str,
    entity_id: int,
    action: str,
    changes: Mapping[str, Any],
    event: EventType = EventType.DIRECTORY_CHANGED,
    site_id: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Audit ``{kind}.{action}`` with ``changes`` and record ``event`` with payload
    ``{"kind": kind, "action": action}`` (plus ``extra``)."""
    record_audit(
        session,
        ctx,
        actor_user_id=principal.user_id,
        action=f"{kind}.{action}",
        entity_kind=kind,
        entity_id=entity_id,
        changes=dict(changes),
    )
    await record_event(
        session,
        ctx,
        event,
        entity_kind=kind,
        entity_id=entity_id,
        payload={"kind": kind, "action": action, **(extra or {})},
        actor_user_id=principal.user_id,
        site_id=site_id,
    )


def reject_nulls(changes: Mapping[str, Any], *, nullable: Collection[str] = ()) -> None:
    """A PATCH may clear only the fields in ``nullable``."""
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise InvalidInput(f"{name} cannot be set to null", field=name)


def name_prefix(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    """Case-insensitive 'starts with', wildcards taken literally."""
    return func.lower(column).startswith(prefix.lower(), autoescape=True)


async def check_exists(
    session: AsyncSession, model: type[Any], entity_id: int | None, *, field: str, label: str
) -> None:
    """A foreign key given in input must name an existing row (422 otherwise)."""
    if entity_id is not None and await session.get(model, entity_id) is None:
        raise InvalidInput(f"{label} {entity_id} does not exist", field=field)


async def refuse_if_used(
    session: AsyncSession,
    label: str,
    uses: Mapping[str, ColumnElement[bool]],
) -> None:
    """409 naming what still refers to the row, when anything does."""
    found: dict[str, int] = {}
    for what, condition in uses.items():
        count = await session.scalar(select(func.count()).where(condition))
        if count:
            found[what] = int(count)
    if found:
        listing = ", ".join(f"{n} {what}" for what, n in found.items())
        raise Conflict(f"{label} is still in use ({listing})", used_by=found)
