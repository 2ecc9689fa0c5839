"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.middleware.sessions import SessionMiddleware

from opencx import __version__
from opencx.db.ratelimits import DatabaseLimitStorage
from opencx.features.auth import LoginRateLimiter
from opencx.features.context import AppContext
from opencx.features.throttle import build_throttle
from opencx.realtime.broker import BrokerBus
from opencx.web import health
from opencx.web.api import api_router
from opencx.web.bodies import BodyGate
from opencx.web.chat import create_chat_app
from opencx.web.errors import install_error_handlers
from opencx.web.media import router as media_router
from opencx.web.pages import STATIC_DIR, pages_router
from opencx.web.webhooks import router as webhook_router
from opencx.web.websockets import router as websocket_router

__all__ = ["API_DOCS_ASSETS", "BackgroundService", "create_app"]

#: Where the API docs page's scripts, styles and icon are served from.
API_DOCS_ASSETS = "/api/v1/docs-assets"

#: A long-running coroutine started with the app and cancelled at shutdown.
BackgroundService = Callable[[], Coroutine[Any, Any, None]]


@functools.cache
def _routes_before_chat() -> APIRouter:
    router = APIRouter()
    router.include_router(health.router)
    router.include_router(webhook_router)
    return router


@functools.cache
def _routes_after_chat() -> APIRouter:
    router = APIRouter()
    router.include_router(media_router)
    router.include_router(websocket_router)
    router.include_router(api_router())
    router.include_router(pages_router())
    return router


def _add_routes(app: FastAPI, built: APIRouter) -> None:
    """Give ``app`` routes built once per process. Including a router makes FastAPI
    analyse every endpoint's parameters again (about 4 ms a route, 0.6 s for the whole
    app); nothing in a route depends on the app or its context, which endpoints read
    from ``request.app.state``, so the same route objects serve every app."""
    app.router.routes.extend(built.routes)


def create_app(ctx: AppContext, *, background: Sequence[BackgroundService] = ()) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A bus between nodes listens before the app serves, so live views miss nothing.
        bus = ctx.publisher if isinstance(ctx.publisher, BrokerBus) else None
        if bus is not None:
            await bus.start()
        tasks = [asyncio.create_task(service()) for service in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if bus is not None:
                await bus.stop()
            await throttle.close()
            await ctx.http.aclose()
            await ctx.engine.dispose()

    # FastAPI's own docs page loads Swagger UI from a CDN, blank without the Internet:
    # these serve the copy bundled in the installed fastapi-offline package instead.
    app = FastAPIOffline(
        title="OpenCX API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        static_url=API_DOCS_ASSETS,
        swagger_ui_oauth2_redirect_url="/api/v1/docs/oauth2-redirect",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    security = ctx.settings.security
    throttle = build_throttle(ctx.settings, database=DatabaseLimitStorage(ctx.engine))
    app.state.throttle = throttle
    app.state.login_limiter = LoginRateLimiter(throttle, ctx.settings)
    # Inside the session (it needs the cookie), outside the routes (before any body).
    app.add_middleware(BodyGate, ctx=ctx)
    app.add_middleware(
        SessionMiddleware,
        secret_key=security.secret_key.get_secret_value(),
        session_cookie="opencx_session",
        max_age=security.session_max_age_seconds,
        same_site="lax",
        https_only=security.cookie_secure,
    )
    install_error_handlers(app)
    health.install_metrics(app)
    # Matching walks the routes in order, and the API's are many (about 0.15 ms to walk
    # past them): the providers' webhooks and the customers' chats come before them.
    _add_routes(app, _routes_before_chat())
    app.mount("/chat", create_chat_app(ctx, throttle))
    _add_routes(app, _routes_after_chat())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
