"""The real HTTP and mail transports behind the context's ``http`` and ``mail`` ports.

Rules:
- requests to a few named hosts may be answered by ASGI apps inside the process
  (``LocalHosts``: the demo's simulated CRM); every other one goes to the pool;
- one HTTP connection pool per process (``SharedHttp``): each call wraps it in a client
  of its own (``http_client``) carrying that call's timeout and redirect settings, and
  closing that client leaves the pool open; the pool is built at its first request (a
  context that never calls out pays nothing) and closed when the process stops;
- e-mail goes to the relay of ``smtp_out`` read at each send (``SmtpRelay``), with its
  host, port, implicit TLS or STARTTLS, login and timeout; whatever keeps the relay
  from taking a message (a refusal, no connection, a timeout) is ``MailNotSent``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx

from opencx.features.ports import HttpTransport, MailNotSent
from opencx.settings import Settings

__all__ = ["LocalHosts", "SharedHttp", "SmtpRelay", "http_client"]


class SharedHttp(httpx.AsyncBaseTransport):
    """The process's connection pool to the outside, built at its first request."""

    def __init__(self) -> None:
        self._pool: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._pool is None:
            self._pool = httpx.AsyncHTTPTransport()
        return await self._pool.handle_async_request(request)

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.aclose()


class LocalHosts(httpx.AsyncBaseTransport):
    """Requests to the hosts of ``apps`` answered by those ASGI apps in this process;
    every other request goes to ``outside``."""

    def __init__(self, outside: HttpTransport, apps: Mapping[str, Callable[..., Any]]) -> None:
        self._outside = outside
        self._apps = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        local = self._apps.get(request.url.host)
        return await (local or self._outside).handle_async_request(request)

    async def aclose(self) -> None:
        await self._outside.aclose()


class _Borrowed(httpx.AsyncBaseTransport):
    """The shared transport lent to one client: the client's close does not close it."""

    def __init__(self, shared: HttpTransport) -> None:
        self._shared = shared

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._shared.handle_async_request(request)


def http_client(transport: HttpTransport, **options: Any) -> httpx.AsyncClient:
    """A client for one call (``timeout``, ``follow_redirects``… in ``options``) over
    the shared ``transport``."""
    return httpx.AsyncClient(transport=_Borrowed(transport), **options)


class SmtpRelay:
    """Sends through the relay ``settings.smtp_out`` names, with aiosmtplib."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(
        self,
        message: EmailMessage,
        *,
        sender: str | None = None,
        recipients: Sequence[str] | None = None,
    ) -> None:
        relay = self._settings.smtp_out
        if relay.host is None:
            raise MailNotSent("no relay configured: set OPENCX_SMTP_OUT__HOST")
        try:
            await aiosmtplib.send(
                message,
                sender=sender,
                recipients=recipients,
                hostname=relay.host,
                port=relay.port,
                username=relay.username,
                password=relay.password.get_secret_value() if relay.password else None,
                start_tls=relay.starttls and not relay.tls,
                use_tls=relay.tls,
                timeout=relay.timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailNotSent(str(exc) or type(exc).__name__, code=_code(exc)) from exc


def _code(exc: Exception) -> int | None:
    """The SMTP reply code of a refusal (the first recipient's, when all were refused)."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        return exc.recipients[0].code
    return None
