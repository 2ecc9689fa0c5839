"""E-mails a chat sends its visitor (the code proving their address, the transcript):
automatic outbound e-mails of the chat's conversation, to the address the visitor
gave, from the widget's mailbox (``offline_mailbox``), queued and sent by the job like
any answer, so agents see them and their delivery status."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import Conflict
from opencx.db.models import Conversation
from opencx.features.chat.visitors import VisitorChat
from opencx.features.chat.widgets import load_widget
from opencx.features.context import AppContext
from opencx.features.conversations.messages import SEND_JOB
from opencx.features.delivery.email import queue_system_email
from opencx.features.directory.channel_accounts import find_mailbox

__all__ = ["queue_visitor_email", "send_visitor_email"]


async def queue_visitor_email(
    session: AsyncSession,
    ctx: AppContext,
    chat: VisitorChat,
    *,
    kind: str,
    subject: str,
    body: str,
    what: str,
) -> int:
    """Queue the e-mail to ``chat.email``; its message id. ``what`` names the e-mails
    in the refusal of a widget without a mailbox."""
    widget = await load_widget(session, chat.widget_key, origin=None)
    address = widget.settings.offline_mailbox
    mailbox = await find_mailbox(session, address) if address else None
    if mailbox is None:
        raise Conflict(f"this chat widget has no mailbox to send {what} from")
    conversation = await session.get(Conversation, chat.conversation_id)
    assert conversation is not None
    return await queue_system_email(
        session,
        ctx,
        conversation,
        body=body,
        metadata={
            "automatic": "true",
            "kind": kind,
            "chat_session": chat.session,
            "mailbox": mailbox.address,
            "to": chat.email or "",
            "subject": subject,
        },
    )


async def send_visitor_email(ctx: AppContext, message_id: int) -> None:
    """Hand the committed e-mail to the send job."""
    await ctx.jobs.defer(SEND_JOB, {"message_id": message_id}, queueing_lock=f"send:{message_id}")
