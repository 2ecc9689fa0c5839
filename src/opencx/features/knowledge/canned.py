"""Canned responses: ready answers with variables, the company's, a team's or one's own.

Who sees and manages which is ``core.knowledge``'s rule; ``access`` applies it. A
shortcut is unique within its scope (409 otherwise). Rendering fills the variables
from a conversation the caller may read, as the caller (``agent``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import IdentityKind
from opencx.core.errors import Conflict, InvalidInput, NotFound
from opencx.core.knowledge import (
    Audience,
    CannedScope,
    ContentLocale,
    SourceKind,
    Viewer,
    scope_key,
)
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import CannedResponse, Conversation, Customer, CustomerIdentity, Team, User
from opencx.features.common import Page, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation
from opencx.features.knowledge.access import (
    canned_audience,
    canned_visibility,
    check_manage,
    choose_site,
    load_canned,
    load_viewer,
    record_knowledge_change,
)
from opencx.features.knowledge.rendering import Variables, case_variables, render
from opencx.features.knowledge.schemas import (
    CannedCreate,
    CannedOut,
    CannedUpdate,
    RenderIn,
    RenderOut,
)

__all__ = [
    "conversation_variables",
    "create_canned_response",
    "delete_canned_response",
    "get_canned_response",
    "list_canned_responses",
    "render_canned_response",
    "update_canned_response",
]

KIND = "canned_response"


async def list_canned_responses(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    q: str | None = None,
    locale: ContentLocale | None = None,
    scope: CannedScope | None = None,
) -> Page[CannedOut]:
    """The responses the caller sees, by id; ``q`` finds words in the title, the body
    or the shortcut (case-insensitive)."""
    require(principal, Permission.CANNED_READ)
    stmt = select(CannedResponse)
    if q:
        needle = q.lower()
        stmt = stmt.where(
            or_(
                *(
                    func.lower(column).contains(needle, autoescape=True)
                    for column in (
                        CannedResponse.title,
                        CannedResponse.body,
                        CannedResponse.shortcut,
                    )
                )
            )
        )
    if locale is not None:
        stmt = stmt.where(CannedResponse.locale == locale.value)
    if scope is not None:
        stmt = stmt.where(CannedResponse.scope == scope)
    async with transaction(ctx) as session:
        visibility = canned_visibility(await load_viewer(session, principal))
        if visibility is not None:
            stmt = stmt.where(visibility)
        return await paginate(
            session,
            stmt,
            id_column=CannedResponse.id,
            cursor=cursor,
            limit=limit,
            to_out=CannedOut.model_validate,
        )


async def get_canned_response(ctx: AppContext, principal: Principal, response_id: int) -> CannedOut:
    require(principal, Permission.CANNED_READ)
    async with transaction(ctx) as session:
        viewer = await load_viewer(session, principal)
        return CannedOut.model_validate(await load_canned(session, viewer, response_id))


async def create_canned_response(
    ctx: AppContext, principal: Principal, data: CannedCreate
) -> CannedOut:
    require(principal, Permission.CANNED_WRITE_OWN)
    _check_scope_fields(data)
    try:
        async with transaction(ctx) as session:
            viewer = await load_viewer(session, principal)
            site_id = await choose_site(session, principal, data.site_id)
            owner_id = principal.user_id if data.scope is CannedScope.PERSONAL else None
            audience = Audience(
                kind=SourceKind.CANNED,
                site_id=site_id,
                scope=data.scope,
                team_id=data.team_id,
                owner_id=owner_id,
            )
            check_manage(viewer, audience, f"{data.scope.value} canned responses")
            if data.team_id is not None and await session.get(Team, data.team_id) is None:
                raise InvalidInput(f"team {data.team_id} does not exist", field="team_id")
            row = CannedResponse(
                **data.model_dump(exclude={"site_id"}),
                site_id=site_id,
                owner_id=owner_id,
                scope_key=scope_key(data.scope, team_id=data.team_id, owner_id=owner_id),
            )
            session.add(row)
            await session.flush()
            await _record(session, ctx, principal, row, "create", data.model_dump(mode="json"))
            return CannedOut.model_validate(row)
    except IntegrityError:
        raise _shortcut_taken(data.shortcut) from None


async def update_canned_response(
    ctx: AppContext, principal: Principal, response_id: int, data: CannedUpdate
) -> CannedOut:
    require(principal, Permission.CANNED_WRITE_OWN)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name != "shortcut":
            raise InvalidInput(f"{name} cannot be set to null", field=name)
    try:
        async with transaction(ctx) as session:
            viewer = await load_viewer(session, principal)
            row = await load_canned(session, viewer, response_id, for_update=True)
            check_manage(viewer, canned_audience(row), "this canned response")
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = ctx.clock.now()
            await session.flush()
            await _record(
                session,
                ctx,
                principal,
                row,
                "update",
                data.model_dump(mode="json", exclude_unset=True),
            )
            return CannedOut.model_validate(row)
    except IntegrityError:
        raise _shortcut_taken(changes.get("shortcut")) from None


async def delete_canned_response(ctx: AppContext, principal: Principal, response_id: int) -> None:
    require(principal, Permission.CANNED_WRITE_OWN)
    async with transaction(ctx) as session:
        viewer = await load_viewer(session, principal)
        row = await load_canned(session, viewer, response_id, for_update=True)
        check_manage(viewer, canned_audience(row), "this canned response")
        await session.delete(row)
        await session.flush()
        await _record(session, ctx, principal, row, "delete", {"title": row.title})


async def render_canned_response(
    ctx: AppContext, principal: Principal, response_id: int, data: RenderIn
) -> RenderOut:
    """The response's text for one conversation the caller may read, as they send it."""
    require(principal, Permission.CANNED_READ)
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        viewer = await load_viewer(session, principal)
        row = await load_canned(session, viewer, response_id)
        try:
            conversation = await load_conversation(session, principal, data.conversation_id)
        except NotFound:
            raise InvalidInput(
                f"conversation {data.conversation_id} does not exist", field="conversation_id"
            ) from None
        variables = await conversation_variables(session, viewer, conversation)
    return RenderOut(text=render(row.body, variables))


async def conversation_variables(
    session: AsyncSession, viewer: Viewer, conversation: Conversation
) -> Variables:
    """What a canned response may name, for ``conversation`` answered by the viewer."""
    email = (
        select(CustomerIdentity.value)
        .where(
            CustomerIdentity.customer_id == Customer.id,
            CustomerIdentity.kind == IdentityKind.EMAIL,
            CustomerIdentity.confirmed.is_(True),
        )
        .order_by(CustomerIdentity.id)
        .limit(1)
        .scalar_subquery()
    )
    found = (
        await session.execute(
            select(Customer, email).where(Customer.id == conversation.customer_id)
        )
    ).one_or_none()
    customer, email_address = found if found is not None else (None, None)
    agent = await session.get(User, viewer.principal.user_id)
    return case_variables(
        customer_name=customer.display_name if customer is not None else "",
        customer_attributes=customer.attributes if customer is not None else {},
        customer_email=email_address,
        agent_name=agent.display_name if agent is not None else "",
        conversation_id=conversation.id,
        subject=conversation.subject,
    )


def _check_scope_fields(data: CannedCreate) -> None:
    if data.scope is CannedScope.TEAM and data.team_id is None:
        raise InvalidInput("a team response needs team_id", field="team_id")
    if data.scope is not CannedScope.TEAM and data.team_id is not None:
        raise InvalidInput(
            f"team_id is for team responses, not {data.scope.value} ones", field="team_id"
        )


def _shortcut_taken(shortcut: str | None) -> Conflict:
    return Conflict(f"the shortcut {shortcut!r} is already used in this scope", field="shortcut")


async def _record(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    row: CannedResponse,
    action: str,
    changes: dict[str, Any],
) -> None:
    await record_knowledge_change(
        session,
        ctx,
        principal,
        kind=KIND,
        entity_id=row.id,
        action=action,
        site_id=row.site_id,
        changes=changes,
        payload={"scope": row.scope.value, "locale": row.locale},
    )
