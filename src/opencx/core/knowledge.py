"""Who sees and who manages the agent's toolbox: canned responses, knowledge-base
articles, and the past answers that suggestions draw from.

Rules:
- a canned response has a scope: ``company`` (no owner), ``team`` (one team) or
  ``personal`` (one user); a shortcut is unique within one scope (the company, one
  team, one user: ``scope_key``);
- admins read and manage everything;
- others read company responses, their own team's and their own personal ones; agents
  manage their personal ones (``canned.write_own``), supervisors also their team's
  (``canned.write_team``); company responses are managed by admins only
  (``canned.write_any``);
- knowledge-base articles: readers (``knowledge.read``) see published ones, writers
  (``knowledge.write``) unpublished ones too;
- sites: content with no site is the company's, shared with every site (partners
  answer customers with the company's words); content of a site is seen only by those
  who see that site. Managing needs the site in the manager's own reach: a partner-site
  user manages only their own site's content, never the company's;
- a past answer (an agent's words in a resolved conversation) is seen by whoever may
  read that conversation: ``conversations.read`` and its site (a conversation with no
  site is hidden from partner-site users, as everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from opencx.core.enums import Role
from opencx.core.permissions import Permission, Principal

__all__ = [
    "Audience",
    "CannedScope",
    "ContentLocale",
    "SourceKind",
    "Viewer",
    "may_manage",
    "may_see",
    "scope_key",
]


class CannedScope(StrEnum):
    COMPANY = "company"
    TEAM = "team"
    PERSONAL = "personal"


class ContentLocale(StrEnum):
    """Languages the toolbox is written and searched in (each has a stemmer)."""

    FR = "fr"
    EN = "en"


class SourceKind(StrEnum):
    """Where a suggestion comes from."""

    CANNED = "canned"
    ARTICLE = "article"
    PAST_ANSWER = "past_answer"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The caller as these rules see them: the principal and their team."""

    principal: Principal
    team_id: int | None = None


@dataclass(frozen=True, slots=True)
class Audience:
    """What decides who sees one piece of content; many pieces share one audience."""

    kind: SourceKind
    site_id: int | None = None
    scope: CannedScope | None = None  # canned responses only
    team_id: int | None = None  # team responses
    owner_id: int | None = None  # personal responses
    published: bool = True  # articles


def scope_key(scope: CannedScope, *, team_id: int | None, owner_id: int | None) -> str:
    """The namespace a shortcut is unique in: ``company``, ``team:7``, ``user:12``."""
    if scope is CannedScope.TEAM:
        return f"team:{team_id}"
    if scope is CannedScope.PERSONAL:
        return f"user:{owner_id}"
    return "company"


def may_see(viewer: Viewer, audience: Audience) -> bool:
    principal = viewer.principal
    if audience.kind is SourceKind.PAST_ANSWER:
        return principal.can(Permission.CONVERSATIONS_READ) and principal.sees_site(
            audience.site_id
        )
    if principal.role is Role.ADMIN:
        return True
    if audience.site_id is not None and not principal.sees_site(audience.site_id):
        return False
    if audience.kind is SourceKind.ARTICLE:
        if not audience.published:
            return principal.can(Permission.KNOWLEDGE_WRITE)
        return principal.can(Permission.KNOWLEDGE_READ)
    return principal.can(Permission.CANNED_READ) and _in_reach(viewer, audience)


def may_manage(viewer: Viewer, audience: Audience) -> bool:
    """Whether the viewer may change or delete content of this audience (or create it)."""
    principal = viewer.principal
    if principal.role is Role.ADMIN:
        return True
    if not principal.sees_site(audience.site_id):
        return False
    if audience.kind is SourceKind.ARTICLE:
        return principal.can(Permission.KNOWLEDGE_WRITE)
    if audience.kind is not SourceKind.CANNED:
        return False
    if audience.scope is CannedScope.PERSONAL:
        return principal.can(Permission.CANNED_WRITE_OWN) and _in_reach(viewer, audience)
    if audience.scope is CannedScope.TEAM:
        return principal.can(Permission.CANNED_WRITE_TEAM) and _in_reach(viewer, audience)
    return principal.can(Permission.CANNED_WRITE_ANY)


def _in_reach(viewer: Viewer, audience: Audience) -> bool:
    """A canned response's scope includes the viewer."""
    if audience.scope is CannedScope.TEAM:
        return audience.team_id is not None and audience.team_id == viewer.team_id
    if audience.scope is CannedScope.PERSONAL:
        return audience.owner_id == viewer.principal.user_id
    return True
