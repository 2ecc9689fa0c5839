"""What both live views show of a person: their presence, and how events move it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from opencx.core.enums import PresenceState, Role
from opencx.core.events import DomainEvent

__all__ = [
    "LIVE_ROLES",
    "SHOWN_USER_FIELDS",
    "AgentStatus",
    "agent_json",
    "instant",
    "is_older",
    "shown_fields_changed",
    "with_presence",
]

#: Who appears on a supervisor's live view: people who take contacts.
LIVE_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR})
#: The user fields a view shows besides presence.
SHOWN_USER_FIELDS = frozenset({"display_name", "role", "site_id", "is_active"})


@dataclass(frozen=True, slots=True)
class AgentStatus:
    user_id: int
    display_name: str
    role: Role
    site_id: int | None
    presence: PresenceState
    reason: str | None
    since: datetime
    #: One of the demo's simulated agents (``opencx demo``): shown as such.
    simulated: bool = False
    #: The id of the last presence event applied (0: as read). Changes to one user are
    #: serialised by its row, so their ids grow; an older one arriving late (from
    #: another node) is ignored. Bookkeeping only: not compared, not shown.
    event_id: int = field(default=0, compare=False)


def shown_fields_changed(event: DomainEvent) -> bool:
    fields = event.payload.get("fields")
    if not isinstance(fields, list):
        return True  # the event does not say: assume the worst
    return not SHOWN_USER_FIELDS.isdisjoint(str(name) for name in fields)


def is_older(event: DomainEvent, agent: AgentStatus) -> bool:
    return event.id is not None and event.id <= agent.event_id


def with_presence(agent: AgentStatus, event: DomainEvent) -> AgentStatus | None:
    """The agent after a presence event; ``None`` when its payload is malformed."""
    payload = event.payload
    since = instant(payload.get("since"))
    try:
        presence = PresenceState(payload["presence"])
    except (KeyError, ValueError):
        return None
    reason = payload.get("reason")
    if since is None or not (reason is None or isinstance(reason, str)):
        return None
    return replace(
        agent, presence=presence, reason=reason, since=since, event_id=event.id or agent.event_id
    )


def instant(value: object) -> datetime | None:
    """An ISO 8601 instant with its offset, in UTC; ``None`` when it is anything else."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


def agent_json(agent: AgentStatus) -> dict[str, Any]:
    return {
        "user_id": agent.user_id,
        "display_name": agent.display_name,
        "role": agent.role.value,
        "site_id": agent.site_id,
        "presence": agent.presence.value,
        "reason": agent.reason,
        "since": agent.since.isoformat(),
        **({"simulated": True} if agent.simulated else {}),
    }
