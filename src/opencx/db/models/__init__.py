"""Every table, imported here so that ``Base.metadata`` is complete."""

from opencx.db.base import Base
from opencx.db.models.channels import ChannelAccount
from opencx.db.models.conversations import Attachment, Conversation, Interaction, Message
from opencx.db.models.customers import Customer, CustomerIdentity, CustomerMerge
from opencx.db.models.directory import (
    BusinessHours,
    ContactReason,
    Holiday,
    Queue,
    Site,
    Skill,
    Team,
)
from opencx.db.models.infra import IdempotencyRecord, Job, RateLimitCounter
from opencx.db.models.log import AuditEntry, Event
from opencx.db.models.routing import (
    QueueStats,
    RoutingCommand,
    RoutingLeadership,
    RoutingReservation,
    RoutingTask,
    RoutingWorker,
    RoutingWorkflow,
)
from opencx.db.models.users import AgentSkill, ApiToken, SiteGrant, User, UserSession

__all__ = [
    "AgentSkill",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "Base",
    "BusinessHours",
    "ChannelAccount",
    "ContactReason",
    "Conversation",
    "Customer",
    "CustomerIdentity",
    "CustomerMerge",
    "Event",
    "Holiday",
    "IdempotencyRecord",
    "Interaction",
    "Job",
    "Message",
    "Queue",
    "QueueStats",
    "RateLimitCounter",
    "RoutingCommand",
    "RoutingLeadership",
    "RoutingReservation",
    "RoutingTask",
    "RoutingWorker",
    "RoutingWorkflow",
    "Site",
    "SiteGrant",
    "Skill",
    "Team",
    "User",
    "UserSession",
]
