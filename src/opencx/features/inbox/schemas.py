"""What the inbox lists: one line per conversation."""

from __future__ import annotations

from datetime import datetime

from opencx.core.enums import AuthorKind, Channel, ConversationStatus
from opencx.features.common import Schema

__all__ = ["InboxItem"]


class InboxItem(Schema):
    """A conversation as an inbox line shows it."""

    conversation_id: int
    customer_id: int
    customer_name: str
    #: Every channel the conversation went through, in ``Channel`` order.
    channels: list[Channel]
    status: ConversationStatus
    subject: str
    #: The last message of the customer, an agent or a bot, on one line, at most 160
    #: characters; empty when there is none.
    preview: str
    last_activity_at: datetime
    last_author_kind: AuthorKind | None
    #: Who handles it: the agent of its live task, else (open or pending) its assignee,
    #: else the agent who last answered it.
    assignee_id: int | None
    #: ``None`` too for an agent of a site the caller does not see.
    assignee_name: str | None
    queue_id: int | None
    queue_name: str | None
    #: Set while it is snoozed.
    snoozed_until: datetime | None
    #: When its oldest task still waiting entered routing.
    waiting_since: datetime | None
