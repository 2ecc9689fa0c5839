"""Request bodies: the caller is known before a byte is read, and no body is read past
its route's limit.

FastAPI reads and parses a body before it runs a route's dependencies, so checking the
caller in a dependency comes too late: a stranger's 60 MB post would be read whole
before its 401. This pure ASGI middleware runs before the routes:

- on the API, a request that may carry a body (any method but GET, HEAD, OPTIONS) is
  authenticated first (``get_caller``; the result is kept for the route), and a visitor's
  chat request has its chat token checked first: a refusal is answered without reading;
- a ``Content-Length`` past the limit is refused (413) without reading; a body sent
  without one is counted as it arrives and cut off (413) at the limit;
- the limits are per kind of route: ``limits.body_bytes`` (the API, pages, the chat),
  uploads (``storage.max_upload_bytes`` and ``limits.upload_overhead_bytes`` for the
  multipart envelope), providers' webhooks (``limits.webhook_body_bytes``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opencx.core.errors import OpenCXError, TooLarge
from opencx.features.chat.visitors import open_chat
from opencx.features.context import AppContext
from opencx.web.deps import CALLER_SCOPE_KEY, SAFE_METHODS, get_caller
from opencx.web.errors import BodyTooLarge, domain_problem

__all__ = ["BodyGate", "body_limit"]

_UPLOADS = re.compile(r"^/(api/v1/.+/attachments|chat/files)$")
_CHAT_TOKEN_PATHS = frozenset(
    {
        "/chat/messages",
        "/chat/files",
        "/chat/transcript",
        "/chat/verification",
        "/chat/verification/code",
    }
)

Gate = Callable[[AppContext, Scope], Awaitable[None]]


def body_limit(ctx: AppContext, path: str) -> int:
    """The most bytes a request body to ``path`` may hold."""
    limits = ctx.settings.limits
    if path.startswith("/webhooks/"):
        return limits.webhook_body_bytes
    if _UPLOADS.match(path):
        return ctx.settings.storage.max_upload_bytes + limits.upload_overhead_bytes
    return limits.body_bytes


async def _api_caller(ctx: AppContext, scope: Scope) -> None:
    scope[CALLER_SCOPE_KEY] = await get_caller(Request(scope), ctx)


async def _chat_token(ctx: AppContext, scope: Scope) -> None:
    open_chat(ctx, Headers(scope=scope).get("x-chat-token"))


def _gate(path: str) -> Gate | None:
    if path.startswith("/api/"):
        return _api_caller
    if path in _CHAT_TOKEN_PATHS:
        return _chat_token
    return None


class BodyGate:
    """Authenticates before the body, and counts the body against its limit."""

    def __init__(self, app: ASGIApp, *, ctx: AppContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        try:
            if scope["method"] not in SAFE_METHODS and (gate := _gate(path)) is not None:
                await gate(self.ctx, scope)
            limit = body_limit(self.ctx, path)
            _check_declared(scope, limit)
        except OpenCXError as refused:
            await domain_problem(refused)(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge as exc:
            if started:
                raise
            problem = domain_problem(TooLarge(str(exc.detail), limit=exc.limit))
            await problem(scope, receive, send)


def _check_declared(scope: Scope, limit: int) -> None:
    declared = Headers(scope=scope).get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the request body is larger than {limit} bytes", limit=limit)
