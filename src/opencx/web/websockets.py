"""WebSockets: ``/ws/agent`` and ``/ws/supervisor`` (protocol in docs/realtime.md).

A connection is accepted, then authenticated (session cookie, or an API token in the
``token`` query parameter or the ``Authorization`` header); errors close it with
``4000 + HTTP status`` (4401, 4403). When the user's sessions or tokens end (sign-out,
revocation, a new password, deactivation), the connection proves its credential again
and is closed with 4401 if it no longer holds. The feed itself lives in
``opencx.features.live``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from opencx.core.errors import OpenCXError, PermissionDenied, Unauthenticated
from opencx.core.live_views import answer_client
from opencx.core.permissions import Principal
from opencx.features.auth.service import authenticate_token
from opencx.features.auth.sessions import authenticate_session
from opencx.features.context import AppContext
from opencx.features.live import FeedKind, LiveFeed, open_live_feed
from opencx.realtime.codec import dumps
from opencx.web.deps import session_key
from opencx.web.errors import websocket_close_code

__all__ = ["close_socket", "router", "take_query_token"]

log = structlog.get_logger(__name__)

router = APIRouter()

#: Close frames carry at most 123 bytes of reason (UTF-8).
MAX_REASON = 120


@router.websocket("/ws/agent")
async def agent_socket(websocket: WebSocket) -> None:
    """The signed-in user's own presence and the offers waiting for their answer, live;
    with ``?inbox=1``, notices that their inbox's ``waiting`` or ``team`` view changed."""
    await _serve(websocket, FeedKind.AGENT, inbox=websocket.query_params.get("inbox") == "1")


@router.websocket("/ws/supervisor")
async def supervisor_socket(websocket: WebSocket) -> None:
    """Every visible agent's presence and every visible site, live (``supervise``)."""
    await _serve(websocket, FeedKind.SUPERVISOR)


async def _serve(websocket: WebSocket, kind: FeedKind, *, inbox: bool = False) -> None:
    ctx: AppContext = websocket.app.state.ctx
    token = _take_token(websocket)
    await websocket.accept()
    try:
        prove = _credential(websocket, ctx, token)
        principal = await prove()
        async with open_live_feed(ctx, principal, kind, recheck=prove, inbox=inbox) as (
            feed,
            snapshot,
        ):
            await websocket.send_text(dumps(snapshot))
            await _stream(websocket, feed)
    except WebSocketDisconnect:
        return
    except OpenCXError as exc:
        await close_socket(websocket, websocket_close_code(exc), exc.detail)
    except Exception as exc:
        log.exception("websocket_failed", path=websocket.url.path, error=type(exc).__name__)
        await close_socket(websocket, websocket_close_code(exc), "internal error")


def take_query_token(websocket: WebSocket) -> str | None:
    """``?token=``, removed from the query string so that the access log never shows it."""
    pairs = parse_qsl(websocket.scope.get("query_string", b"").decode("latin-1"))
    token = next((value for key, value in pairs if key == "token"), None)
    if token is not None:
        kept = [(key, value) for key, value in pairs if key != "token"]
        websocket.scope["query_string"] = urlencode(kept).encode("latin-1")
    return token


def _take_token(websocket: WebSocket) -> str | None:
    """The API token: the ``Authorization`` header, else ``?token=``."""
    token = take_query_token(websocket)
    scheme, _, raw = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and raw.strip():
        return raw.strip()
    return token


def _credential(
    websocket: WebSocket, ctx: AppContext, token: str | None
) -> Callable[[], Awaitable[Principal]]:
    """What proves who the connection is, as often as asked: its token or its session."""
    if token:

        async def by_token() -> Principal:
            return (await authenticate_token(ctx, token)).principal

        return by_token
    key = session_key(websocket.session) if "session" in websocket.scope else None
    if key is None:
        raise Unauthenticated("sign in, or pass an API token as ?token=")
    if not _same_origin(websocket, ctx.settings.server.public_url):
        raise PermissionDenied("this page's origin may not use your session")

    async def by_session() -> Principal:
        return (await authenticate_session(ctx, key)).principal

    return by_session


def _same_origin(websocket: WebSocket, public_url: str | None) -> bool:
    """Browsers send cookies with cross-site WebSocket handshakes; only our pages may
    ride the session. Clients that are not browsers send no Origin."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    allowed = {websocket.headers.get("host", "")}
    if public_url:
        allowed.add(urlsplit(public_url).netloc)
    return urlsplit(origin).netloc in allowed


async def _stream(websocket: WebSocket, feed: LiveFeed) -> None:
    """Send the feed's messages and answer the client's, until either side stops."""
    lock = asyncio.Lock()

    async def send(message: dict[str, Any]) -> None:
        async with lock:
            await websocket.send_text(dumps(message))

    tasks = [
        asyncio.create_task(_forever(feed.next_message, send)),
        asyncio.create_task(_forever(lambda: _answer(websocket), send)),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    for task in done:
        task.result()  # re-raises what stopped it


async def _forever(
    produce: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    while True:
        await send(await produce())


async def _answer(websocket: WebSocket) -> dict[str, Any]:
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    raw = message.get("text") or message.get("bytes") or b""
    try:
        parsed: object = json.loads(raw)
    except ValueError:
        parsed = None
    return answer_client(parsed)


async def close_socket(websocket: WebSocket, code: int, reason: str) -> None:
    """Close with ``code`` and as much of ``reason`` as a close frame holds."""
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.close(
            code=code, reason=reason.encode()[:MAX_REASON].decode(errors="ignore")
        )
