"""Proving the e-mail address a chat visitor gave, before their chat joins that
address's customer.

Rules:
- a chat that gives an address starts as a web visitor's of its own; its first message
  says ``email`` and ``email_verified: "false"`` (what agents see);
- the code is six digits, a keyed hash of the chat and the address (nothing stored),
  e-mailed from the widget's mailbox (``offline_mailbox``) through the outbound e-mail
  path; a widget without a mailbox cannot verify, and its chats stay unverified; agents
  read that e-mail without its body (``conversations.messages.as_read_by``);
- a right code links the chat: its conversation moves to the customer who has that
  address (or the address becomes the visitor's own identity when nobody has it), the
  first message says ``email_verified: "true"``, a ``conversation.updated`` event tells
  the agents, and the visitor gets a new token naming a verified chat;
- guesses are limited per chat (``ChatLimits.verifying``), sends per address
  (``ChatLimits.emailing``).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel, IdentityKind
from opencx.core.errors import Conflict, InvalidInput
from opencx.core.events import EventType
from opencx.db.models import Conversation, Customer, Message
from opencx.features.chat.visitor_mail import queue_visitor_email, send_visitor_email
from opencx.features.chat.visitors import VisitorChat
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import record_conversation_event
from opencx.features.conversations.messages import CODE_EMAIL_KIND
from opencx.features.customers.identities import find_identity, insert_identities
from opencx.i18n import get_translations, negotiate_locale

__all__ = ["send_code", "verification_code", "verify_email"]


def verification_code(ctx: AppContext, chat: VisitorChat) -> str:
    """The six digits that prove ``chat.email`` (the same for the chat's whole life)."""
    key = ctx.settings.security.secret_key.get_secret_value().encode()
    text = f"opencx.chat.verify:{chat.session}:{chat.email}".encode()
    digest = hmac.new(key, text, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


async def send_code(ctx: AppContext, chat: VisitorChat, *, language: str | None) -> str:
    """E-mail the code to the chat's address; the address."""
    if not chat.email:
        raise InvalidInput("this chat has no e-mail address to verify", field="email")
    if chat.verified:
        raise Conflict("this chat's e-mail address is verified already")
    _ = get_translations(negotiate_locale(None, chosen=language)).gettext
    async with transaction(ctx) as session:
        message_id = await queue_visitor_email(
            session,
            ctx,
            chat,
            kind=CODE_EMAIL_KIND,
            subject=_("Confirm your e-mail address"),
            body=_("Your code to confirm your e-mail address in the chat: %(code)s")
            % {"code": verification_code(ctx, chat)},
            what="codes",
        )
    await send_visitor_email(ctx, message_id)
    return chat.email


async def verify_email(ctx: AppContext, chat: VisitorChat, code: str) -> VisitorChat:
    """Link the chat to its address's customer when ``code`` is right."""
    if not chat.email:
        raise InvalidInput("this chat has no e-mail address to verify", field="email")
    if chat.verified:
        return chat
    if not hmac.compare_digest(code.strip(), verification_code(ctx, chat)):
        raise InvalidInput("this code is not the one we sent", field="code")
    async with transaction(ctx) as session:
        conversation = await session.get(Conversation, chat.conversation_id, with_for_update=True)
        assert conversation is not None
        owner = await find_identity(session, IdentityKind.EMAIL, chat.email)
        if owner is None:
            visitor = await session.get(Customer, chat.customer_id)
            assert visitor is not None
            await insert_identities(
                session, ctx, visitor, [(IdentityKind.EMAIL, chat.email)], actor_user_id=None
            )
            customer_id = visitor.id
        else:
            customer_id = owner.customer_id
        conversation.customer_id = customer_id
        conversation.updated_at = ctx.clock.now()
        await _mark_first_message(session, chat)
        await record_conversation_event(
            session,
            ctx,
            EventType.CONVERSATION_UPDATED,
            conversation,
            actor_user_id=None,
            payload={"customer_id": customer_id, "email_verified": True},
        )
    return replace(chat, customer_id=customer_id, verified=True)


async def _mark_first_message(session: AsyncSession, chat: VisitorChat) -> None:
    first = await session.scalar(
        select(Message).where(Message.id == chat.first_message_id, Message.channel == Channel.CHAT)
    )
    if first is not None:
        first.metadata_ = {**first.metadata_, "email_verified": "true"}
