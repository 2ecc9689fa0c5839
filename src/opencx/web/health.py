"""Liveness, readiness and Prometheus metrics (HTTP, and the intake's counters)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import text

from opencx import __version__
from opencx.features.channels.intake_metrics import intake_metrics
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

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        template = route_template(request.scope)
        latency.labels(request.method, template).observe(time.perf_counter() - started)
        requests.labels(request.method, template, str(response.status_code)).inc()
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics(ctx: ContextDep) -> Response:
        body = generate_latest(registry) + generate_latest(intake_metrics(ctx).registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
