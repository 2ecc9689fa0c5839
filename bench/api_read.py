"""One authenticated API read, in process: the app's own cost, without a network.

Builds the app as ``opencx serve`` does (``build_context``, ``create_app``) on a fresh
SQLite file, unless ``--database-url`` names an empty PostgreSQL database, with an admin
and an API token, and 50 customers. Then, one request at a time through
``httpx.ASGITransport`` with ``Authorization: Bearer``:
- get: ``GET /api/v1/customers/{id}``;
- list: ``GET /api/v1/customers?limit=20``.
Prints p50 and p99 of each (after ``--warmup`` requests) and the CPU time per request,
then one JSON line. ``--token-cache-seconds 0`` turns the token cache off.
``--profile`` writes a cProfile of the get requests to ``api_read.prof``.

    python bench/api_read.py [--requests 2000] [--database-url URL] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import uvloop

from opencx.core.enums import Role
from opencx.core.permissions import Principal
from opencx.features.auth.tokens import create_api_token
from opencx.features.customers.schemas import CustomerCreate
from opencx.features.customers.service import create_customer
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.runtime import build_context, upgrade_database
from opencx.settings import DatabaseSettings, SecuritySettings, Settings, SmtpSettings
from opencx.web import create_app


async def timed(
    name: str, total: int, warmup: int, call: Callable[[], Awaitable[None]]
) -> dict[str, float]:
    for _ in range(warmup):
        await call()
    samples = []
    cpu = time.process_time()
    for _ in range(total):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    samples.sort()
    figures = {
        f"{name}_p50_ms": round(statistics.median(samples) * 1000, 3),
        f"{name}_p99_ms": round(samples[int(len(samples) * 0.99) - 1] * 1000, 3),
        # CPU time of this process (client included) per request: steadier than the
        # wall clock on a shared machine
        f"{name}_cpu_ms": round(cpu / total * 1000, 3),
    }
    p50, p99, cpu_ms = (figures[f"{name}_{k}_ms"] for k in ("p50", "p99", "cpu"))
    print(f"{name:<5} p50 {p50:>7.3f} ms  p99 {p99:>7.3f} ms  cpu {cpu_ms:>7.3f} ms")
    return figures


async def main(
    total: int, warmup: int, url: str, profile: bool, cache_seconds: float | None
) -> dict[str, Any]:
    security = SecuritySettings()
    if cache_seconds is not None:
        security = SecuritySettings(token_cache_seconds=cache_seconds)
    settings = Settings(
        env="test",
        database=DatabaseSettings(url=url),
        security=security,
        smtp=SmtpSettings(enabled=False),
        _env_file=None,  # type: ignore[call-arg]
    )
    await asyncio.to_thread(upgrade_database, settings)
    ctx = build_context(settings)
    root = await create_user_as_system(ctx, UserCreate(email="root@example.com", role=Role.ADMIN))
    admin = Principal(user_id=root.id, role=Role.ADMIN)
    ids = [
        (await create_customer(ctx, admin, CustomerCreate(display_name=f"Customer {n}"))).id
        for n in range(50)
    ]
    token = await create_api_token(ctx, email="root@example.com")
    app = create_app(ctx)
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    figures: dict[str, Any] = {"bench": "api_read", "database": url.split(":", 1)[0]}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers=headers
    ) as http:
        counter = iter(range(10**9))

        async def get() -> None:
            customer_id = ids[next(counter) % len(ids)]
            (await http.get(f"/api/v1/customers/{customer_id}")).raise_for_status()

        async def page() -> None:
            (await http.get("/api/v1/customers", params={"limit": 20})).raise_for_status()

        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        figures |= await timed("get", total, warmup, get)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats("api_read.prof")
        figures |= await timed("list", total, warmup, page)
    await ctx.engine.dispose()
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--token-cache-seconds", type=float, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'api_read.db'}"
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(
                main(args.requests, args.warmup, url, args.profile, args.token_cache_seconds)
            )
    print(json.dumps(result))
