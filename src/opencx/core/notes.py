"""Internal notes and help requests: what agents and supervisors write to each other
about a conversation, never shown to its customer.

Rules:
- a note holds at most ``MAX_NOTE`` characters and mentions at most ``MAX_MENTIONS``
  users, each of whom must be able to read the conversation (an active user whose role
  reads conversations and who sees its site): a note never points anyone at what they
  may not read;
- the note a transfer carries is a note like the others, flagged ``transfer`` and tied
  to the task it came with; the next agent's offer shows it;
- events name a note's or a help request's conversation, people and flags, never their
  text: events reach live views and integrators, the text stays behind the API's
  permission checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opencx.core.permissions import Permission, Principal

__all__ = [
    "MAX_ANSWER",
    "MAX_MENTIONS",
    "MAX_NOTE",
    "MAX_QUESTION",
    "help_payload",
    "note_payload",
    "unable_to_read",
]

MAX_NOTE = 2000
MAX_MENTIONS = 20
MAX_QUESTION = 2000
MAX_ANSWER = 4000


def unable_to_read(readers: Mapping[int, Principal | None], site_id: int | None) -> list[int]:
    """The ids among ``readers`` who cannot read a conversation of ``site_id``, sorted;
    ``None`` stands for a user who does not exist or is deactivated."""
    return sorted(
        user_id
        for user_id, reader in readers.items()
        if reader is None
        or not reader.can(Permission.CONVERSATIONS_READ)
        or not reader.sees_site(site_id)
    )


def note_payload(
    *,
    conversation_id: int,
    author_id: int | None,
    mentions: Sequence[int],
    transfer: bool,
    task_id: int | None,
) -> dict[str, Any]:
    """``note.created``'s payload."""
    return {
        "conversation_id": conversation_id,
        "author_id": author_id,
        "mentions": list(mentions),
        "transfer": transfer,
        "task_id": task_id,
    }


def help_payload(*, conversation_id: int, agent_id: int, answered_by: int | None) -> dict[str, Any]:
    """``help.requested``'s and ``help.answered``'s payload."""
    return {"conversation_id": conversation_id, "agent_id": agent_id, "answered_by": answered_by}
