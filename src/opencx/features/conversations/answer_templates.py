"""The WhatsApp templates an answer in a conversation may use, from the catalog of the
account that answer goes through.

Rules:
- a WhatsApp answer leaves from the account that received the customer's last
  WhatsApp message in the conversation (``opencx.features.delivery.messaging``): its
  active templates are the ones offered; with no such message, or no active account,
  none are;
- a template is sent by name and language through Meta, by Content SID through Twilio:
  ``send_name`` says which, so the desktop never has to know;
- a template message naming a catalog template of that account must give one parameter
  per placeholder (422 otherwise); its ``body_text``, when left empty, becomes the
  template's body filled with them, which is what the customer reads and what the
  timeline shows. A template the catalog does not hold is sent as given.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel, Direction
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import ChannelAccount, Message, WhatsAppTemplate
from opencx.features.common import Schema
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import load_conversation
from opencx.features.directory.channel_accounts import find_account
from opencx.features.directory.whatsapp_templates import TemplateOut, active_templates
from opencx.providers import twilio

__all__ = [
    "AnswerTemplateOut",
    "AnswerTemplatesOut",
    "answering_account",
    "catalog_template",
    "get_answer_templates",
]


class AnswerTemplateOut(TemplateOut):
    #: What an answer names the template by (``template.name``): its name through Meta,
    #: its Content SID through Twilio.
    send_name: str


class AnswerTemplatesOut(Schema):
    """The templates a WhatsApp answer in this conversation may use now; ``account_id``
    and ``provider`` are the account it goes through (``null`` when there is none)."""

    account_id: int | None
    provider: str | None
    templates: list[AnswerTemplateOut]


async def get_answer_templates(
    ctx: AppContext, principal: Principal, conversation_id: int
) -> AnswerTemplatesOut:
    require(principal, Permission.CONVERSATIONS_READ)
    async with transaction(ctx) as session:
        await load_conversation(session, principal, conversation_id)
        account = await answering_account(session, conversation_id, Channel.WHATSAPP)
        if account is None:
            return AnswerTemplatesOut(account_id=None, provider=None, templates=[])
        offered = [
            AnswerTemplateOut(**template.model_dump(), send_name=send_name)
            for template in await active_templates(session, account.id)
            if (send_name := _send_name(account, template)) is not None
        ]
        return AnswerTemplatesOut(
            account_id=account.id, provider=account.provider, templates=offered
        )


async def answering_account(
    session: AsyncSession, conversation_id: int, channel: Channel
) -> ChannelAccount | None:
    """The active account that received the customer's last ``channel`` message in the
    conversation: the one an answer on ``channel`` leaves from."""
    metadata = await session.scalar(
        select(Message.metadata_)
        .where(
            Message.conversation_id == conversation_id,
            Message.channel == channel,
            Message.direction == Direction.INBOUND,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    provider, ours = (metadata or {}).get("provider"), (metadata or {}).get("recipient")
    if not isinstance(provider, str) or not isinstance(ours, str) or not ours:
        return None
    return await find_account(session, provider=provider, address=ours)


async def catalog_template(
    session: AsyncSession, conversation_id: int, *, name: str, language: str
) -> WhatsAppTemplate | None:
    """The catalog's template an answer names, on the account it goes through."""
    account = await answering_account(session, conversation_id, Channel.WHATSAPP)
    if account is None:
        return None
    by_name = (
        WhatsAppTemplate.content_sid == name
        if account.provider == twilio.PROVIDER
        else (WhatsAppTemplate.name == name) & (WhatsAppTemplate.language == language)
    )
    return await session.scalar(
        select(WhatsAppTemplate)
        .where(WhatsAppTemplate.account_id == account.id, by_name)
        .order_by(WhatsAppTemplate.id)
        .limit(1)
    )


def _send_name(account: ChannelAccount, template: TemplateOut) -> str | None:
    if account.provider == twilio.PROVIDER:
        return template.content_sid
    return template.name
