"""Every table, imported here so that ``Base.metadata`` is complete."""

from opencx.db.base import Base
from opencx.db.models.channels import ChannelAccount, WhatsAppTemplate
from opencx.db.models.collaboration import ConversationNote, HelpRequest
from opencx.db.models.connectors import Connector
from opencx.db.models.conversations import Attachment, Conversation, Interaction, Message
from opencx.db.models.customers import Customer, CustomerIdentity, CustomerMerge
from opencx.db.models.directory import (
    BusinessHours,
    ContactReason,
    Holiday,
    Queue,
    QueueThreshold,
    Site,
    Skill,
    Team,
)
from opencx.db.models.infra import IdempotencyRecord, Job, RateLimitCounter
from opencx.db.models.knowledge import CannedResponse, KnowledgeArticle
from opencx.db.models.log import AuditEntry, Event
from opencx.db.models.reports import ReportInterval, ReportProgress, ReportQueueInterval
from opencx.db.models.routing import (
    QueueStats,
    RoutingCommand,
    RoutingLeadership,
    RoutingReservation,
    RoutingTask,
    RoutingWorker,
    RoutingWorkflow,
)
from opencx.db.models.search import ConversationTerm, CustomerTerm
from opencx.db.models.users import AgentSkill, ApiToken, SiteGrant, User, UserSession

__all__ = [
    "AgentSkill",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "Base",
    "BusinessHours",
    "CannedResponse",
    "ChannelAccount",
    "Connector",
    "ContactReason",
    "Conversation",
    "ConversationNote",
    "ConversationTerm",
    "Customer",
    "CustomerIdentity",
    "CustomerMerge",
    "CustomerTerm",
    "Event",
    "HelpRequest",
    "Holiday",
    "IdempotencyRecord",
    "Interaction",
    "Job",
    "KnowledgeArticle",
    "Message",
    "Queue",
    "QueueStats",
    "QueueThreshold",
    "RateLimitCounter",
    "ReportInterval",
    "ReportProgress",
    "ReportQueueInterval",
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
    "WhatsAppTemplate",
]
