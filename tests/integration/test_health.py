"""Liveness, readiness and metrics, as a load balancer and Prometheus see them."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import httpx

from opencx.runtime import build_context
from opencx.settings import DatabaseSettings, Settings
from opencx.web import create_app
from tests.conftest import Caller


async def test_health_and_readiness_answer_json(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.json() == {"status": "ok", "database": "ok"}


async def test_readiness_fails_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(
        env="test",
        database=DatabaseSettings(url=f"sqlite:///{tmp_path}/missing/dir/opencx.db"),
        _env_file=None,  # type: ignore[call-arg]
    )
    ctx = build_context(settings)
    transport = httpx.ASGITransport(app=create_app(ctx))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            assert (await http.get("/healthz")).status_code == 200
            response = await http.get("/readyz")
    finally:
        await ctx.engine.dispose()
        await _aiosqlite_threads_done()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def _aiosqlite_threads_done() -> None:
    """aiosqlite answers from its own threads: one still finishing the failed connection
    after this test's event loop is closed would fail the next test."""
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name:
            await asyncio.to_thread(thread.join, 5.0)


async def test_metrics_count_requests_by_route_template(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    await client.get("/api/v1/sites/12345", headers=admin.headers)
    text = (await client.get("/metrics")).text
    assert 'route="/api/v1/sites/{site_id}"' in text
    assert 'status="404"' in text
    assert "/api/v1/sites/12345" not in text
