"""API throughput and latency of one `opencx serve` process on SQLite, over the network.

Starts a real server on a fresh database, creates an admin token, then measures:
- creating customers (POST /api/v1/customers, each with an e-mail identity),
- reading a customer (GET /api/v1/customers/{id}),
- listing customers a page at a time (GET /api/v1/customers?limit=50),
with a few concurrent clients. Prints a table, then one JSON line of the figures.

    python bench/api.py [--requests 2000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def opencx(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "opencx", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout


async def measure(
    name: str, total: int, concurrency: int, call: Callable[[int], Awaitable[None]]
) -> dict[str, float]:
    latencies: list[float] = []
    counter = iter(range(total))

    async def client() -> None:
        for n in counter:
            started = time.perf_counter()
            await call(n)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    figures = {
        f"{name}_per_s": round(total / elapsed, 1),
        f"{name}_p50_ms": round(statistics.median(latencies) * 1000, 2),
        f"{name}_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    }
    print(
        f"{name:<16} {figures[f'{name}_per_s']:>9.1f}/s  p50 {figures[f'{name}_p50_ms']:>7.2f} ms"
        f"  p99 {figures[f'{name}_p99_ms']:>7.2f} ms"
    )
    return figures


async def run(url: str, token: str, total: int, concurrency: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as http:
        ids: list[int] = []

        async def create(n: int) -> None:
            body = {
                "display_name": f"Customer {n}",
                "identities": [{"kind": "email", "value": f"c{n}@example.com"}],
            }
            response = await http.post("/api/v1/customers", json=body)
            response.raise_for_status()
            ids.append(response.json()["id"])

        async def read(n: int) -> None:
            (await http.get(f"/api/v1/customers/{ids[n % len(ids)]}")).raise_for_status()

        async def page(_n: int) -> None:
            (await http.get("/api/v1/customers", params={"limit": 50})).raise_for_status()

        figures: dict[str, float] = {}
        figures |= await measure("create_customer", total, concurrency, create)
        figures |= await measure("get_customer", total, concurrency, read)
        figures |= await measure("list_customers", total // 4, concurrency, page)
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCX_")}
        env |= {"OPENCX_ENV": "test", "OPENCX_DATABASE__URL": f"sqlite:///{cwd}/bench.db"}
        opencx(["db", "upgrade"], env, cwd)  # the other commands use an existing database
        opencx(
            [
                "user",
                "create",
                "--email",
                "bench@example.com",
                "--role",
                "admin",
                "--password",
                "bench-password",
            ],
            env,
            cwd,
        )
        token = opencx(["token", "create", "--user", "bench@example.com"], env, cwd).split()[-1]
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "opencx", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.1)
            figures = asyncio.run(run(url, token, args.requests, args.concurrency))
        finally:
            server.terminate()
            server.wait(10)
    print(
        json.dumps(
            {"bench": "api", "database": "sqlite", "concurrency": args.concurrency, **figures}
        )
    )


if __name__ == "__main__":
    main()
