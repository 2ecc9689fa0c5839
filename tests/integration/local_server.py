"""A provider double (a Starlette app) served over real HTTP on a free local port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette

STARTUP_SECONDS = 10.0


@asynccontextmanager
async def serving(app: Starlette, *, ws: bool = False) -> AsyncIterator[str]:
    """``app`` listening for the duration of the block; its base URL. ``ws`` serves
    WebSockets too."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        lifespan="off",
        ws="websockets-sansio" if ws else "none",
        http="h11",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
    while not server.started:  # poll, with a deadline, until the server listens
        if task.done() or asyncio.get_running_loop().time() > deadline:
            raise RuntimeError("the provider doubles did not start")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()
