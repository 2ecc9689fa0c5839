"""The agent's inbox: its views of conversations (``views``), the queues an agent is
shown waiting work of (``eligibility``), and what a line shows (``schemas``). Snoozing
is ``opencx.features.conversations.snoozes``; search, ``opencx.features.search``."""

from opencx.features.inbox.schemas import InboxItem
from opencx.features.inbox.views import list_inbox

__all__ = ["InboxItem", "list_inbox"]
