"""In-process stand-ins for the ``http`` and ``mail`` ports: a provider's API answered
by route (``FakeHttp``, an ``httpx.MockTransport``) and a relay that records what it
was given or refuses it with an SMTP code (``FakeMail``).

A test puts them on its context (``ctx.http = fake``, ``ctx.mail = FakeMail()``); the
code under test builds its requests and reads the answers exactly as it does in
production, only no socket is opened.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage

import httpx

from opencx.features.ports import MailNotSent

__all__ = ["FakeHttp", "FakeMail", "HttpHandler", "SentMail"]

#: Answers one request; gets the path's ``{names}`` as matched.
HttpHandler = Callable[[httpx.Request, dict[str, str]], httpx.Response | Awaitable[httpx.Response]]

_PARAMETER = re.compile(r"\{(\w+)(:path)?\}")


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    host: str | None
    path: re.Pattern[str]
    handler: HttpHandler


class FakeHttp(httpx.MockTransport):
    """Routes each request to the first handler whose method, host and path match
    (``{name}`` matches one path segment, ``{name:path}`` the rest); anything else is
    a ``404``. Every request is kept in ``requests``, bodies read."""

    def __init__(self) -> None:
        super().__init__(self._dispatch)
        self.requests: list[httpx.Request] = []
        self._routes: list[_Route] = []

    def route(
        self, method: str, path: str, handler: HttpHandler, *, host: str | None = None
    ) -> None:
        self._routes.append(_Route(method.upper(), host, _compile(path), handler))

    async def _dispatch(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for route in self._routes:
            if route.method != request.method or route.host not in (None, request.url.host):
                continue
            found = route.path.fullmatch(request.url.path)
            if found is not None:
                answer = route.handler(request, found.groupdict())
                return answer if isinstance(answer, httpx.Response) else await answer
        return httpx.Response(404, json={"error": f"no route for {request.method} {request.url}"})


def _compile(path: str) -> re.Pattern[str]:
    pattern, end = "", 0
    for parameter in _PARAMETER.finditer(path):
        pattern += re.escape(path[end : parameter.start()])
        segment = ".+" if parameter.group(2) else "[^/]+"
        pattern += f"(?P<{parameter.group(1)}>{segment})"
        end = parameter.end()
    return re.compile(pattern + re.escape(path[end:]))


@dataclass(frozen=True, slots=True)
class SentMail:
    """One message the relay took, with the envelope it was given (``None``: the
    message's own headers)."""

    message: EmailMessage
    sender: str | None
    recipients: tuple[str, ...] | None


class FakeMail:
    """A relay that takes every message into ``sent``, except those it was told to
    refuse (``refuse_next``), which fail as a real relay's refusal does."""

    def __init__(self) -> None:
        self.sent: list[SentMail] = []
        self._refusals: deque[tuple[int, str]] = deque()

    def refuse_next(self, code: int, text: str, *, times: int = 1) -> None:
        """Refuse the next ``times`` messages with the SMTP reply ``code`` and ``text``."""
        self._refusals.extend([(code, text)] * times)

    async def send(
        self,
        message: EmailMessage,
        *,
        sender: str | None = None,
        recipients: Sequence[str] | None = None,
    ) -> None:
        if self._refusals:
            code, text = self._refusals.popleft()
            # worded as aiosmtplib words a refusal, which SmtpRelay passes on
            raise MailNotSent(f"({code}, {text!r})", code=code)
        self.sent.append(SentMail(message, sender, tuple(recipients) if recipients else None))
