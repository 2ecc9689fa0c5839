"""The inbound SMTP server: mail sent to a mailbox becomes a message in its conversation.

Rules:
- it answers ``250`` to the message only after ``receive`` committed it; a failure to
  store it, or any other failure on our side, is a ``451`` (try again later), so the
  sending server keeps the message and retries: nothing accepted is lost;
- what no retry can mend is refused for good (``5xx``), so that the sender learns at
  once: an envelope address that is malformed (``553``, see
  ``channels.email.envelope_address_problem``), a recipient no active mailbox (channel
  account, provider ``smtp``) has (``550``, unless ``smtp.accept_unknown_recipients``),
  a message over ``smtp.max_message_bytes`` (``552``), an empty one (``554``);
- lines of any length are taken, up to the message's size limit: RFC 5321's 1,000
  octets is a limit senders should keep, and real mail (Outlook's HTML) does not;
- a message the parser cannot fully read, or one past the parsing bounds, is still
  stored, raw, and flagged ``unparsed``; only what is not e-mail at all is refused;
- the protocol runs on the server's event loop (aiosmtpd's protocol on
  ``loop.create_server``), as one of ``opencx serve``'s background services, and the
  parsing in the pool of ``mail_parsing``, so that a large message never stalls the
  loop; a port already taken is logged and leaves the rest of the server running.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from opencx.features.contacts.intake import Arrival, arriving, receive
from opencx.features.context import AppContext, transaction
from opencx.features.delivery.outbox import Acknowledging, acknowledge
from opencx.features.directory.channel_accounts import find_account
from opencx.features.sources.mail_parsing import parse_received
from opencx.providers.base import UnreadablePayload
from opencx.providers.email import PROVIDER, envelope_address_problem

__all__ = ["MailboxHandler", "smtp_service", "start_smtp_server"]

log = structlog.get_logger(__name__)


#: Bytes of message lines read between two turns given to the rest of the event loop.
YIELD_EVERY = 32 * 1024
#: How long a mailbox lookup is reused (a changed account applies after at most this).
MAILBOX_CACHE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class _Mailbox:
    """An active mailbox, as RCPT and DATA read it (its queue is intake's to read)."""

    acknowledging: Acknowledging | None


class MailboxHandler:
    """aiosmtpd's handler: MAIL and RCPT check the envelope, DATA stores the message."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._mailboxes: dict[str, tuple[float, _Mailbox | None]] = {}

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        problem = envelope_address_problem(address)
        if problem is not None:
            return f"553 5.1.7 the sender's address is malformed: {problem}"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        problem = envelope_address_problem(address)
        if problem is not None:
            return f"553 5.1.3 the recipient's address is malformed: {problem}"
        if await self._mailbox(address) is None and not self._accept_unknown:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_exception(self, error: Exception) -> str:
        """A failure of ours while answering a command (the database, say): temporary,
        where aiosmtpd would answer a permanent ``500``."""
        log.error("smtp_command_failed", error=type(error).__name__, exc_info=error)
        return "451 4.3.0 a temporary failure here; try again later"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if not raw:
            return "554 5.6.0 an empty message is not e-mail"
        recipient = envelope.rcpt_tos[0] if envelope.rcpt_tos else None
        with arriving(self.ctx) as arrival:  # the messages of other sessions wait for it
            return await self._store(envelope, raw, recipient, arrival)

    async def _store(
        self, envelope: Envelope, raw: bytes, recipient: str | None, arrival: Arrival
    ) -> str:
        try:
            item = await parse_received(self.ctx, raw, recipient=recipient)
        except UnreadablePayload as exc:
            return f"554 5.6.0 {exc.detail}"[:200]
        except Exception:  # the parsing pool failed: the sender tries again later
            log.exception("smtp_message_not_parsed", recipient=recipient)
            return "451 4.3.0 the message could not be read; try again later"
        if not item.sender.value and envelope.mail_from and envelope.mail_from != "<>":
            # No readable From: the envelope's sender is the next best answer address.
            item = replace(item, sender=replace(item.sender, value=envelope.mail_from.lower()))
        try:
            mailbox = await self._mailbox(recipient) if recipient else None
            # A message accepted for no mailbox (``accept_unknown_recipients``) is
            # counted, and routed to the default queue where one is set.
            received = await receive(self.ctx, item, raw=raw, account=PROVIDER, arrival=arrival)
        except Exception:
            log.exception("smtp_message_not_stored", recipient=recipient)
            return "451 4.3.0 the message could not be stored; try again later"
        if mailbox is not None and mailbox.acknowledging is not None:
            try:
                await acknowledge(self.ctx, received, mailbox=mailbox.acknowledging)
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
            account = await find_account(session, provider=PROVIDER, address=address)
        found = _Mailbox(Acknowledging.of(account)) if account is not None else None
        if len(self._mailboxes) > 10_000:
            self._mailboxes.clear()
        self._mailboxes[key] = (now + MAILBOX_CACHE_SECONDS, found)
        return found


class _Smtp(SMTP):
    """aiosmtpd's protocol, taking message lines up to ``max_line_bytes`` long."""

    def __init__(self, handler: MailboxHandler, *, max_line_bytes: int, **options: Any):
        # The stream keeps RFC 5321's limit: past it, reading from the socket pauses
        # until the lines are taken, so a large message is read a slice at a time
        # between the loop's other work, never megabytes in one go.
        super().__init__(handler, **options)
        self.line_length_limit = max_line_bytes  # what DATA refuses with 500

    def _cb_client_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        super()._cb_client_connected(_LongLines(reader, self), writer)  # type: ignore[arg-type]


class _LongLines:
    """The protocol's view of its stream: a message line (read up to CRLF, as DATA
    does) is joined from pieces of the stream's limit, up to ``line_length_limit``;
    command lines (read up to LF) keep the stream's limit. Every ``YIELD_EVERY`` bytes of
    message lines it lets the event loop run: lines already received are taken without
    waiting, and a fast sender would otherwise hold the loop for a whole socket read.

    The complete lines already received behind a short one come with it, as one "line"
    of DATA (up to ``YIELD_EVERY`` bytes, never the lone dot that ends the message):
    DATA then costs a turn of its loop per socket read, not per line. DATA removes the
    dot a sender doubled at the start of the first line; the lines after it have theirs
    removed here (RFC 5321, 4.5.2)."""

    def __init__(self, reader: asyncio.StreamReader, protocol: SMTP) -> None:
        self._reader = reader
        self._protocol = protocol
        self._unyielded = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        if separator != b"\r\n":
            return await self._reader.readuntil(separator)
        self._unyielded += 1  # the line's own cost, whatever its length
        if self._unyielded > YIELD_EVERY:
            self._unyielded = 0
            await asyncio.sleep(0)
        pieces: list[bytes] = []
        size = 0
        while True:
            try:
                pieces.append(await self._reader.readuntil(separator))
                if size == 0 and pieces[0] != b".\r\n" and len(pieces[0]) < YIELD_EVERY:
                    pieces.append(await self._received_lines(YIELD_EVERY - len(pieces[0])))
                line = b"".join(pieces)
                self._unyielded += len(line)
                return line
            except asyncio.LimitOverrunError as exc:
                piece = await self._reader.readexactly(exc.consumed)
            size += len(piece)
            if size > self._protocol.line_length_limit:
                # what was read is dropped; the protocol reads on to the line's end
                raise asyncio.LimitOverrunError("the line is too long", 0)
            pieces.append(piece)

    async def _received_lines(self, most: int) -> bytes:
        """The whole message lines the stream holds already, up to ``most`` bytes and
        up to the end of data, their doubled dots undone; taking them never waits."""
        # The stream's buffer, read as aiosmtpd's own STARTTLS reads it.
        view = bytes(self._reader._buffer[:most])  # type: ignore[attr-defined]
        end = (b"\r\n" + view).find(b"\r\n.\r\n")
        last = view.rfind(b"\r\n")
        taken = end if end >= 0 else last + 2 if last >= 0 else 0
        if taken == 0:
            return b""
        lines = await self._reader.readexactly(taken)
        return (b"\r\n" + lines).replace(b"\r\n.", b"\r\n")[2:]


async def start_smtp_server(ctx: AppContext) -> asyncio.Server:
    settings = ctx.settings.smtp
    handler = MailboxHandler(ctx)
    loop = asyncio.get_running_loop()

    def protocol() -> Any:
        return _Smtp(
            handler,
            max_line_bytes=settings.max_message_bytes,
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
