"""The inbound SMTP server: mail sent to a mailbox becomes a message in its conversation.

Rules:
- it answers ``250`` to the message only after ``receive`` committed it; any failure
  is a ``451`` (try again later), so the sending server keeps the message and retries:
  nothing accepted is lost;
- a recipient no active mailbox (channel account, provider ``smtp``) has is refused at
  RCPT with ``550`` unless ``smtp.accept_unknown_recipients``;
- a message the parser cannot fully read is still stored, raw, and flagged ``unparsed``;
  only what is not e-mail at all is refused (``554``);
- it runs on the server's event loop (aiosmtpd's protocol on ``loop.create_server``), as
  one of ``opencx serve``'s background services; a port already taken is logged and
  leaves the rest of the server running.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from opencx.channels.base import UnreadablePayload
from opencx.channels.email.parsing import parse_email
from opencx.features.channels.inbound import receive
from opencx.features.channels.outbound import acknowledge
from opencx.features.context import AppContext, transaction
from opencx.features.directory.channel_accounts import find_account

__all__ = ["MailboxHandler", "smtp_service", "start_smtp_server"]

log = structlog.get_logger(__name__)


#: How long a mailbox lookup is reused (a changed account applies after at most this).
MAILBOX_CACHE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class _Mailbox:
    queue_id: int | None
    acknowledges: bool


class MailboxHandler:
    """aiosmtpd's handler: RCPT checks the mailbox, DATA stores the message."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._mailboxes: dict[str, tuple[float, _Mailbox | None]] = {}

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if await self._mailbox(address) is None and not self._accept_unknown:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if not raw:
            return "554 5.6.0 an empty message is not e-mail"
        recipient = envelope.rcpt_tos[0] if envelope.rcpt_tos else None
        try:
            item = parse_email(raw, recipient=recipient)
        except UnreadablePayload as exc:
            return f"554 5.6.0 {exc.detail}"[:200]
        if not item.sender.value and envelope.mail_from and envelope.mail_from != "<>":
            # No readable From: the envelope's sender is the next best answer address.
            item = replace(item, sender=replace(item.sender, value=envelope.mail_from.lower()))
        try:
            mailbox = await self._mailbox(recipient) if recipient else None
            queue_id = mailbox.queue_id if mailbox else None
            received = await receive(self.ctx, item, raw=raw, queue_id=queue_id)
        except Exception:
            log.exception("smtp_message_not_stored", recipient=recipient)
            return "451 4.3.0 the message could not be stored; try again later"
        if recipient and mailbox and mailbox.acknowledges and received.task_id is not None:
            try:
                await acknowledge(self.ctx, received, mailbox=recipient)
            except Exception:  # the message is stored: the acknowledgement is a courtesy
                log.exception("smtp_acknowledgement_failed", message_id=received.message_id)
        log.info(
            "smtp_message_stored",
            message_id=received.message_id,
            conversation_id=received.conversation_id,
            duplicate=received.duplicate,
        )
        return f"250 2.0.0 OK: stored as message {received.message_id}"

    @property
    def _accept_unknown(self) -> bool:
        return self.ctx.settings.smtp.accept_unknown_recipients

    async def _mailbox(self, address: str) -> _Mailbox | None:
        """The active mailbox at ``address``, or None; looked up at most every few
        seconds per address (each message names its mailbox twice: RCPT and DATA)."""
        key = address.lower()
        now = asyncio.get_running_loop().time()
        cached = self._mailboxes.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with transaction(self.ctx) as session:
            account = await find_account(session, provider="smtp", address=address)
        found = (
            _Mailbox(account.queue_id, bool(account.auto_ack_hours))
            if account is not None
            else None
        )
        if len(self._mailboxes) > 10_000:
            self._mailboxes.clear()
        self._mailboxes[key] = (now + MAILBOX_CACHE_SECONDS, found)
        return found


async def start_smtp_server(ctx: AppContext) -> asyncio.Server:
    settings = ctx.settings.smtp
    handler = MailboxHandler(ctx)
    loop = asyncio.get_running_loop()

    def protocol() -> Any:
        return SMTP(
            handler,
            hostname=settings.hostname,
            data_size_limit=settings.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            ident="OpenCX ESMTP",
        )

    return await loop.create_server(protocol, host=settings.host, port=settings.port)


async def smtp_service(ctx: AppContext) -> None:
    """``opencx serve``'s background service: listen until cancelled."""
    if not ctx.settings.smtp.enabled:
        return
    try:
        server = await start_smtp_server(ctx)
    except OSError as exc:
        log.error(
            "smtp_server_not_started",
            host=ctx.settings.smtp.host,
            port=ctx.settings.smtp.port,
            error=str(exc),
        )
        return
    sockets = server.sockets or ()
    log.info("smtp_server_listening", addresses=[str(s.getsockname()) for s in sockets])
    try:
        await asyncio.Event().wait()
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()
