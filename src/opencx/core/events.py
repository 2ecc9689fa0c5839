"""Domain event types: every state change is appended to the event log under one of these.

Real-time views and historical KPIs are both computed from these events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["DomainEvent", "EventType"]


class EventType(StrEnum):
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_MERGED = "customer.merged"
    IDENTITY_ADDED = "identity.added"
    CONVERSATION_CREATED = "conversation.created"
    CONVERSATION_UPDATED = "conversation.updated"
    CONVERSATION_STATUS_CHANGED = "conversation.status_changed"
    INTERACTION_CREATED = "interaction.created"
    INTERACTION_STATE_CHANGED = "interaction.state_changed"
    # The agent coded the contact (contact reasons on three axes, a summary).
    INTERACTION_CODED = "interaction.coded"
    MESSAGE_CREATED = "message.created"
    MESSAGE_DELIVERY_CHANGED = "message.delivery_changed"
    # A file a provider held was fetched (``stored``) or could not be (``failed``).
    MESSAGE_ATTACHMENT_CHANGED = "message.attachment_changed"
    # An internal note on a conversation (never shown to the customer).
    NOTE_CREATED = "note.created"
    # An agent asked a supervisor about a conversation; a supervisor answered.
    HELP_REQUESTED = "help.requested"
    HELP_ANSWERED = "help.answered"
    AGENT_PRESENCE_CHANGED = "agent.presence_changed"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    # Sessions or API tokens of a user ended: open WebSockets check theirs again.
    USER_ACCESS_ENDED = "user.access_ended"
    SITE_CHANGED = "site.changed"
    QUEUE_CHANGED = "queue.changed"
    DIRECTORY_CHANGED = "directory.changed"
    ROUTING_CHANGED = "routing.changed"
    # A canned response or a knowledge-base article was created, changed or deleted.
    KNOWLEDGE_CHANGED = "knowledge.changed"
    TASK_CREATED = "task.created"
    TASK_UPDATED = "task.updated"
    TASK_ENDED = "task.ended"
    RESERVATION_CREATED = "reservation.created"
    RESERVATION_UPDATED = "reservation.updated"
    # Published, never stored: someone is typing in a chat.
    CHAT_TYPING = "chat.typing"
    # Published, never stored: the router carried out these commands (their outcomes),
    # for the callers waiting on any node.
    ROUTING_COMMANDS_DONE = "routing.commands_done"
    # Published, never stored: a caller on some node waits for a command it queued;
    # the active router, wherever it runs, wakes up for it.
    ROUTING_COMMANDS_QUEUED = "routing.commands_queued"


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """One appended fact. ``id`` is the event-log position once committed."""

    type: EventType
    entity_kind: str
    entity_id: int
    occurred_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    actor_user_id: int | None = None
    site_id: int | None = None
    id: int | None = None
