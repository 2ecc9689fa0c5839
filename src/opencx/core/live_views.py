"""Live views: what an agent's and a supervisor's screens show, and how events move them.

Rules:
- A view is a value. ``apply(view, event, details)`` returns the next view and changes
  nothing.
- A snapshot, plus every later relevant event applied in order, equals a fresh snapshot
  (the convergence tests check this against the database).
- ``relevant(view, event, viewer)`` decides which events a viewer is sent at all: an
  agent gets events about themselves, their offers, their work in hand and its
  conversations; a supervisor gets events about the agents in their view and the sites
  they may see (``_live_agent``, ``_live_supervisor``).
- Events never carry personal data or free text (names, subjects, notes, questions).
  Where a view shows such things for something new (an offer, a help request),
  ``needs_details`` says so: the server reads them for that one event and sends them
  beside it as the message's ``details``, which ``apply`` takes.
- When an event does not carry all a view needs (a user was created or changed: their
  name, role, site or activity are not in the event), ``apply`` marks the view
  ``needs_resync`` and the server sends a fresh snapshot instead of the event. Such
  changes are rare; a resync keeps the reducers exact without widening event payloads.
- ``SnapshotMark`` tells which events a snapshot already reflects, so that events
  received while it was being read are not applied twice.

Event payload contracts read here:
- ``agent.presence_changed`` (entity ``user``): ``presence``, ``reason``, ``since``
  (ISO 8601 with offset), ``previous``.
- ``site.changed`` (entity ``site``): ``action`` plus changed fields as strings
  (``name``, ``kind``, ``is_open``).
- ``reservation.created`` / ``reservation.updated`` (entity ``reservation``): an agent's
  offers and what became of them (``state``, ``accepted_at``); see
  ``opencx.features.routing.persist`` for the payload.
- ``interaction.state_changed`` (entity ``interaction``): ``state``, and
  ``wrap_up_until`` when the router starts the agent's wrap-up.
- ``help.requested`` / ``help.answered`` (entity ``help_request``): ``agent_id``.
- ``note.created`` (entity ``note``): ``conversation_id``, ``mentions``.
- ``user.created``: ``role``.
- ``task.updated`` (entity ``task``): ``interaction_id``, ``queue_id``, and
  ``waiting_since`` while its contact waits; ``task.ended``: the task left routing.
  ``interaction.created`` / ``interaction.state_changed`` carry ``queue_id`` and, while
  the contact waits, ``waiting_since`` (``_live_queues``).
- ``queue.changed``: a queue was created, changed or deleted (a resync).
- ``user.updated``: ``fields``, the names of the fields that changed (a resync is needed
  only when one of them is shown: ``display_name``, ``role``, ``site_id``, ``is_active``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opencx.core._live_agent import (
    AgentView,
    OfferStatus,
    WorkItem,
    WorkState,
    agent_needs_details,
    agent_view_json,
    apply_to_agent,
    offer_json,
    offer_status,
    relevant_to_agent,
)
from opencx.core._live_people import LIVE_ROLES, AgentStatus
from opencx.core._live_queues import (
    WAITING_STATES,
    QueueStatus,
    WaitingContact,
    waiting_since,
)
from opencx.core._live_supervisor import (
    HelpRequestStatus,
    SiteStatus,
    SupervisorView,
    apply_to_supervisor,
    help_request_json,
    help_request_status,
    relevant_to_supervisor,
    supervisor_needs_details,
    supervisor_view_json,
)
from opencx.core.events import DomainEvent
from opencx.core.permissions import Principal

__all__ = [
    "LIVE_ROLES",
    "WAITING_STATES",
    "AgentStatus",
    "AgentView",
    "HelpRequestStatus",
    "OfferStatus",
    "QueueStatus",
    "SiteStatus",
    "SnapshotMark",
    "SupervisorView",
    "View",
    "WaitingContact",
    "WorkItem",
    "WorkState",
    "answer_client",
    "apply",
    "help_request_json",
    "help_request_status",
    "needs_details",
    "offer_json",
    "offer_status",
    "relevant",
    "view_json",
    "waiting_since",
]

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


def relevant(view: View, event: DomainEvent, viewer: Principal) -> bool:
    if isinstance(view, AgentView):
        return relevant_to_agent(view, event)
    return relevant_to_supervisor(view, event, viewer)


def needs_details(view: View, event: DomainEvent) -> bool:
    """Whether ``apply`` needs ``details`` for this relevant event (without them, it asks
    for a resync)."""
    if isinstance(view, AgentView):
        return agent_needs_details(view, event)
    return supervisor_needs_details(event)


def apply(view: View, event: DomainEvent, details: Mapping[str, Any] | None = None) -> View:
    """The view after ``event``; events that do not concern it leave it as it was."""
    if isinstance(view, AgentView):
        return apply_to_agent(view, event, details)
    return apply_to_supervisor(view, event, details)


def view_json(view: View) -> dict[str, Any]:
    """The snapshot's ``data``: JSON-able, lists sorted (by id; work in hand by ``since``)."""
    if isinstance(view, AgentView):
        return agent_view_json(view)
    return supervisor_view_json(view)


def answer_client(message: object) -> dict[str, Any]:
    """The reply to a message a client sent: ``ping`` is the only one there is."""
    if isinstance(message, dict) and message.get("type") == "ping":
        return {"type": "pong"}
    return {
        "type": "error",
        "code": "opencx.invalid_input",
        "detail": 'unknown message; the only one a client sends is {"type": "ping"}',
    }
