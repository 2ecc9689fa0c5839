"""Rate limits of the public chat, per visitor (client address), per chat and per e-mail
address given, counted before the work (``opencx.features.throttle``).

Rules (settings in ``limits.*``, windows of ``chat_window_seconds`` unless said):
- starting a chat: ``chat_starts_per_visitor`` per visitor, ``chat_starts_per_address``
  per e-mail address;
- messages: ``chat_messages_per_minute`` per chat, and three times that per visitor
  (over all their chats), by the WebSocket or the HTTP fallback alike;
- files: ``chat_files_per_visitor`` per visitor;
- codes tried to verify a chat's address: 5 per chat;
- e-mails the chat sends to an address (transcripts, address checks):
  ``chat_emails_per_address_per_day`` per address a day, so that a widget cannot be used
  to flood a mailbox.
"""

from __future__ import annotations

from opencx.features.chat.visitors import VisitorChat
from opencx.features.throttle import Limit, Throttle
from opencx.settings import Settings

__all__ = ["ChatLimits"]

_DAY = 24 * 3600


class ChatLimits:
    """The chat's limits over one throttle."""

    def __init__(self, throttle: Throttle, settings: Settings) -> None:
        limits = settings.limits
        window = limits.chat_window_seconds
        per_minute = limits.chat_messages_per_minute
        self.throttle = throttle
        self.starts = Limit("chat-start", limits.chat_starts_per_visitor, window, _STARTS)
        self.starts_to = Limit("chat-start-to", limits.chat_starts_per_address, window, _STARTS)
        self.messages = Limit("chat-message", per_minute, 60, _MESSAGES)
        self.visitor_messages = Limit("chat-visitor-message", 3 * per_minute, 60, _MESSAGES)
        self.files = Limit("chat-file", limits.chat_files_per_visitor, window, _FILES)
        self.checks = Limit("chat-verify", 5, window, _CHECKS)
        self.emails = Limit("chat-email", limits.chat_emails_per_address_per_day, _DAY, _EMAILS)

    async def starting(self, *, visitor: str, email: str | None) -> None:
        await self.throttle.hit(self.starts, visitor)
        if email:
            await self.throttle.hit(self.starts_to, email.lower())

    async def writing(self, chat: VisitorChat, *, visitor: str) -> None:
        await self.throttle.hit(self.messages, chat.session)
        await self.throttle.hit(self.visitor_messages, visitor)

    async def sending_file(self, chat: VisitorChat, *, visitor: str) -> None:
        await self.writing(chat, visitor=visitor)
        await self.throttle.hit(self.files, visitor)

    async def verifying(self, chat: VisitorChat) -> None:
        await self.throttle.hit(self.checks, chat.session)

    async def emailing(self, address: str) -> None:
        await self.throttle.hit(self.emails, address.lower())


_STARTS = "too many chats started; try again later"
_MESSAGES = "too many messages; wait a little"
_FILES = "too many files sent; try again later"
_CHECKS = "too many codes tried; try again later"
_EMAILS = "too many e-mails to this address; try again tomorrow"
