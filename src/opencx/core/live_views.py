"""Live views: what an agent's and a supervisor's screens show, and how events move them.

Rules:
- A view is a value. ``apply(view, event)`` returns the next view and changes nothing.
- A snapshot, plus every later relevant event applied in order, equals a fresh snapshot
  (the convergence tests check this against the database).
- ``relevant(view, event, viewer)`` decides which events a viewer is sent at all: an
  agent gets only events about themselves; a supervisor gets events about the agents in
  their view and the sites they may see.
- When an event does not carry all a view needs (a user was created or changed: their
  name, role, site or activity are not in the event), ``apply`` marks the view
  ``needs_resync`` and the server sends a fresh snapshot instead of the event. User
  changes are rare; a resync keeps the reducers exact without widening event payloads.
- ``SnapshotMark`` tells which events a snapshot already reflects, so that events
  received while it was being read are not applied twice.

Event payload contracts read here:
- ``agent.presence_changed`` (entity ``user``): ``presence``, ``reason``, ``since``
  (ISO 8601 with offset), ``previous``.
- ``site.changed`` (entity ``site``): ``action`` plus changed fields as strings
  (``name``, ``kind``, ``is_open``).
- ``reservation.created`` / ``reservation.updated`` (entity ``reservation``): an agent's
  offers; see ``opencx.features.routing.persist`` for the payload.
- ``user.created``: ``role``.
- ``user.updated``: ``fields``, the names of the fields that changed (a resync is needed
  only when one of them is shown: ``display_name``, ``role``, ``site_id``, ``is_active``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from opencx.core.enums import PresenceState, Role, SiteKind
from opencx.core.events import DomainEvent, EventType
from opencx.core.permissions import Principal

__all__ = [
    "LIVE_ROLES",
    "AgentStatus",
    "AgentView",
    "OfferStatus",
    "SiteStatus",
    "SnapshotMark",
    "SupervisorView",
    "View",
    "answer_client",
    "apply",
    "offer_status",
    "relevant",
    "view_json",
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
    #: The id of the last presence event applied (0: as read). Changes to one user are
    #: serialised by its row, so their ids grow; an older one arriving late (from
    #: another node) is ignored. Bookkeeping only: not compared, not shown.
    event_id: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class SiteStatus:
    site_id: int
    name: str
    kind: SiteKind
    is_open: bool


@dataclass(frozen=True, slots=True)
class OfferStatus:
    """A task offered to the agent and not yet accepted, rejected or expired."""

    reservation_id: int
    task_id: int
    interaction_id: int | None
    conversation_id: int | None
    channel: str
    queue_id: int | None
    expires_at: str
    callback: bool


@dataclass(frozen=True, slots=True)
class AgentView:
    """An agent's own presence and the offers waiting for their answer."""

    me: AgentStatus
    offers: Mapping[int, OfferStatus] = field(default_factory=dict)
    needs_resync: bool = False


@dataclass(frozen=True, slots=True)
class SupervisorView:
    """Every visible agent's presence and every visible site's state."""

    agents: Mapping[int, AgentStatus]
    sites: Mapping[int, SiteStatus]
    needs_resync: bool = False


View = AgentView | SupervisorView


@dataclass(frozen=True, slots=True)
class SnapshotMark:
    """The events a snapshot reflects: every id up to ``last_event_id`` except
    ``pending_ids``, ids taken by transactions that had not committed when it was read
    (ids are handed out at insert, so commits can land out of id order)."""

    last_event_id: int
    pending_ids: frozenset[int] = frozenset()

    def covers(self, event_id: int) -> bool:
        return event_id <= self.last_event_id and event_id not in self.pending_ids


# --- which events a viewer is sent --------------------------------------------------


def relevant(view: View, event: DomainEvent, viewer: Principal) -> bool:
    if isinstance(view, AgentView):
        return _relevant_to_agent(view, event)
    return _relevant_to_supervisor(view, event, viewer)


def _relevant_to_agent(view: AgentView, event: DomainEvent) -> bool:
    if event.type in (EventType.RESERVATION_CREATED, EventType.RESERVATION_UPDATED):
        return event.payload.get("worker_id") == view.me.user_id
    if event.type is EventType.MESSAGE_ATTACHMENT_CHANGED:
        # A file of the conversation offered to them arrived (or could not be had):
        # passed on as it is, the view itself does not change.
        offered = {offer.conversation_id for offer in view.offers.values()}
        return event.payload.get("conversation_id") in offered - {None}
    about_me = event.entity_kind == "user" and event.entity_id == view.me.user_id
    return about_me and event.type in (EventType.AGENT_PRESENCE_CHANGED, EventType.USER_UPDATED)


def _relevant_to_supervisor(view: SupervisorView, event: DomainEvent, viewer: Principal) -> bool:
    match event.type:
        case EventType.AGENT_PRESENCE_CHANGED:
            return event.entity_id in view.agents
        case EventType.SITE_CHANGED:
            return event.entity_id in view.sites or viewer.sees_site(event.site_id)
        case EventType.USER_UPDATED:
            return event.entity_id in view.agents or viewer.sees_site(event.site_id)
        case EventType.USER_CREATED:
            return viewer.sees_site(event.site_id) and event.payload.get("role") in LIVE_ROLES
        case _:
            return False


# --- reducers -----------------------------------------------------------------------


def apply(view: View, event: DomainEvent) -> View:
    """The view after ``event``; events that do not concern it leave it as it was."""
    if isinstance(view, AgentView):
        return _apply_to_agent(view, event)
    return _apply_to_supervisor(view, event)


def _apply_to_agent(view: AgentView, event: DomainEvent) -> AgentView:
    if event.type in (EventType.RESERVATION_CREATED, EventType.RESERVATION_UPDATED):
        return _with_offer(view, event)
    if event.entity_kind != "user" or event.entity_id != view.me.user_id:
        return view
    if event.type is EventType.USER_UPDATED:
        return replace(view, needs_resync=True) if _shown_fields_changed(event) else view
    if event.type is EventType.AGENT_PRESENCE_CHANGED:
        if _is_older(event, view.me):
            return view
        me = _with_presence(view.me, event)
        return replace(view, needs_resync=True) if me is None else replace(view, me=me)
    return view


def _with_offer(view: AgentView, event: DomainEvent) -> AgentView:
    payload = event.payload
    if payload.get("worker_id") != view.me.user_id:
        return view
    offers = dict(view.offers)
    if payload.get("state") == "pending":
        offer = offer_status(payload)
        if offer is None:
            return replace(view, needs_resync=True)
        offers[offer.reservation_id] = offer
    else:
        offers.pop(event.entity_id, None)
    return replace(view, offers=offers)


def offer_status(payload: Mapping[str, Any]) -> OfferStatus | None:
    """The offer a ``reservation.*`` payload (or a stored reservation) describes."""
    try:
        return OfferStatus(
            reservation_id=int(payload["reservation_id"]),
            task_id=int(payload["task_id"]),
            interaction_id=payload.get("interaction_id"),
            conversation_id=payload.get("conversation_id"),
            channel=str(payload["channel"]),
            queue_id=payload.get("queue_id"),
            expires_at=str(payload["expires_at"]),
            callback=bool(payload.get("callback", False)),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _apply_to_supervisor(view: SupervisorView, event: DomainEvent) -> SupervisorView:
    match event.type:
        case EventType.AGENT_PRESENCE_CHANGED:
            return _supervisor_presence(view, event)
        case EventType.SITE_CHANGED:
            return _supervisor_site(view, event)
        case EventType.USER_CREATED:
            return replace(view, needs_resync=True)
        case EventType.USER_UPDATED:
            return replace(view, needs_resync=True) if _shown_fields_changed(event) else view
        case _:
            return view


def _shown_fields_changed(event: DomainEvent) -> bool:
    fields = event.payload.get("fields")
    if not isinstance(fields, list):
        return True  # the event does not say: assume the worst
    return not SHOWN_USER_FIELDS.isdisjoint(str(name) for name in fields)


def _supervisor_presence(view: SupervisorView, event: DomainEvent) -> SupervisorView:
    agent = view.agents.get(event.entity_id)
    if agent is None or _is_older(event, agent):
        return view
    updated = _with_presence(agent, event)
    if updated is None:
        return replace(view, needs_resync=True)
    return replace(view, agents={**view.agents, agent.user_id: updated})


def _supervisor_site(view: SupervisorView, event: DomainEvent) -> SupervisorView:
    site = view.sites.get(event.entity_id)
    if site is None:
        site = _new_site(event)
    if site is None:
        return replace(view, needs_resync=True)
    updated = _with_site_fields(site, event.payload)
    if updated is None:
        return replace(view, needs_resync=True)
    return replace(view, sites={**view.sites, site.site_id: updated})


def _is_older(event: DomainEvent, agent: AgentStatus) -> bool:
    return event.id is not None and event.id <= agent.event_id


def _with_presence(agent: AgentStatus, event: DomainEvent) -> AgentStatus | None:
    payload = event.payload
    try:
        presence = PresenceState(payload["presence"])
        since = datetime.fromisoformat(payload["since"])
    except (KeyError, TypeError, ValueError):
        return None
    reason = payload.get("reason")
    if since.tzinfo is None or not (reason is None or isinstance(reason, str)):
        return None
    return replace(
        agent,
        presence=presence,
        reason=reason,
        since=since.astimezone(UTC),
        event_id=event.id or agent.event_id,
    )


def _new_site(event: DomainEvent) -> SiteStatus | None:
    """A site the view does not hold yet: only a creation carries all of it."""
    payload = event.payload
    if not str(payload.get("action", "")).endswith("create") or "name" not in payload:
        return None
    # A site is created open unless the event says otherwise.
    return SiteStatus(event.entity_id, str(payload["name"]), SiteKind.INTERNAL, is_open=True)


def _with_site_fields(site: SiteStatus, payload: Mapping[str, Any]) -> SiteStatus | None:
    try:
        return replace(
            site,
            name=str(payload.get("name", site.name)),
            kind=SiteKind(payload.get("kind", site.kind)),
            is_open=_as_bool(payload.get("is_open", site.is_open)),
        )
    except ValueError:
        return None


def _as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


# --- JSON and the client's messages ---------------------------------------------------


def view_json(view: View) -> dict[str, Any]:
    """The snapshot's ``data``: JSON-able, lists sorted by id."""
    if isinstance(view, AgentView):
        offers = [_offer_json(view.offers[key]) for key in sorted(view.offers)]
        return {**_agent_json(view.me), "offers": offers}
    return {
        "agents": [_agent_json(view.agents[key]) for key in sorted(view.agents)],
        "sites": [_site_json(view.sites[key]) for key in sorted(view.sites)],
    }


def _agent_json(agent: AgentStatus) -> dict[str, Any]:
    return {
        "user_id": agent.user_id,
        "display_name": agent.display_name,
        "role": agent.role.value,
        "site_id": agent.site_id,
        "presence": agent.presence.value,
        "reason": agent.reason,
        "since": agent.since.isoformat(),
    }


def _offer_json(offer: OfferStatus) -> dict[str, Any]:
    return {
        "reservation_id": offer.reservation_id,
        "task_id": offer.task_id,
        "interaction_id": offer.interaction_id,
        "conversation_id": offer.conversation_id,
        "channel": offer.channel,
        "queue_id": offer.queue_id,
        "expires_at": offer.expires_at,
        "callback": offer.callback,
    }


def _site_json(site: SiteStatus) -> dict[str, Any]:
    return {"id": site.site_id, "name": site.name, "kind": site.kind.value, "is_open": site.is_open}


def answer_client(message: object) -> dict[str, Any]:
    """The reply to a message a client sent: ``ping`` is the only one there is."""
    if isinstance(message, dict) and message.get("type") == "ping":
        return {"type": "pong"}
    return {
        "type": "error",
        "code": "opencx.invalid_input",
        "detail": 'unknown message; the only one a client sends is {"type": "ping"}',
    }
