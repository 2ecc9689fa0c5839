"""API shapes of the customer 360 view (``GET /customers/{id}/overview``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from opencx.core.enums import Channel, ConversationStatus, IdentityKind, TaskStatus
from opencx.features.common import Schema

__all__ = [
    "CustomerOverview",
    "OverviewConversation",
    "OverviewIdentity",
    "OverviewProfile",
    "OverviewTask",
    "Ref",
]


class Ref(Schema):
    """Another row named for reading: its id and its name."""

    id: int
    name: str


class OverviewProfile(Schema):
    id: int
    name: str
    #: The customer's language (``fr``), when known.
    locale: str | None
    #: The customer's ``time_zone`` attribute when it is an IANA zone, else the zone of
    #: their country when it has only one, else none.
    time_zone: str | None
    country: str | None
    segment: str | None
    created_at: datetime
    #: Set when this customer was merged into another: its history is there.
    merged_into_id: int | None


class OverviewIdentity(Schema):
    kind: IdentityKind
    value: str
    verified: bool


class OverviewConversation(Schema):
    id: int
    status: ConversationStatus
    subject: str
    #: The start of the latest message's text.
    preview: str
    #: Every channel the conversation used, in a fixed order.
    channels: list[Channel]
    last_activity_at: datetime
    assignee: Ref | None


class OverviewTask(Schema):
    """An interaction of this customer still being routed or handled."""

    id: int
    conversation_id: int
    interaction_id: int
    channel: Channel
    queue: Ref | None
    status: TaskStatus
    #: When the task was created.
    since: datetime


class CustomerOverview(Schema):
    profile: OverviewProfile
    identities: list[OverviewIdentity]
    #: Most recent activity first, at most ``limit`` of them.
    conversations: list[OverviewConversation]
    conversations_total: int
    open_tasks: list[OverviewTask]
    #: Contacts (interactions) per channel over all the conversations one may see.
    channel_counts: dict[Channel, int] = Field(default_factory=dict)
