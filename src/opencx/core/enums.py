"""Stored vocabularies. Values are persisted: add members, never rename them."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AuthorKind",
    "Channel",
    "ConversationStatus",
    "DeliveryStatus",
    "Direction",
    "HelpRequestState",
    "IdentityKind",
    "InteractionState",
    "PresenceState",
    "ReasonAxis",
    "ReservationState",
    "Role",
    "SiteKind",
    "TaskStatus",
]


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


class SiteKind(StrEnum):
    INTERNAL = "internal"
    PARTNER = "partner"


class Channel(StrEnum):
    VOICE = "voice"
    EMAIL = "email"
    CHAT = "chat"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    TWITTER = "twitter"
    REVIEW = "review"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    MESSENGER = "messenger"
    WHATSAPP = "whatsapp"
    INSTAGRAM = "instagram"
    TWITTER = "twitter"
    WEB = "web"
    EXTERNAL = "external"


class ConversationStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class InteractionState(StrEnum):
    CREATED = "created"
    QUEUED = "queued"
    OFFERED = "offered"
    ACTIVE = "active"
    HELD = "held"
    WRAP_UP = "wrap_up"
    ENDED = "ended"
    ABANDONED = "abandoned"


class TaskStatus(StrEnum):
    """A routing task: ``new`` until the router takes it in (or ``refused``, when it
    cannot), then the router's (waiting, reserved, assigned), then how it ended."""

    NEW = "new"
    WAITING = "waiting"
    RESERVED = "reserved"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    CANCELED = "canceled"
    FALLBACK = "fallback"
    REFUSED = "refused"


class ReservationState(StrEnum):
    """One offer of a task to an agent: pending, then accepted or ended."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    RESCINDED = "rescinded"
    CANCELED = "canceled"
    COMPLETED = "completed"


class AuthorKind(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class DeliveryStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class PresenceState(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    NOT_READY = "not_ready"


class ReasonAxis(StrEnum):
    """The three independent axes a contact is coded on (MISSION.md §4)."""

    DECLARATION = "declaration"
    QUALIFICATION = "qualification"
    ACTION = "action"


class HelpRequestState(StrEnum):
    """An agent's question to a supervisor about a conversation: open until answered."""

    OPEN = "open"
    ANSWERED = "answered"
