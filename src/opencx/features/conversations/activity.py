"""A conversation's last activity, by which the inbox lists it newest first: when the
customer, an agent or a bot last wrote in it, its creation until then. The writers of
messages set it as they write; ``recompute_activity`` reads it again from the messages
where they moved (a merge, a split)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import AuthorKind
from opencx.db.models import Conversation, Message
from opencx.features.events.record import table_of

__all__ = ["counts_as_activity", "recompute_activity"]

_CONVERSATIONS = table_of(Conversation)


def counts_as_activity(author: AuthorKind) -> bool:
    """System messages (acknowledgements, transcripts) are no one's activity."""
    return author is not AuthorKind.SYSTEM


async def recompute_activity(session: AsyncSession, conversation_ids: Iterable[int]) -> None:
    ids = sorted(set(conversation_ids))
    if not ids:
        return
    last_message = (
        select(func.max(Message.created_at))
        .where(
            Message.conversation_id == _CONVERSATIONS.c.id,
            Message.author_kind != AuthorKind.SYSTEM,
        )
        .scalar_subquery()
    )
    await session.execute(
        update(_CONVERSATIONS)
        .where(_CONVERSATIONS.c.id.in_(ids))
        .values(last_activity_at=func.coalesce(last_message, _CONVERSATIONS.c.created_at))
        .execution_options(synchronize_session=False)
    )
