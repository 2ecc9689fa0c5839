"""One IMAP mailbox, through the few commands the poller needs, on the stdlib's ``imaplib``.

Rules:
- every command runs in a worker thread (``asyncio.to_thread``), so a slow server never
  blocks the event loop; a connection is used by one task at a time, so imaplib's lack
  of thread safety never matters;
- every socket operation has a timeout; TLS (``tls``, ``starttls``) verifies the
  server's certificate and name against the system's trusted authorities;
- the host is resolved once and every address judged (``opencx.features.destinations``):
  an internal one is refused unless allowed, and the connection goes to an address
  that was checked, never to the name resolved again (DNS rebinding);
- the password is sent with ``AUTHENTICATE PLAIN`` when the server offers it (UTF-8
  safe), else ``LOGIN``; it never appears in an error;
- a server's ``NO`` or ``BAD``, a dropped connection, a TLS or socket error becomes
  ``MailboxError`` with the server's words;
- messages are read with ``BODY.PEEK[]``, which leaves ``\\Seen`` alone;
- folder names are quoted and written in modified UTF-7 (RFC 3501, 5.1.3), so
  ``Traité`` is a folder name like any other.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import imaplib
import re
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from opencx.core.errors import Unavailable
from opencx.features.destinations import resolve_allowed
from opencx.features.directory.provider_settings import ImapAccountSettings

__all__ = ["ImapMailbox", "MailboxError", "Selected", "encode_folder"]

T = TypeVar("T")

_FETCHED_UID = re.compile(rb"\bUID (\d+)\b")


class MailboxError(Unavailable):
    """The mailbox could not be reached, or refused what was asked."""


@dataclass(frozen=True, slots=True)
class Selected:
    """What SELECT says of a folder: its UIDVALIDITY and the next UID it will give."""

    uidvalidity: int
    uidnext: int | None


class ImapMailbox:
    """A logged-in connection; ``open`` it, then ``close`` it (always)."""

    def __init__(self, connection: imaplib.IMAP4) -> None:
        self._connection = connection

    @classmethod
    async def open(
        cls,
        settings: ImapAccountSettings,
        password: str,
        *,
        socket_timeout: float,
        allow_private: bool = False,
    ) -> ImapMailbox:
        return cls(await _call(lambda: _connect(settings, password, socket_timeout, allow_private)))

    async def select(self, folder: str) -> Selected:
        return await _call(lambda: _select(self._connection, folder))

    async def search(self, *, after_uid: int, unseen_only: bool) -> list[int]:
        """UIDs above ``after_uid`` (only unseen ones when asked), in ascending order."""
        return await _call(lambda: _search(self._connection, after_uid, unseen_only))

    async def fetch(self, uid: int) -> bytes | None:
        """The whole message, ``\\Seen`` left as it was; ``None`` if it is gone."""
        return await _call(lambda: _fetch(self._connection, uid))

    async def mark_seen(self, uid: int) -> None:
        await _call(lambda: _store_flags(self._connection, uid, r"(\Seen)"))

    async def move(self, uid: int, folder: str) -> None:
        """Move the message to ``folder``, creating the folder when it does not exist."""
        await _call(lambda: _move(self._connection, uid, folder))

    async def close(self) -> None:
        await asyncio.to_thread(_close, self._connection)


async def _call(command: Callable[[], T]) -> T:
    try:
        return await asyncio.to_thread(command)
    except (imaplib.IMAP4.error, OSError, EOFError, UnicodeError) as exc:
        raise MailboxError(_describe(exc)) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, UnicodeError):  # its text could quote the credential
        return "the user name or password has characters the server does not accept"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError | ssl.SSLError | ConnectionError):
        text = f"{type(exc).__name__}: {text}"
    return text[:500]


# --- commands, run in a worker thread ------------------------------------------------------


class _PinnedIMAP4(imaplib.IMAP4):
    """Connects to ``address`` (checked) while speaking to ``host`` (for TLS names)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self._address = address
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection((self._address, self.port), timeout)


class _PinnedIMAP4SSL(imaplib.IMAP4_SSL):
    def __init__(
        self, host: str, port: int, *, address: str, context: ssl.SSLContext, timeout: float
    ) -> None:
        self._address = address
        super().__init__(host, port, ssl_context=context, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = socket.create_connection((self._address, self.port), timeout)
        wrapped: socket.socket = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        return wrapped


def _connect(
    settings: ImapAccountSettings, password: str, timeout: float, allow_private: bool
) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    address = resolve_allowed(settings.host, settings.port, allow_private=allow_private)[0]
    connection: imaplib.IMAP4
    if settings.security == "tls":
        connection = _PinnedIMAP4SSL(
            settings.host, settings.port, address=address, context=context, timeout=timeout
        )
    else:
        connection = _PinnedIMAP4(settings.host, settings.port, address=address, timeout=timeout)
    try:
        if settings.security == "starttls":
            connection.starttls(ssl_context=context)
        _log_in(connection, settings.username, password)
        _refresh_capabilities(connection)
    except BaseException:
        _close(connection)
        raise
    return connection


def _log_in(connection: imaplib.IMAP4, username: str, password: str) -> None:
    if "AUTH=PLAIN" in connection.capabilities:
        token = f"\0{username}\0{password}".encode()
        connection.authenticate("PLAIN", lambda _challenge: token)
    else:
        connection.login(username, password)


def _refresh_capabilities(connection: imaplib.IMAP4) -> None:
    """What the server offers once logged in (MOVE, UIDPLUS…): imaplib keeps what it
    offered before."""
    status, data = connection.capability()
    if status == "OK" and data and isinstance(data[-1], bytes):
        connection.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())


def _select(connection: imaplib.IMAP4, folder: str) -> Selected:
    status, data = connection.select(encode_folder(folder))
    if status != "OK":
        raise MailboxError(f"folder {folder!r}: {_text(data)}")
    _, uidvalidity = connection.response("UIDVALIDITY")
    _, uidnext = connection.response("UIDNEXT")
    if not uidvalidity or uidvalidity[0] is None:
        raise MailboxError(f"folder {folder!r}: the server gave no UIDVALIDITY")
    return Selected(int(uidvalidity[-1]), int(uidnext[-1]) if uidnext and uidnext[-1] else None)


def _search(connection: imaplib.IMAP4, after_uid: int, unseen_only: bool) -> list[int]:
    criteria = ["UNSEEN"] if unseen_only else []
    criteria += ["UID", f"{after_uid + 1}:*"]
    status, data = connection.uid("SEARCH", *criteria)
    _check(status, data, "SEARCH")
    found = {int(uid) for line in data if line for uid in bytes(line).split()}
    # ``n:*`` always matches the highest UID, even one below n.
    return sorted(uid for uid in found if uid > after_uid)


def _fetch(connection: imaplib.IMAP4, uid: int) -> bytes | None:
    status, data = connection.uid("FETCH", str(uid), "(BODY.PEEK[])")
    _check(status, data, "FETCH")
    for part in data:
        if isinstance(part, tuple) and len(part) == 2:
            head, body = part
            found = _FETCHED_UID.search(head)
            if b"BODY[]" in head and (found is None or int(found.group(1)) == uid):
                return bytes(body)
    return None


def _store_flags(connection: imaplib.IMAP4, uid: int, flags: str) -> None:
    status, data = connection.uid("STORE", str(uid), "+FLAGS.SILENT", flags)
    _check(status, data, "STORE")


def _move(connection: imaplib.IMAP4, uid: int, folder: str) -> None:
    status, data = _move_once(connection, uid, folder)
    if status != "OK" and b"TRYCREATE" in b" ".join(d for d in data if isinstance(d, bytes)):
        created, answer = connection.create(encode_folder(folder))
        _check(created, answer, f"CREATE {folder!r}")
        status, data = _move_once(connection, uid, folder)
    _check(status, data, f"moving to {folder!r}")


def _move_once(connection: imaplib.IMAP4, uid: int, folder: str) -> tuple[str, list[bytes]]:
    if "MOVE" in connection.capabilities:
        return connection.uid("MOVE", str(uid), encode_folder(folder))
    status, data = connection.uid("COPY", str(uid), encode_folder(folder))
    if status != "OK":
        return status, data
    _store_flags(connection, uid, r"(\Seen \Deleted)")
    if "UIDPLUS" in connection.capabilities:
        # Expunges this message only; without UIDPLUS it waits for the mailbox's next
        # expunge rather than purging what someone else marked deleted.
        return connection.uid("EXPUNGE", str(uid))
    return status, data


def _close(connection: imaplib.IMAP4) -> None:
    try:
        connection.logout()
    except (imaplib.IMAP4.error, OSError, EOFError):
        with contextlib.suppress(OSError):
            connection.shutdown()


def _check(status: str, data: Sequence[object], what: str) -> None:
    if status != "OK":
        raise MailboxError(f"{what}: {status} {_text(data)}".strip())


def _text(data: Sequence[object]) -> str:
    return " ".join(
        part.decode("utf-8", "replace") for part in data if isinstance(part, bytes)
    ).strip()


# --- folder names ----------------------------------------------------------------------------


def encode_folder(name: str) -> str:
    """``name`` as an IMAP quoted string in modified UTF-7: ``Traité`` is ``"Trait&AOk-"``."""
    encoded = _modified_utf7(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _modified_utf7(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + raw.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)
