"""Loading canned responses and articles under the rules of ``core.knowledge``, and
recording their changes.

Rules:
- content the caller may not see reads as missing (404), so its existence does not
  leak; content they see but may not change is a 403;
- a new item's site is the one given (which the caller must see), else a partner-site
  user's own site, else none (the company's, shared with every site);
- every change is audited and recorded as a ``knowledge.changed`` event carrying the
  item's site, with no text in its payload (a personal response stays personal).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Role, SiteKind
from opencx.core.errors import InvalidInput, NotFound, PermissionDenied
from opencx.core.events import EventType
from opencx.core.knowledge import Audience, CannedScope, SourceKind, Viewer, may_manage, may_see
from opencx.core.permissions import Permission, Principal
from opencx.db.models import CannedResponse, KnowledgeArticle, Site, User
from opencx.features.context import AppContext
from opencx.features.events.record import record_audit, record_event

__all__ = [
    "article_audience",
    "article_visibility",
    "canned_audience",
    "canned_visibility",
    "check_manage",
    "choose_site",
    "load_article",
    "load_canned",
    "load_viewer",
    "record_knowledge_change",
]


async def load_viewer(session: AsyncSession, principal: Principal) -> Viewer:
    """The caller and their team, read now (a team change applies at once)."""
    user = await session.get(User, principal.user_id)
    return Viewer(principal=principal, team_id=user.team_id if user is not None else None)


def canned_audience(row: CannedResponse) -> Audience:
    return Audience(
        kind=SourceKind.CANNED,
        site_id=row.site_id,
        scope=row.scope,
        team_id=row.team_id,
        owner_id=row.owner_id,
    )


def article_audience(row: KnowledgeArticle) -> Audience:
    return Audience(kind=SourceKind.ARTICLE, site_id=row.site_id, published=row.published)


def _site_clause(principal: Principal, column: Any) -> ColumnElement[bool]:
    visible = principal.visible_site_ids
    if visible is None:
        return true()
    return or_(column.is_(None), column.in_(visible))


def canned_visibility(viewer: Viewer) -> ColumnElement[bool] | None:
    """``may_see`` for canned responses as a WHERE clause; ``None``: all of them."""
    principal = viewer.principal
    if principal.role is Role.ADMIN:
        return None
    team = (
        and_(CannedResponse.scope == CannedScope.TEAM, CannedResponse.team_id == viewer.team_id)
        if viewer.team_id is not None
        else false()
    )
    reach = or_(
        CannedResponse.scope == CannedScope.COMPANY,
        team,
        and_(
            CannedResponse.scope == CannedScope.PERSONAL,
            CannedResponse.owner_id == principal.user_id,
        ),
    )
    return and_(reach, _site_clause(principal, CannedResponse.site_id))


def article_visibility(viewer: Viewer) -> ColumnElement[bool] | None:
    """``may_see`` for articles as a WHERE clause; ``None``: all of them."""
    principal = viewer.principal
    if principal.role is Role.ADMIN:
        return None
    site = _site_clause(principal, KnowledgeArticle.site_id)
    if principal.can(Permission.KNOWLEDGE_WRITE):
        return site
    return and_(KnowledgeArticle.published.is_(True), site)


async def load_canned(
    session: AsyncSession, viewer: Viewer, response_id: int, *, for_update: bool = False
) -> CannedResponse:
    row = await session.get(CannedResponse, response_id, with_for_update=for_update or None)
    if row is None or not may_see(viewer, canned_audience(row)):
        raise NotFound(f"canned response {response_id} does not exist")
    return row


async def load_article(
    session: AsyncSession, viewer: Viewer, article_id: int, *, for_update: bool = False
) -> KnowledgeArticle:
    row = await session.get(KnowledgeArticle, article_id, with_for_update=for_update or None)
    if row is None or not may_see(viewer, article_audience(row)):
        raise NotFound(f"article {article_id} does not exist")
    return row


def check_manage(viewer: Viewer, audience: Audience, what: str) -> None:
    """403 unless the viewer may create, change or delete ``what`` of this audience."""
    if not may_manage(viewer, audience):
        raise PermissionDenied(
            f"the {viewer.principal.role.value} role may not manage {what}",
            permission=_permission_for(audience).value,
        )


def _permission_for(audience: Audience) -> Permission:
    if audience.kind is SourceKind.ARTICLE:
        return Permission.KNOWLEDGE_WRITE
    return {
        CannedScope.PERSONAL: Permission.CANNED_WRITE_OWN,
        CannedScope.TEAM: Permission.CANNED_WRITE_TEAM,
    }.get(audience.scope or CannedScope.COMPANY, Permission.CANNED_WRITE_ANY)


async def choose_site(
    session: AsyncSession, principal: Principal, site_id: int | None
) -> int | None:
    """The site a new item belongs to (see the module's rules)."""
    if site_id is None:
        return principal.site_id if principal.site_kind is SiteKind.PARTNER else None
    if await session.get(Site, site_id) is None or not principal.sees_site(site_id):
        raise InvalidInput(f"site {site_id} does not exist", field="site_id")
    return site_id


async def record_knowledge_change(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    *,
    kind: str,
    entity_id: int,
    action: str,
    site_id: int | None,
    changes: dict[str, Any],
    payload: dict[str, Any],
) -> None:
    """Audit ``{kind}.{action}`` with ``changes``; record ``knowledge.changed`` with
    ``{"kind", "action"}`` and ``payload`` (no text)."""
    record_audit(
        session,
        ctx,
        actor_user_id=principal.user_id,
        action=f"{kind}.{action}",
        entity_kind=kind,
        entity_id=entity_id,
        changes=changes,
    )
    await record_event(
        session,
        ctx,
        EventType.KNOWLEDGE_CHANGED,
        entity_kind=kind,
        entity_id=entity_id,
        payload={"kind": kind, "action": action, **payload},
        actor_user_id=principal.user_id,
        site_id=site_id,
    )
