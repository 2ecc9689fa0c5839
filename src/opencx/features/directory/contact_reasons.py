"""Contact reasons: one tree per axis (declaration, qualification, action), labelled per
locale, that contacts are coded with (MISSION.md §4).

Rules: a parent lies on its child's axis; no node is its own ancestor; a tree is at most
``MAX_DEPTH`` levels deep; ``code`` is unique per axis; every node has an English label.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import ReasonAxis
from opencx.core.errors import Conflict, InvalidInput
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import ContactReason, Conversation, Interaction
from opencx.features.common import InputSchema, Page, Schema, get_or_404, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.directory._changes import (
    RefId,
    name_prefix,
    record_change,
    refuse_if_used,
    reject_nulls,
)

__all__ = [
    "MAX_DEPTH",
    "ReasonCreate",
    "ReasonNode",
    "ReasonOut",
    "ReasonUpdate",
    "create_reason",
    "delete_reason",
    "get_reason",
    "list_reasons",
    "reason_tree",
    "update_reason",
]

KIND = "contact_reason"
LABEL = "contact reason"
MAX_DEPTH = 8
LOCALE = r"^[a-z]{2}(-[A-Z]{2})?$"
CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def _needs_english(labels: dict[str, str]) -> dict[str, str]:
    if "en" not in labels:
        raise ValueError("an English label ('en') is required")
    return labels


Labels = Annotated[
    dict[
        Annotated[str, Field(pattern=LOCALE, max_length=5)],
        Annotated[str, Field(min_length=1, max_length=200)],
    ],
    Field(min_length=1, max_length=50, examples=[{"en": "Delivery", "fr": "Livraison"}]),
    AfterValidator(_needs_english),
]
Code = Annotated[str, Field(min_length=1, max_length=80, pattern=CODE, examples=["delivery.late"])]


class ReasonCreate(InputSchema):
    axis: ReasonAxis
    code: Code
    parent_id: RefId | None = None
    labels: Labels
    is_active: bool = True


class ReasonUpdate(InputSchema):
    """``parent_id: null`` makes the node a root; the axis never changes."""

    code: Code | None = None
    parent_id: RefId | None = None
    labels: Labels | None = None
    is_active: bool | None = None


class ReasonOut(Schema):
    id: int
    axis: ReasonAxis
    code: str
    parent_id: int | None
    labels: dict[str, str]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class ReasonNode(Schema):
    id: int
    code: str
    labels: dict[str, str]
    is_active: bool
    children: list[ReasonNode]


async def list_reasons(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    axis: ReasonAxis | None = None,
    parent_id: int | None = None,
    is_active: bool | None = None,
    q: str | None = None,
) -> Page[ReasonOut]:
    require(principal, Permission.DIRECTORY_READ)
    stmt = select(ContactReason)
    if axis is not None:
        stmt = stmt.where(ContactReason.axis == axis)
    if parent_id is not None:
        stmt = stmt.where(ContactReason.parent_id == parent_id)
    if is_active is not None:
        stmt = stmt.where(ContactReason.is_active == is_active)
    if q:
        stmt = stmt.where(name_prefix(ContactReason.code, q))
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=ContactReason.id,
            cursor=cursor,
            limit=limit,
            to_out=ReasonOut.model_validate,
        )


async def reason_tree(
    ctx: AppContext, principal: Principal, *, axis: ReasonAxis, active_only: bool = False
) -> list[ReasonNode]:
    """The axis as nested nodes, roots first, siblings by code; with ``active_only``, an
    inactive node is left out with everything under it."""
    require(principal, Permission.DIRECTORY_READ)
    async with transaction(ctx) as session:
        rows = (
            await session.scalars(
                select(ContactReason).where(ContactReason.axis == axis).order_by(ContactReason.code)
            )
        ).all()
    children: dict[int | None, list[ContactReason]] = {}
    for row in rows:
        if row.is_active or not active_only:
            children.setdefault(row.parent_id, []).append(row)

    def build(row: ContactReason) -> ReasonNode:
        return ReasonNode(
            id=row.id,
            code=row.code,
            labels=row.labels,
            is_active=row.is_active,
            children=[build(child) for child in children.get(row.id, [])],
        )

    return [build(root) for root in children.get(None, [])]


async def get_reason(ctx: AppContext, principal: Principal, reason_id: int) -> ReasonOut:
    require(principal, Permission.DIRECTORY_READ)
    async with transaction(ctx) as session:
        return ReasonOut.model_validate(await _get(session, reason_id))


async def create_reason(ctx: AppContext, principal: Principal, data: ReasonCreate) -> ReasonOut:
    require(principal, Permission.DIRECTORY_WRITE)
    fields = data.model_dump()
    try:
        async with transaction(ctx) as session:
            if data.parent_id is not None:
                await _check_parent(session, data.axis, data.parent_id)
                parents = await _parents(session, data.axis)
                if _depth(parents, data.parent_id) + 1 > MAX_DEPTH:
                    raise _too_deep()
            reason = ContactReason(**fields)
            session.add(reason)
            await session.flush()
            await _changed(
                session, ctx, principal, reason.id, "create", data.model_dump(mode="json")
            )
            return ReasonOut.model_validate(reason)
    except IntegrityError:
        raise _duplicate(data.axis, data.code) from None


async def update_reason(
    ctx: AppContext, principal: Principal, reason_id: int, data: ReasonUpdate
) -> ReasonOut:
    require(principal, Permission.DIRECTORY_WRITE)
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, nullable={"parent_id"})
    try:
        async with transaction(ctx) as session:
            reason = await _get(session, reason_id)
            if changes.get("parent_id") is not None:
                await _check_move(session, reason, changes["parent_id"])
            for name, value in changes.items():
                setattr(reason, name, value)
            await session.flush()
            await _changed(session, ctx, principal, reason.id, "update", changes)
            return ReasonOut.model_validate(reason)
    except IntegrityError:
        raise Conflict("another reason on this axis already has this code", field="code") from None


async def delete_reason(ctx: AppContext, principal: Principal, reason_id: int) -> None:
    """Delete a leaf no conversation or contact is coded with (409 otherwise; deactivate
    it instead)."""
    require(principal, Permission.DIRECTORY_WRITE)
    try:
        async with transaction(ctx) as session:
            reason = await _get(session, reason_id)
            await refuse_if_used(
                session,
                f"{LABEL} {reason_id}",
                {
                    "children": ContactReason.parent_id == reason_id,
                    "conversations": or_(
                        Conversation.declaration_reason_id == reason_id,
                        Conversation.qualification_reason_id == reason_id,
                        Conversation.action_reason_id == reason_id,
                    ),
                    "interactions": or_(
                        Interaction.declaration_reason_id == reason_id,
                        Interaction.qualification_reason_id == reason_id,
                        Interaction.action_reason_id == reason_id,
                    ),
                },
            )
            await session.delete(reason)
            await session.flush()
            await _changed(session, ctx, principal, reason_id, "delete", {"code": reason.code})
    except IntegrityError:  # something started using it meanwhile
        raise Conflict(f"{LABEL} {reason_id} is still in use") from None


async def _get(session: AsyncSession, reason_id: int) -> ContactReason:
    return await get_or_404(session, ContactReason, reason_id, LABEL)


async def _parents(session: AsyncSession, axis: ReasonAxis) -> dict[int, int | None]:
    rows = await session.execute(
        select(ContactReason.id, ContactReason.parent_id).where(ContactReason.axis == axis)
    )
    return dict(rows.all())


async def _check_parent(session: AsyncSession, axis: ReasonAxis, parent_id: int) -> None:
    parent = await session.get(ContactReason, parent_id)
    if parent is None:
        raise InvalidInput(f"{LABEL} {parent_id} does not exist", field="parent_id")
    if parent.axis is not axis:
        raise InvalidInput(
            f"the parent is on the {parent.axis.value} axis, not {axis.value}", field="parent_id"
        )


async def _check_move(session: AsyncSession, reason: ContactReason, parent_id: int) -> None:
    await _check_parent(session, reason.axis, parent_id)
    parents = await _parents(session, reason.axis)
    if parent_id == reason.id or reason.id in _ancestors(parents, parent_id):
        raise InvalidInput("a contact reason cannot move under itself", field="parent_id")
    if _depth(parents, parent_id) + 1 + _height(parents, reason.id) > MAX_DEPTH:
        raise _too_deep()


def _ancestors(parents: Mapping[int, int | None], node: int) -> list[int]:
    found: list[int] = []
    current = parents.get(node)
    while current is not None and current not in found:
        found.append(current)
        current = parents.get(current)
    return found


def _depth(parents: Mapping[int, int | None], node: int) -> int:
    """Levels from the root down to ``node`` (a root is at depth 1)."""
    return 1 + len(_ancestors(parents, node))


def _height(parents: Mapping[int, int | None], node: int) -> int:
    """Levels below ``node`` (a leaf has height 0)."""
    below = [child for child, parent in parents.items() if parent == node]
    return 1 + max(_height(parents, child) for child in below) if below else 0


def _too_deep() -> InvalidInput:
    return InvalidInput(
        f"a contact-reason tree is at most {MAX_DEPTH} levels deep", field="parent_id"
    )


def _duplicate(axis: ReasonAxis, code: str) -> Conflict:
    return Conflict(f"the {axis.value} axis already has a reason coded {code!r}", field="code")


async def _changed(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    reason_id: int,
    action: str,
    changes: dict[str, Any],
) -> None:
    await record_change(
        session, ctx, principal, kind=KIND, entity_id=reason_id, action=action, changes=changes
    )
