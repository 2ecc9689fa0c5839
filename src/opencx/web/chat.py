"""The web chat's public side under ``/chat``: the widget script, its configuration, the
pre-chat form, files, and the visitor's WebSocket (protocol in docs/chat.md).

Visitors are not users: they hold a chat token (``X-Chat-Token`` header, or ``?token=``
on the WebSocket), never a session cookie, so these endpoints are served to any origin
(CORS without credentials) and each widget checks the page's origin itself. Errors are
problem+json, as on the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import time
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, File, Form, Header, Query, Request, UploadFile, WebSocket
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.websockets import WebSocketDisconnect

from opencx.core.enums import DeliveryStatus
from opencx.core.errors import InvalidInput, OpenCXError, RateLimited
from opencx.core.events import DomainEvent, EventType
from opencx.core.live_routes import chat_visitor_interests
from opencx.features.chat import feed, visitors
from opencx.features.chat.limits import ChatLimits
from opencx.features.chat.transcripts import send_transcript
from opencx.features.chat.verification import send_code, verify_email
from opencx.features.chat.visitors import ChatStart, ChatStarted, VisitorChat
from opencx.features.chat.widgets import WidgetConfigOut, load_widget, widget_config
from opencx.features.context import AppContext, transaction
from opencx.features.throttle import Throttle
from opencx.i18n import get_translations, negotiate_locale
from opencx.realtime.bus import EventSource
from opencx.realtime.codec import dumps
from opencx.web.api.messages import content_disposition
from opencx.web.deps import ContextDep
from opencx.web.errors import install_error_handlers, websocket_close_code
from opencx.web.websockets import close_socket, take_query_token

__all__ = ["create_chat_app"]

log = structlog.get_logger(__name__)

WIDGET_JS = Path(__file__).resolve().parent / "static" / "chat" / "widget.js"
#: While waiting, the queue position is refreshed at least this often (seconds).
STATUS_EVERY = 5.0
#: Routing events refresh the position at most this often (seconds).
STATUS_AT_MOST = 1.0
_ROUTING = frozenset(
    {
        EventType.TASK_CREATED,
        EventType.TASK_UPDATED,
        EventType.TASK_ENDED,
        EventType.RESERVATION_CREATED,
        EventType.RESERVATION_UPDATED,
        EventType.INTERACTION_STATE_CHANGED,
    }
)


def create_chat_app(ctx: AppContext, throttle: Throttle) -> FastAPI:
    """The ``/chat`` application, mounted by the main one."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    app.state.chat_limits = ChatLimits(throttle, ctx.settings)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "X-Chat-Token"],
        expose_headers=["Retry-After"],
        max_age=600,
    )
    install_error_handlers(app)
    app.add_api_route("/widget.js", widget_script, methods=["GET"])
    app.add_api_route("/try/{key}", try_page, methods=["GET"], response_class=HTMLResponse)
    app.add_api_route("/widgets/{key}", read_widget, methods=["GET"])
    app.add_api_route("/widgets/{key}/chats", start_chat, methods=["POST"], status_code=201)
    app.add_api_route("/messages", post_message, methods=["POST"], status_code=201)
    app.add_api_route("/files", post_file, methods=["POST"], status_code=201)
    app.add_api_route("/files/{attachment_id}", read_file, methods=["GET"])
    app.add_api_route("/history", read_history, methods=["GET"])
    app.add_api_route("/transcript", post_transcript, methods=["POST"], status_code=202)
    app.add_api_route("/verification", post_verification, methods=["POST"], status_code=202)
    app.add_api_route("/verification/code", post_code, methods=["POST"])
    app.add_api_websocket_route("/ws", chat_socket)
    return app


def _chat_limits(request: Request) -> ChatLimits:
    limits: ChatLimits = request.app.state.chat_limits
    return limits


LimitsDep = Annotated[ChatLimits, Depends(_chat_limits)]


def _visitor(request: Request | WebSocket) -> str:
    """The visitor's address (behind a proxy, the one it reports, see docs/security.md)."""
    return request.client.host if request.client else "unknown"


async def widget_script() -> FileResponse:
    return FileResponse(
        WIDGET_JS,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


async def try_page(key: str, request: Request, ctx: ContextDep, lang: str | None = None) -> str:
    """A sample page with the widget on it, to try a widget before embedding it."""
    config = await widget_config(ctx, key, origin=None, language=lang)
    language = negotiate_locale(request.headers.get("accept-language"), chosen=lang)
    return TRY_PAGE.format(
        lang=language,
        title=html.escape(config.title),
        src=html.escape(str(request.url_for("widget_script"))),
        key=html.escape(config.key),
        hint=html.escape(_try_hint(language)),
    )


TRY_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}
pre{{overflow-x:auto;background:#eef1f5;padding:.5rem;border-radius:4px}}</style></head>
<body><h1>{title}</h1><p>{hint}</p>
<pre><code>&lt;script src="{src}" data-widget="{key}" async&gt;&lt;/script&gt;</code></pre>
<script src="{src}" data-widget="{key}" async></script>
</body></html>
"""


def _try_hint(locale: str) -> str:
    _ = get_translations(locale).gettext
    return _(
        "The chat button at the bottom right is this widget, as your visitors will see it. "
        "Put the tag below on your pages to embed it."
    )


async def read_widget(
    key: str, request: Request, ctx: ContextDep, lang: str | None = None
) -> WidgetConfigOut:
    return await widget_config(ctx, key, origin=request.headers.get("origin"), language=lang)


async def start_chat(
    key: str, form: ChatStart, request: Request, ctx: ContextDep, limits: LimitsDep
) -> ChatStarted:
    await limits.starting(visitor=_visitor(request), email=form.email)
    started = await visitors.start_chat(ctx, key, form, origin=request.headers.get("origin"))
    if started.token and form.email:
        # The code goes out at once; a widget without a mailbox, or an address that
        # got too many e-mails today, leaves the chat unverified (it can ask again).
        with contextlib.suppress(OpenCXError):
            chat = visitors.open_chat(ctx, started.token)
            await limits.emailing(form.email)
            await send_code(ctx, chat, language=form.locale)
    return started


async def post_message(
    body: dict[str, Any],
    request: Request,
    ctx: ContextDep,
    limits: LimitsDep,
    x_chat_token: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Write in the chat without a WebSocket (the widget's fallback)."""
    chat = visitors.open_chat(ctx, x_chat_token)
    await limits.writing(chat, visitor=_visitor(request))
    text, client_id = body.get("text"), body.get("client_id")
    if not isinstance(text, str) or not isinstance(client_id, str):
        raise InvalidInput("send 'text' and 'client_id' as strings", field="text")
    received = await visitors.post_visitor_message(ctx, chat, text=text, client_id=client_id)
    return {"message_id": received.message_id, "client_id": client_id}


async def post_file(
    request: Request,
    ctx: ContextDep,
    limits: LimitsDep,
    file: Annotated[UploadFile, File()],
    client_id: Annotated[str, Form()],
    x_chat_token: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    chat = visitors.open_chat(ctx, x_chat_token)
    await limits.sending_file(chat, visitor=_visitor(request))
    data = await file.read(visitors.MAX_UPLOAD_BYTES + 1)
    received = await visitors.post_visitor_file(
        ctx,
        chat,
        filename=file.filename or "file",
        content_type=file.content_type or "application/octet-stream",
        data=data,
        client_id=client_id,
    )
    return {"message_id": received.message_id, "client_id": client_id}


async def read_file(
    attachment_id: int,
    ctx: ContextDep,
    x_chat_token: Annotated[str | None, Header()] = None,
) -> Response:
    chat = visitors.open_chat(ctx, x_chat_token)
    content = await visitors.read_visitor_file(ctx, chat, attachment_id)
    return Response(
        content=content.data,
        media_type=content.content_type,
        headers={
            "Content-Disposition": content_disposition(content.filename),
            "X-Content-Type-Options": "nosniff",
        },
    )


async def read_history(
    ctx: ContextDep,
    after: Annotated[int, Query(ge=0)] = 0,
    x_chat_token: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    chat = visitors.open_chat(ctx, x_chat_token)
    messages, status = await feed.read_news(ctx, chat, after=after, status=True)
    return {"messages": messages, "status": status}


async def post_transcript(
    body: dict[str, Any],
    ctx: ContextDep,
    limits: LimitsDep,
    x_chat_token: Annotated[str | None, Header()] = None,
) -> dict[str, str]:
    """E-mail the chat's transcript to the visitor (``lang``, ``timezone`` optional)."""
    chat = visitors.open_chat(ctx, x_chat_token)
    if chat.email:
        await limits.emailing(chat.email)
    lang, zone = body.get("lang"), body.get("timezone")
    email = await send_transcript(
        ctx,
        chat,
        language=lang if isinstance(lang, str) else None,
        timezone=zone if isinstance(zone, str) else None,
    )
    return {"email": email}


async def post_verification(
    body: dict[str, Any],
    ctx: ContextDep,
    limits: LimitsDep,
    x_chat_token: Annotated[str | None, Header()] = None,
) -> dict[str, str]:
    """E-mail the code proving the chat's address again (``lang`` optional)."""
    chat = visitors.open_chat(ctx, x_chat_token)
    if chat.email:
        await limits.emailing(chat.email)
    lang = body.get("lang")
    return {"email": await send_code(ctx, chat, language=lang if isinstance(lang, str) else None)}


async def post_code(
    body: dict[str, Any],
    ctx: ContextDep,
    limits: LimitsDep,
    x_chat_token: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """The code from the e-mail: a verified chat, and its new token."""
    chat = visitors.open_chat(ctx, x_chat_token)
    code = body.get("code")
    if not isinstance(code, str):
        raise InvalidInput("send the 'code' from the e-mail as a string", field="code")
    await limits.verifying(chat)
    verified = await verify_email(ctx, chat, code)
    return {"token": visitors.chat_token(ctx, verified), "email_verified": True}


# --- the visitor's WebSocket ---------------------------------------------------------------


async def chat_socket(websocket: WebSocket) -> None:
    """Snapshot (messages after ``?after=``, status), then messages, status and typing
    as they happen; the visitor sends messages, typing and receipts."""
    ctx: AppContext = websocket.app.state.ctx
    token = take_query_token(websocket)
    await websocket.accept()
    try:
        chat = visitors.open_chat(ctx, token)
        await _check_origin(ctx, chat, websocket.headers.get("origin"))
        after = int(websocket.query_params.get("after") or 0)
        limits: ChatLimits = websocket.app.state.chat_limits
        await _Session(ctx, websocket, chat, after=after, limits=limits).run()
    except WebSocketDisconnect:
        return
    except (OpenCXError, ValueError) as exc:
        code = websocket_close_code(exc) if isinstance(exc, OpenCXError) else 4422
        await close_socket(websocket, code, str(getattr(exc, "detail", exc)))
    except Exception as exc:
        log.exception("chat_socket_failed", error=type(exc).__name__)
        await close_socket(websocket, websocket_close_code(exc), "internal error")


async def _check_origin(ctx: AppContext, chat: VisitorChat, origin: str | None) -> None:
    async with transaction(ctx) as session:
        await load_widget(session, chat.widget_key, origin=origin)


class _Session:
    """One visitor connection: sends what is new, handles what the visitor sends."""

    def __init__(
        self,
        ctx: AppContext,
        websocket: WebSocket,
        chat: VisitorChat,
        *,
        after: int,
        limits: ChatLimits,
    ):
        self.ctx = ctx
        self.websocket = websocket
        self.chat = chat
        self.last_id = after
        self.status: dict[str, Any] | None = None
        self.status_read_at = 0.0
        self.typing_sent_at = 0.0
        self.lock = asyncio.Lock()
        self.limits = limits
        self.visitor = _visitor(websocket)
        source = ctx.publisher
        self.source: EventSource | None = source if isinstance(source, EventSource) else None

    async def run(self) -> None:
        queue = self._subscribe()
        try:
            await self._send_news(force_status=True, kind="snapshot")
            tasks = [asyncio.create_task(self._listen_visitor())]
            tasks.append(asyncio.create_task(self._listen_bus(queue)))
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            for task in done:
                task.result()
        finally:
            if queue is not None and self.source is not None:
                self.source.unsubscribe(queue)

    def _subscribe(self) -> asyncio.Queue[DomainEvent | None] | None:
        if self.source is None:
            return None
        queue = self.source.subscribe()
        self.source.listen_on(queue, chat_visitor_interests(self.chat.conversation_id))
        return queue

    async def _send(self, message: dict[str, Any]) -> None:
        async with self.lock:
            await self.websocket.send_text(dumps(message))

    async def _send_news(self, *, force_status: bool = False, kind: str = "update") -> None:
        due = force_status or time.monotonic() - self.status_read_at >= STATUS_AT_MOST
        messages, status = await feed.read_news(self.ctx, self.chat, after=self.last_id, status=due)
        if messages:
            self.last_id = messages[-1]["id"]
        if status is None:
            status = self.status
        else:
            self.status_read_at = time.monotonic()
        if kind == "snapshot" or messages or status != self.status:
            self.status = status
            await self._send({"type": kind, "messages": messages, "status": status})

    async def _send_status(self) -> None:
        if time.monotonic() - self.status_read_at < STATUS_AT_MOST:
            return
        status = await feed.read_status(self.ctx, self.chat)
        self.status_read_at = time.monotonic()
        if status != self.status:
            self.status = status
            await self._send({"type": "update", "messages": [], "status": status})

    async def _listen_bus(self, queue: asyncio.Queue[DomainEvent | None] | None) -> None:
        while True:
            try:
                if queue is None:
                    raise TimeoutError
                # not wait_for, which on 3.11 may swallow a cancellation
                async with asyncio.timeout(STATUS_EVERY):
                    first = await queue.get()
            except TimeoutError:
                await self._send_news(force_status=True)
                continue
            # A message or a routing step publishes several events at once: one read
            # answers them all.
            events = [first]
            while not queue.empty():
                events.append(queue.get_nowait())
            if None in events:  # the bus dropped us: read everything again
                assert self.source is not None
                self.source.unsubscribe(queue)
                queue = self._subscribe()
                await self._send_news(force_status=True)
                continue
            await self._consider([event for event in events if event is not None])

    async def _consider(self, events: list[DomainEvent]) -> None:
        news = routing = False
        for event in events:
            mine = event.payload.get("conversation_id") == self.chat.conversation_id
            if event.type is EventType.CHAT_TYPING:
                if mine and event.payload.get("who") == "agent":
                    await self._send({"type": "typing", "name": event.payload.get("name", "")})
            elif mine:
                news = True
            elif event.type in _ROUTING:
                routing = True
        if news:
            await self._send_news()
        elif routing and self._waiting():
            # Routing moved elsewhere: only our place in the queue can have changed, and
            # it is read at most once a second, however many visitors wait.
            await self._send_status()

    def _waiting(self) -> bool:
        return self.status is not None and self.status.get("state") != "connected"

    async def _listen_visitor(self) -> None:
        while True:
            raw = await self.websocket.receive()
            if raw["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(raw.get("code", 1000))
            try:
                message = json.loads(raw.get("text") or raw.get("bytes") or b"")
            except ValueError:
                message = None
            await self._handle(message)

    async def _handle(self, message: object) -> None:
        if not isinstance(message, dict):
            await self._send({"type": "error", "detail": "send JSON objects"})
            return
        kind = message.get("type")
        try:
            if kind == "message":
                await self._visitor_message(message)
            elif kind == "typing":
                await self._visitor_typing()
            elif kind in {"delivered", "read"}:
                up_to = message.get("message_id")
                if isinstance(up_to, int):
                    await visitors.mark_messages(
                        self.ctx, self.chat, up_to=up_to, status=DeliveryStatus(kind)
                    )
            elif kind == "ping":
                await self._send({"type": "pong"})
            else:
                await self._send({"type": "error", "detail": f"unknown message type {kind!r}"})
        except InvalidInput as exc:
            await self._send(
                {"type": "error", "detail": exc.detail, "client_id": message.get("client_id")}
            )
        except RateLimited as exc:
            await self._send(
                {
                    "type": "error",
                    "code": exc.code,
                    "detail": exc.detail,
                    "retry_after": exc.retry_after,
                    "client_id": message.get("client_id"),
                }
            )

    async def _visitor_message(self, message: dict[str, Any]) -> None:
        text, client_id = message.get("text"), message.get("client_id")
        if not isinstance(text, str) or not isinstance(client_id, str):
            raise InvalidInput("send 'text' and 'client_id' as strings", field="text")
        await self.limits.writing(self.chat, visitor=self.visitor)
        received = await visitors.post_visitor_message(
            self.ctx, self.chat, text=text, client_id=client_id
        )
        await self._send({"type": "ack", "client_id": client_id, "message_id": received.message_id})
        await self._send_news()

    async def _visitor_typing(self) -> None:
        now = time.monotonic()
        if now - self.typing_sent_at < visitors.TYPING_EVERY:
            return
        self.typing_sent_at = now
        await visitors.publish_typing(
            self.ctx, self.chat.conversation_id, who="customer", name=self.chat.name
        )
