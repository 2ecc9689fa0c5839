"""Who may do what, and which sites' data they may see.

Rules:
- a role grants a fixed set of permissions (``ROLE_PERMISSIONS`` is the whole table);
- admins see every site; so do users of an internal site and users with no site
  (a company that has not described its sites is one internal site);
- users of a partner site see their own site plus the sites granted to them, and
  nothing that belongs to no site;
- only a channel writes what a customer sent: an inbound message, one authored by the
  customer or the system, or one carrying a provider's message id needs
  ``channels.ingest`` (admins' integration tokens; our own channels act as the system).
  An agent writes outbound messages as themselves, with no provider id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from opencx.core.enums import AuthorKind, Direction, Role, SiteKind
from opencx.core.errors import PermissionDenied

__all__ = [
    "ROLE_PERMISSIONS",
    "Permission",
    "Principal",
    "message_permission",
    "require",
]


class Permission(StrEnum):
    DIRECTORY_READ = "directory.read"  # sites, teams, skills, queues, hours, reasons
    DIRECTORY_WRITE = "directory.write"
    USERS_READ = "users.read"
    USERS_WRITE = "users.write"
    CUSTOMERS_READ = "customers.read"
    CUSTOMERS_WRITE = "customers.write"
    CUSTOMERS_MERGE = "customers.merge"
    CONVERSATIONS_READ = "conversations.read"
    CONVERSATIONS_WRITE = "conversations.write"
    PRESENCE_SET_OWN = "presence.set_own"
    PRESENCE_SET_ANY = "presence.set_any"
    SITES_STEER = "sites.steer"  # open, close, drain a site
    QUEUES_THRESHOLDS = "queues.thresholds"  # set a queue's alert thresholds (cockpit)
    EVENTS_READ = "events.read"
    AUDIT_READ = "audit.read"
    SUPERVISE = "supervise"  # live supervisor views
    REPORTS_READ = "reports.read"  # KPI reports (interval figures)
    CHANNELS_INGEST = "channels.ingest"  # write messages as a channel received them
    # Configure connectors to business systems (their URLs and credentials): admins.
    CONNECTORS_MANAGE = "connectors.manage"
    CANNED_READ = "canned.read"  # company, own team's and own canned responses
    CANNED_WRITE_OWN = "canned.write_own"  # one's personal canned responses
    CANNED_WRITE_TEAM = "canned.write_team"  # one's team's canned responses
    CANNED_WRITE_ANY = "canned.write_any"  # company responses, any team's, anyone's
    KNOWLEDGE_READ = "knowledge.read"  # published knowledge-base articles
    KNOWLEDGE_WRITE = "knowledge.write"  # write, publish and read unpublished articles


_AGENT = frozenset(
    {
        Permission.DIRECTORY_READ,
        Permission.CUSTOMERS_READ,
        Permission.CUSTOMERS_WRITE,
        Permission.CONVERSATIONS_READ,
        Permission.CONVERSATIONS_WRITE,
        Permission.PRESENCE_SET_OWN,
        Permission.CANNED_READ,
        Permission.CANNED_WRITE_OWN,
        Permission.KNOWLEDGE_READ,
    }
)
_SUPERVISOR = _AGENT | {
    Permission.USERS_READ,
    Permission.CUSTOMERS_MERGE,
    Permission.PRESENCE_SET_ANY,
    Permission.SITES_STEER,
    Permission.QUEUES_THRESHOLDS,
    Permission.EVENTS_READ,
    Permission.SUPERVISE,
    Permission.REPORTS_READ,
    Permission.CANNED_WRITE_TEAM,
    Permission.KNOWLEDGE_WRITE,
}
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.AGENT: _AGENT,
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated user as the rules see them."""

    user_id: int
    role: Role
    site_id: int | None = None
    site_kind: SiteKind | None = None
    granted_site_ids: frozenset[int] = field(default_factory=frozenset)

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def visible_site_ids(self) -> frozenset[int] | None:
        """Sites whose data this user sees; ``None`` means every site."""
        if self.role is Role.ADMIN or self.site_kind is not SiteKind.PARTNER:
            return None
        own = frozenset({self.site_id}) if self.site_id is not None else frozenset()
        return own | self.granted_site_ids

    def sees_site(self, site_id: int | None) -> bool:
        visible = self.visible_site_ids
        if visible is None:
            return True
        return site_id is not None and site_id in visible


def require(principal: Principal, permission: Permission) -> None:
    """Raise ``PermissionDenied`` unless the principal holds ``permission``."""
    if not principal.can(permission):
        raise PermissionDenied(
            f"the {principal.role.value} role may not do {permission.value!r}",
            permission=permission.value,
        )


_CHANNEL_AUTHORS = frozenset({AuthorKind.CUSTOMER, AuthorKind.SYSTEM})


def message_permission(
    *, direction: Direction, author: AuthorKind, provider_id: bool
) -> Permission:
    """What writing a message takes: a channel's facts (inbound, the customer's or the
    system's words, a provider's id, which later deduplicates real deliveries) need
    ``channels.ingest``; anything else, ``conversations.write``."""
    if direction is Direction.INBOUND or author in _CHANNEL_AUTHORS or provider_id:
        return Permission.CHANNELS_INGEST
    return Permission.CONVERSATIONS_WRITE
