"""Liveness, readiness and Prometheus metrics (HTTP, and the intake's counters)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opencx import __version__
from opencx.features.contacts.metrics import intake_metrics
from opencx.web.deps import ContextDep

__all__ = ["install_metrics", "router"]

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", responses={503: {"description": "Database unreachable"}})
async def readyz(ctx: ContextDep) -> JSONResponse:
    """The process can serve: its database answers."""
    try:
        async with ctx.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok"})


def route_template(scope: Mapping[str, Any]) -> str:
    """``/api/v1/sites/{site_id}`` for ``/api/v1/sites/3``: bounded label values.

    A route inside an included router knows only its own part of the path, so the
    prefix is what the request path has before the route's part, filled in."""
    route = scope.get("route")
    path_format = getattr(route, "path_format", None)
    if not isinstance(path_format, str):
        return "unmatched"
    params = {k: str(v) for k, v in scope.get("path_params", {}).items()}
    try:
        concrete = path_format.format(**params)
    except (KeyError, IndexError, ValueError):
        return path_format
    path: str = scope.get("path", "")
    prefix = path[: -len(concrete)] if concrete and path.endswith(concrete) else ""
    return prefix + path_format


def install_metrics(app: FastAPI) -> None:
    """Request counts and latencies at /metrics, labelled by route template, not raw path."""
    registry = CollectorRegistry()
    requests = Counter(
        "opencx_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "opencx_http_request_seconds",
        "HTTP request latency",
        ["method", "route"],
        registry=registry,
    )

    app.add_middleware(_Measure, requests=requests, latency=latency)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(ctx: ContextDep) -> Response:
        body = generate_latest(registry) + generate_latest(intake_metrics(ctx).registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


class _Measure:
    """Counts and times each request by route. A plain ASGI middleware: one made with
    ``@app.middleware("http")`` runs every request through another task and a memory
    stream, which cost more than many a read itself."""

    def __init__(self, app: ASGIApp, *, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            template = route_template(scope)
            method = scope["method"]
            self.latency.labels(method, template).observe(time.perf_counter() - started)
            self.requests.labels(method, template, str(status)).inc()
