"""A supervisor's live view: every visible agent's presence and contacts in hand, every
visible site, every visible queue with its waiting contacts, and the open help requests
of the visible sites.

Rules (beside those of ``live_views``):
- a supervisor gets presence changes of the people on their view, changes of the sites
  they see and, as resyncs, users created or changed on those sites;
- ``help.requested`` of a site they see adds the request, with the ``details`` the
  server read for it (its question: text no event carries); ``help.answered`` removes
  it;
- queues, their waiting contacts and the agents' contacts in hand follow
  ``_live_queues``;
- ``user.updated`` of an agent shown whose skills, capacity, languages or team changed
  asks for a resync too: routing's queue memberships may have changed with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from opencx.core._live_people import (
    LIVE_ROLES,
    AgentStatus,
    agent_json,
    instant,
    is_older,
    shown_fields_changed,
    with_presence,
)
from opencx.core._live_queues import (
    QueueStatus,
    Staffing,
    WaitingContact,
    apply_handling,
    apply_waiting,
    handling_relevant,
    queue_json,
    staffing,
    waiting_relevant,
)
from opencx.core.enums import SiteKind
from opencx.core.events import DomainEvent, EventType
from opencx.core.permissions import Principal

__all__ = [
    "HelpRequestStatus",
    "SiteStatus",
    "SupervisorView",
    "apply_to_supervisor",
    "help_request_status",
    "relevant_to_supervisor",
    "supervisor_needs_details",
    "supervisor_view_json",
]


@dataclass(frozen=True, slots=True)
class SiteStatus:
    """A site; ``routing_state`` is routing's ``open``, ``draining`` or ``closed``
    (``state`` in JSON: ``closed`` whenever the site is not open)."""

    site_id: int
    name: str
    kind: SiteKind
    is_open: bool
    routing_state: str = "open"


@dataclass(frozen=True, slots=True)
class HelpRequestStatus:
    """An agent's question waiting for a supervisor's answer."""

    help_request_id: int
    conversation_id: int
    agent_id: int
    site_id: int | None
    question: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SupervisorView:
    """Every visible agent's presence, every visible site's state, the open help
    requests of the visible sites; the visible queues with their waiting contacts (by
    interaction), and the tasks the agents shown have in hand (task id: agent id)."""

    agents: Mapping[int, AgentStatus]
    sites: Mapping[int, SiteStatus]
    help_requests: Mapping[int, HelpRequestStatus] = field(default_factory=dict)
    queues: Mapping[int, QueueStatus] = field(default_factory=dict)
    waiting: Mapping[int, WaitingContact] = field(default_factory=dict)
    handling: Mapping[int, int] = field(default_factory=dict)
    needs_resync: bool = False


def relevant_to_supervisor(view: SupervisorView, event: DomainEvent, viewer: Principal) -> bool:
    match event.type:
        case EventType.AGENT_PRESENCE_CHANGED:
            return event.entity_id in view.agents
        case EventType.SITE_CHANGED:
            return event.entity_id in view.sites or viewer.sees_site(event.site_id)
        case EventType.USER_UPDATED:
            return event.entity_id in view.agents or viewer.sees_site(event.site_id)
        case EventType.USER_CREATED:
            return viewer.sees_site(event.site_id) and event.payload.get("role") in LIVE_ROLES
        case EventType.HELP_REQUESTED:
            return viewer.sees_site(event.site_id)
        case EventType.HELP_ANSWERED:
            return event.entity_id in view.help_requests or viewer.sees_site(event.site_id)
        case EventType.QUEUE_CHANGED:
            return event.entity_id in view.queues or viewer.sees_site(event.site_id)
        case _:
            return waiting_relevant(view.queues, view.waiting, event) or handling_relevant(
                view.agents, view.handling, event
            )


def supervisor_needs_details(event: DomainEvent) -> bool:
    """A new help request: its question is read for it."""
    return event.type is EventType.HELP_REQUESTED


def apply_to_supervisor(
    view: SupervisorView, event: DomainEvent, details: Mapping[str, Any] | None
) -> SupervisorView:
    match event.type:
        case EventType.AGENT_PRESENCE_CHANGED:
            return _supervisor_presence(view, event)
        case EventType.SITE_CHANGED:
            return _supervisor_site(view, event)
        case EventType.USER_CREATED:
            return replace(view, needs_resync=True)
        case EventType.USER_UPDATED:
            changed = shown_fields_changed(event) or _membership_changed(event)
            return replace(view, needs_resync=True) if changed else view
        case EventType.HELP_REQUESTED:
            request = help_request_status(details) if details is not None else None
            if request is None or request.help_request_id != event.entity_id:
                return replace(view, needs_resync=True)
            return replace(view, help_requests={**view.help_requests, event.entity_id: request})
        case EventType.HELP_ANSWERED:
            left = {k: v for k, v in view.help_requests.items() if k != event.entity_id}
            return replace(view, help_requests=left)
        case EventType.QUEUE_CHANGED:
            return replace(view, needs_resync=True)
        case _:
            return _supervisor_work(view, event)


#: The user fields routing's queue membership reads (``features.routing.state``).
_MEMBERSHIP_FIELDS = frozenset({"skills", "capacity", "languages", "team_id", "profile"})


def _membership_changed(event: DomainEvent) -> bool:
    fields = event.payload.get("fields")
    return isinstance(fields, list) and not _MEMBERSHIP_FIELDS.isdisjoint(map(str, fields))


def _supervisor_work(view: SupervisorView, event: DomainEvent) -> SupervisorView:
    """Waiting contacts and contacts in hand (``_live_queues``)."""
    waiting = apply_waiting(view.queues, view.waiting, event)
    handling = apply_handling(view.agents, view.handling, event)
    if waiting is None or handling is None:
        return replace(view, needs_resync=True)
    if waiting is view.waiting and handling is view.handling:
        return view
    return replace(view, waiting=waiting, handling=handling)


def _supervisor_presence(view: SupervisorView, event: DomainEvent) -> SupervisorView:
    agent = view.agents.get(event.entity_id)
    if agent is None or is_older(event, agent):
        return view
    updated = with_presence(agent, event)
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


def _new_site(event: DomainEvent) -> SiteStatus | None:
    """A site the view does not hold yet: only a creation carries all of it."""
    payload = event.payload
    if not str(payload.get("action", "")).endswith("create") or "name" not in payload:
        return None
    # A site is created open unless the event says otherwise.
    return SiteStatus(event.entity_id, str(payload["name"]), SiteKind.INTERNAL, is_open=True)


def _with_site_fields(site: SiteStatus, payload: Mapping[str, Any]) -> SiteStatus | None:
    try:
        is_open = _as_bool(payload.get("is_open", site.is_open))
        routing_state = site.routing_state
        if "routing_state" in payload:
            routing_state = str(payload["routing_state"])
        elif "is_open" in payload:  # opening or closing is routing's open or closed
            routing_state = "open" if is_open else "closed"
        return replace(
            site,
            name=str(payload.get("name", site.name)),
            kind=SiteKind(payload.get("kind", site.kind)),
            is_open=is_open,
            routing_state=routing_state,
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


def help_request_status(data: Mapping[str, Any]) -> HelpRequestStatus | None:
    """The help request ``data`` describes (a snapshot's, an event's details); ``None``
    when it is malformed."""
    request_id, conversation_id = data.get("id"), data.get("conversation_id")
    agent_id, site_id, question = data.get("agent_id"), data.get("site_id"), data.get("question")
    created_at = instant(data.get("created_at"))
    if not (
        isinstance(request_id, int)
        and isinstance(conversation_id, int)
        and isinstance(agent_id, int)
        and (site_id is None or isinstance(site_id, int))
        and isinstance(question, str)
        and created_at is not None
    ):
        return None
    return HelpRequestStatus(request_id, conversation_id, agent_id, site_id, question, created_at)


def supervisor_view_json(view: SupervisorView) -> dict[str, Any]:
    in_hand: dict[int, list[int]] = {}
    for task_id, agent_id in sorted(view.handling.items()):
        in_hand.setdefault(agent_id, []).append(task_id)
    waiting: dict[int, list[WaitingContact]] = {}
    for contact in view.waiting.values():
        waiting.setdefault(contact.queue_id, []).append(contact)
    return {
        "agents": [
            {**agent_json(view.agents[key]), "contacts": in_hand.get(key, [])}
            for key in sorted(view.agents)
        ],
        "sites": [_site_json(view.sites[key]) for key in sorted(view.sites)],
        "queues": [
            queue_json(view.queues[key], waiting.get(key, []), _staffing(view, view.queues[key]))
            for key in sorted(view.queues)
        ],
        "help_requests": [
            help_request_json(view.help_requests[key]) for key in sorted(view.help_requests)
        ],
    }


def _staffing(view: SupervisorView, queue: QueueStatus) -> Staffing:
    in_hand: dict[int, int] = {}
    for agent_id in view.handling.values():
        in_hand[agent_id] = in_hand.get(agent_id, 0) + 1
    return staffing(
        (view.agents[key].presence, in_hand.get(key, 0), slots)
        for key, slots in queue.members.items()
        if key in view.agents
    )


def _site_json(site: SiteStatus) -> dict[str, Any]:
    return {
        "id": site.site_id,
        "name": site.name,
        "kind": site.kind.value,
        "is_open": site.is_open,
        "state": site.routing_state if site.is_open else "closed",
    }


def help_request_json(request: HelpRequestStatus) -> dict[str, Any]:
    return {
        "id": request.help_request_id,
        "conversation_id": request.conversation_id,
        "agent_id": request.agent_id,
        "site_id": request.site_id,
        "question": request.question,
        "created_at": request.created_at.isoformat(),
    }
