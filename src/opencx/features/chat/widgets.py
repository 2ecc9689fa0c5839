"""Chat widgets: the web chat a site embeds, as its visitors see it before chatting.

Rules:
- a widget is a channel account (provider ``widget``, channel ``chat``) whose address is
  the key the page's script tag names; an unknown or inactive key does not exist (404);
- a page may use a widget only from one of its ``allowed_origins`` (none listed: any
  page); a browser always sends ``Origin`` on these requests, so a missing one is a
  client that is not a browser, and is allowed;
- the widget is *online* when its queue could be answered now: the queue's site takes
  work (open, routing state ``open``), the queue's business hours are open, and someone
  who serves the queue is logged in; otherwise, with an ``offline_mailbox``, the chat
  form becomes a message answered by e-mail;
- texts come from the gettext catalogs in the page's language (``en`` or ``fr``), the
  title from the widget's own settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel
from opencx.core.errors import NotFound, PermissionDenied
from opencx.core.hours import is_open
from opencx.core.routing.wait_time import wait_at_position
from opencx.db.models import BusinessHours, Queue, QueueStats, Site
from opencx.features.common import Schema
from opencx.features.context import AppContext, transaction
from opencx.features.directory.channel_accounts import find_account
from opencx.features.directory.provider_settings import InvitationRule, WidgetSettings
from opencx.i18n import get_translations, negotiate_locale

__all__ = [
    "PROVIDER",
    "Widget",
    "WidgetConfigOut",
    "load_widget",
    "widget_config",
    "widget_texts",
]

PROVIDER = "widget"


@dataclass(frozen=True, slots=True)
class Widget:
    account_id: int
    key: str
    queue_id: int | None
    settings: WidgetSettings


class InvitationOut(Schema):
    path_prefix: str | None
    seconds_on_page: int
    min_cart_value: float | None
    message: str


class WidgetConfigOut(Schema):
    key: str
    locale: str
    title: str
    online: bool
    # With nobody to chat, the visitor can leave a message answered by e-mail.
    offline_email: bool
    # The widget has a mailbox: a visitor who gave an e-mail can get the transcript.
    transcripts: bool
    estimated_wait_seconds: float | None
    invitations: list[InvitationOut] = Field(default_factory=list)
    texts: dict[str, str]


async def load_widget(session: AsyncSession, key: str, *, origin: str | None) -> Widget:
    """The active widget ``key``, if ``origin`` may use it."""
    account = await find_account(session, provider=PROVIDER, address=key)
    if account is None or account.channel is not Channel.CHAT:
        raise NotFound(f"chat widget {key!r} does not exist")
    settings = WidgetSettings.model_validate(account.settings)
    allowed = settings.allowed_origins
    if origin is not None and allowed and origin.rstrip("/") not in allowed:
        raise PermissionDenied(f"this widget may not be used from {origin}")
    return Widget(account.id, account.address, account.queue_id, settings)


async def widget_config(
    ctx: AppContext, key: str, *, origin: str | None, language: str | None
) -> WidgetConfigOut:
    locale = negotiate_locale(None, chosen=language)
    async with transaction(ctx) as session:
        widget = await load_widget(session, key, origin=origin)
        online, wait = await availability(session, widget, ctx.clock.now())
    settings = widget.settings
    return WidgetConfigOut(
        key=widget.key,
        locale=locale,
        title=settings.title_fr if locale == "fr" else settings.title_en,
        online=online,
        offline_email=not online and settings.offline_mailbox is not None,
        transcripts=settings.offline_mailbox is not None,
        estimated_wait_seconds=wait,
        invitations=[_invitation(rule, locale) for rule in settings.invitations],
        texts=widget_texts(locale),
    )


async def availability(
    session: AsyncSession, widget: Widget, now: datetime
) -> tuple[bool, float | None]:
    """Whether the widget's queue can be answered now, and a newcomer's estimated wait."""
    if widget.queue_id is None:
        return False, None
    queue = await session.get(Queue, widget.queue_id)
    if queue is None or not await _takes_work(session, queue, now):
        return False, None
    stats = await session.get(QueueStats, queue.id)
    if stats is None or stats.slots == 0:
        return False, None
    aht = stats.average_handle_seconds or float(queue.expected_handle_seconds)
    wait = wait_at_position(stats.waiting + 1, free=stats.free_agents, slots=stats.slots, aht=aht)
    return True, wait


async def _takes_work(session: AsyncSession, queue: Queue, now: datetime) -> bool:
    if queue.site_id is not None:
        site = await session.get(Site, queue.site_id)
        if site is not None and (not site.is_open or site.routing_state != "open"):
            return False
    if queue.business_hours_id is None:
        return True
    hours = await session.scalar(
        select(BusinessHours).where(BusinessHours.id == queue.business_hours_id)
    )
    if hours is None:
        return True
    holidays: dict[date, Any] = {h.day: h.special_hours for h in hours.holidays}
    return is_open(hours.weekly, holidays, hours.timezone, now)


def _invitation(rule: InvitationRule, locale: str) -> InvitationOut:
    return InvitationOut(
        path_prefix=rule.path_prefix,
        seconds_on_page=rule.seconds_on_page,
        min_cart_value=rule.min_cart_value,
        message=rule.message_fr if locale == "fr" else rule.message_en,
    )


def widget_texts(locale: str) -> dict[str, str]:
    """Every text the widget shows, in ``locale``."""
    _ = get_translations(locale).gettext
    return {
        "close": _("Close"),
        "name": _("Your name"),
        "email": _("Your e-mail address"),
        "intent": _("How can we help?"),
        "start": _("Start the chat"),
        "leave_message": _("Send your message"),
        "offline": _(
            "Nobody is available to chat right now. Leave us a message and we will "
            "answer by e-mail."
        ),
        "offline_sent": _("Thank you. We have your message and will answer by e-mail."),
        "placeholder": _("Write a message…"),
        "send": _("Send"),
        "attach": _("Attach a file"),
        "waiting": _("You are number %(position)s in the queue."),
        "wait_estimate": _("Estimated wait: %(wait)s."),
        "wait_unknown": _("We will be with you as soon as possible."),
        "joined": _("%(name)s joined the chat."),
        "typing": _("%(name)s is typing…"),
        "agent": _("Agent"),
        "you": _("You"),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "transcript": _("E-mail me the transcript"),
        "transcript_sent": _("The transcript is on its way to %(email)s."),
        "ended": _("The chat has ended. Write again to start a new one."),
        "failed": _("This message could not be sent. It will be retried."),
        "required": _("Please fill in this field."),
        "error": _("Something went wrong. Please try again."),
        "too_many": _("Too many attempts. Please wait a moment and try again."),
        "code": _("Code"),
        "code_sent": _("We sent a code to %(email)s. Enter it to link this chat to your history."),
        "code_check": _("Confirm"),
        "code_ok": _("Your e-mail address is confirmed."),
        "code_wrong": _("This code is not the one we sent."),
        "file_refused": _("This file could not be sent: files up to 10 MB are accepted."),
    }
