"""The demo's simulated customers writing, each through the real intake of its channel.

Rules:
- a message goes the way its channel's messages come in, in process: a web chat
  through the widget's visitor service (``start_chat``, ``post_visitor_message``), an
  e-mail as the bytes the SMTP server would read (``parse_received`` then ``receive``),
  an SMS as Twilio's webhook form and a WhatsApp or Messenger message as Meta's webhook
  body, read by their adapters and stored by ``receive`` as a verified webhook's are;
- every such message carries ``SIMULATED_FLAG``: its new customer is marked
  ``simulated`` and its routing task too, so routing may offer it to simulated agents;
- a channel writes to the demo's active account for it (``Accounts``); a channel with
  none is skipped. SMS, WhatsApp and Messenger are simulated only while their provider
  is not configured: with credentials, answers to the simulated numbers would be sent;
- simulated addresses are made never to reach anyone: e-mail at ``example.com``
  (RFC 2606), phone numbers in the ranges kept for fiction (+33 6 39 98, +44 7700 900).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import select

from opencx.core.enums import Channel
from opencx.db.models import ChannelAccount
from opencx.features.chat.visitors import (
    ChatStart,
    VisitorChat,
    open_chat,
    post_visitor_message,
    start_chat,
)
from opencx.features.chat.widgets import PROVIDER as WIDGET
from opencx.features.contacts.intake import Received, receive
from opencx.features.context import AppContext, transaction
from opencx.features.sources.mail_parsing import parse_received
from opencx.providers import meta, twilio
from opencx.providers.base import SIMULATED_FLAG, InboundMessage
from opencx.providers.email import PROVIDER as MAILBOX
from opencx.simulation.demo_traffic import Visit

__all__ = ["Accounts", "Thread", "load_accounts", "write_first", "write_follow_up"]

#: The provider of each written channel's account in the demo.
PROVIDERS = {
    Channel.CHAT: WIDGET,
    Channel.EMAIL: MAILBOX,
    Channel.SMS: twilio.PROVIDER,
    Channel.WHATSAPP: meta.PROVIDER,
    Channel.MESSENGER: meta.PROVIDER,
}
EMAIL_DOMAIN = "example.com"


@dataclass(frozen=True, slots=True)
class Accounts:
    """The address of the demo's account on each channel it simulates."""

    addresses: dict[Channel, str]

    def channels(self) -> frozenset[Channel]:
        return frozenset(self.addresses)


async def load_accounts(ctx: AppContext) -> Accounts:
    """The first active account of each written channel at its demo provider; SMS,
    WhatsApp and Messenger only while their provider has no credentials."""
    async with transaction(ctx) as session:
        rows = await session.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.is_active.is_(True))
            .order_by(ChannelAccount.id)
        )
        found: dict[Channel, str] = {}
        for row in rows:
            if PROVIDERS.get(row.channel) == row.provider and _may_simulate(ctx, row.provider):
                found.setdefault(row.channel, row.address)
    return Accounts(found)


def _may_simulate(ctx: AppContext, provider: str) -> bool:
    if provider == twilio.PROVIDER:
        return ctx.settings.twilio.account_sid is None or ctx.settings.twilio.auth_token is None
    if provider == meta.PROVIDER:
        return ctx.settings.meta.access_token is None
    return True


@dataclass(slots=True)
class Thread:
    """What a customer's later message needs of their first one."""

    visit: Visit
    conversation_id: int
    chat: VisitorChat | None = None
    email_id: str | None = None


async def write_first(ctx: AppContext, visit: Visit, accounts: Accounts) -> Thread:
    """The visit's opening message, on its channel; its conversation."""
    address = accounts.addresses[visit.channel]
    if visit.channel is Channel.CHAT:
        return await _start_chat(ctx, visit, address)
    if visit.channel is Channel.EMAIL:
        email_id = make_msgid(domain=EMAIL_DOMAIN)
        received = await _email(ctx, visit, address, visit.opening, email_id, answers=None)
        return Thread(visit, received.conversation_id, email_id=email_id)
    received = await _message(ctx, visit, address, visit.opening)
    return Thread(visit, received.conversation_id)


async def write_follow_up(ctx: AppContext, thread: Thread, accounts: Accounts) -> Received | None:
    """The visit's follow-up, in the same conversation (``None``: a chat that became
    an e-mail because nobody could chat has no chat to write in)."""
    visit = thread.visit
    address = accounts.addresses[visit.channel]
    if visit.channel is Channel.CHAT:
        if thread.chat is None:
            return None
        return await post_visitor_message(
            ctx, thread.chat, text=visit.follow_up, client_id=uuid.uuid4().hex
        )
    if visit.channel is Channel.EMAIL:
        return await _email(
            ctx,
            visit,
            address,
            visit.follow_up,
            make_msgid(domain=EMAIL_DOMAIN),
            answers=thread.email_id,
        )
    return await _message(ctx, visit, address, visit.follow_up)


# --- web chat -----------------------------------------------------------------------


async def _start_chat(ctx: AppContext, visit: Visit, widget: str) -> Thread:
    form = ChatStart(
        name=visit.name, email=email_of(visit), intent=visit.opening, locale=visit.language
    )
    started = await start_chat(ctx, widget, form, origin=None, simulated=True)
    chat = open_chat(ctx, started.token) if started.token is not None else None
    return Thread(visit, started.conversation_id, chat=chat)


# --- e-mail: the bytes an SMTP client would send ------------------------------------


async def _email(
    ctx: AppContext, visit: Visit, mailbox: str, text: str, email_id: str, *, answers: str | None
) -> Received:
    mail = EmailMessage()
    mail["From"] = f"{visit.name} <{email_of(visit)}>"
    mail["To"] = mailbox
    mail["Subject"] = visit.subject if answers is None else f"Re: {visit.subject}"
    mail["Date"] = format_datetime(ctx.clock.now())
    mail["Message-ID"] = email_id
    if answers is not None:
        mail["In-Reply-To"] = answers
        mail["References"] = answers
    mail.set_content(text)
    raw = mail.as_bytes()
    item = await parse_received(ctx, raw, recipient=mailbox)
    return await receive(ctx, _simulated(item), raw=raw, account=MAILBOX)


# --- SMS (Twilio's form), WhatsApp and Messenger (Meta's body) -----------------------


async def _message(ctx: AppContext, visit: Visit, address: str, text: str) -> Received:
    if visit.channel is Channel.SMS:
        params = [
            ("MessageSid", f"SM{uuid.uuid4().hex}"),
            ("AccountSid", "AC" + "0" * 32),
            ("From", phone_of(visit)),
            ("To", address),
            ("Body", text),
            ("NumMedia", "0"),
            ("SmsStatus", "received"),
        ]
        item = twilio.parse_message(params)
        return await receive(ctx, _simulated(item), account=twilio.PROVIDER)
    now = ctx.clock.now().timestamp()
    if visit.channel is Channel.WHATSAPP:
        body = _whatsapp(visit, address, text, now)
    else:
        body = _messenger(visit, address, text, now)
    parsed = meta.parse_webhook(json.dumps(body).encode())
    [item] = [i for i in parsed if isinstance(i, InboundMessage)]
    return await receive(ctx, _simulated(item), account=meta.PROVIDER)


def _whatsapp(visit: Visit, phone_number_id: str, text: str, now: float) -> dict[str, Any]:
    wa_id = phone_of(visit).removeprefix("+")
    message = {
        "from": wa_id,
        "id": f"wamid.sim{uuid.uuid4().hex}",
        "timestamp": str(int(now)),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": phone_number_id, "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": visit.name}, "wa_id": wa_id}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"value": value, "field": "messages"}]}],
    }


def _messenger(visit: Visit, page_id: str, text: str, now: float) -> dict[str, Any]:
    millis = int(now * 1000)
    event = {
        "sender": {"id": psid_of(visit)},
        "recipient": {"id": page_id},
        "timestamp": millis,
        "message": {"mid": f"m_sim{uuid.uuid4().hex}", "text": text},
    }
    return {"object": "page", "entry": [{"id": page_id, "time": millis, "messaging": [event]}]}


def _simulated(item: InboundMessage) -> InboundMessage:
    return replace(item, flags=item.flags | {SIMULATED_FLAG})


# --- addresses that reach no one ----------------------------------------------------


def email_of(visit: Visit) -> str:
    local = f"{visit.first_name}.{visit.last_name}".lower().replace(" ", "")
    ascii_local = local.encode("ascii", "ignore").decode() or "customer"
    return f"{ascii_local}.{visit.number}@{EMAIL_DOMAIN}"


def phone_of(visit: Visit) -> str:
    """A number of the ranges kept for films and books: +33 6 39 98 xx xx in France,
    +44 7700 900xxx in the United Kingdom."""
    if visit.language == "fr":
        return f"+3363998{visit.number % 10_000:04d}"
    return f"+447700900{visit.number % 1_000:03d}"


def psid_of(visit: Visit) -> str:
    """A page-scoped id in Messenger's form (16 digits), this visit's own."""
    return str(6_100_000_000_000_000 + visit.number * 104_729)
