"""What agents do in a chat beyond writing: telling the visitor they are typing.

Rules:
- only someone who may write in the conversation may say they type in it (the same
  permission and site visibility as posting a message);
- the visitor sees the agent's display name, nothing else about them.
"""

from __future__ import annotations

from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import User
from opencx.features.chat.visitors import publish_typing
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation

__all__ = ["signal_typing"]


async def signal_typing(ctx: AppContext, principal: Principal, conversation_id: int) -> None:
    require(principal, Permission.CONVERSATIONS_WRITE)
    async with transaction(ctx) as session:
        await load_conversation(session, principal, conversation_id)
        user = await session.get(User, principal.user_id)
        name = user.display_name if user is not None else ""
    await publish_typing(ctx, conversation_id, who="agent", name=name, user_id=principal.user_id)
