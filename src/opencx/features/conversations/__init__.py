"""Conversations (one customer need), interactions (one contact on one channel),
messages and their attachments, and the timeline that joins them.

Modules: ``access`` (site visibility, reference checks, events), ``conversations``,
``interactions``, ``messages``, ``attachments``, ``timeline``, ``snoozes`` (out of the
inbox until later), ``activity`` (the last activity the inbox orders by); what agents
write about a conversation: ``notes``, ``help_requests``, ``wrap_up`` (coding a contact).
"""

from opencx.features.conversations.attachments import (
    AttachmentContent,
    add_attachment,
    read_attachment,
    upload_file,
)
from opencx.features.conversations.conversations import (
    ConversationCreate,
    ConversationOut,
    ConversationUpdate,
    StatusChange,
    change_conversation_status,
    create_conversation,
    get_conversation,
    list_conversations,
    update_conversation,
)
from opencx.features.conversations.interactions import (
    InteractionCreate,
    InteractionOut,
    StateChange,
    change_interaction_state,
    create_interaction,
    get_interaction,
    list_interactions,
)
from opencx.features.conversations.messages import (
    AttachmentOut,
    MessageCreate,
    MessageOut,
    find_messages,
    get_message,
    list_messages,
    post_message,
)
from opencx.features.conversations.timeline import TimelineEntry, conversation_timeline

__all__ = [
    "AttachmentContent",
    "AttachmentOut",
    "ConversationCreate",
    "ConversationOut",
    "ConversationUpdate",
    "InteractionCreate",
    "InteractionOut",
    "MessageCreate",
    "MessageOut",
    "StateChange",
    "StatusChange",
    "TimelineEntry",
    "add_attachment",
    "change_conversation_status",
    "change_interaction_state",
    "conversation_timeline",
    "create_conversation",
    "create_interaction",
    "find_messages",
    "get_conversation",
    "get_interaction",
    "get_message",
    "list_conversations",
    "list_interactions",
    "list_messages",
    "post_message",
    "read_attachment",
    "update_conversation",
    "upload_file",
]
