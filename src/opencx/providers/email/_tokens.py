"""The ticket token in a subject: ``[#123]`` names conversation 123.

Replies thread by their In-Reply-To and References fields; the token is the fallback
for clients that drop them (a customer who answers from another device, a forward).
The first token in a subject wins; a number no row id can reach names nothing.
"""

from __future__ import annotations

import re

from opencx.core.errors import InvalidInput
from opencx.core.ids import MAX_ID

__all__ = ["TOKEN_PATTERN", "find_ticket_token", "remove_ticket_tokens", "ticket_token"]

TOKEN_PATTERN = re.compile(r"\[#(\d{1,10})\]")


def ticket_token(conversation_id: int) -> str:
    """The subject token for ``conversation_id``, e.g. ``[#123]``."""
    if not 0 < conversation_id <= MAX_ID:
        raise InvalidInput("a conversation id is a positive row id", field="conversation_id")
    return f"[#{conversation_id}]"


def find_ticket_token(subject: str | None) -> int | None:
    """The conversation id of the first ticket token in ``subject``, if any."""
    for match in TOKEN_PATTERN.finditer(subject or ""):
        number = int(match.group(1))
        if 0 < number <= MAX_ID:
            return number
    return None


def remove_ticket_tokens(subject: str) -> str:
    """``subject`` without its ticket tokens, spaces tidied."""
    return " ".join(TOKEN_PATTERN.sub(" ", subject).split())
