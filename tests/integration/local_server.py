"""A provider double (a Starlette app, or a transport such as ``opencx.testing.FakeHttp``)
served over real HTTP on a free local port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

STARTUP_SECONDS = 10.0
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


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


@asynccontextmanager
async def serving_transport(transport: httpx.AsyncBaseTransport) -> AsyncIterator[str]:
    """What ``transport`` answers, served over a real socket; its base URL. The same
    double then answers a test through the context's port or over the network."""

    async def forward(request: Request) -> Response:
        outgoing = httpx.Request(
            request.method,
            str(request.url),
            headers=request.headers.raw,
            content=await request.body(),
        )
        answer = await transport.handle_async_request(outgoing)
        body = await answer.aread()
        return Response(
            body, status_code=answer.status_code, media_type=answer.headers.get("content-type")
        )

    app = Starlette(routes=[Route("/{path:path}", forward, methods=_METHODS)])
    async with serving(app) as url:
        yield url
