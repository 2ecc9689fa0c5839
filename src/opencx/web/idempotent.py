"""Idempotency-Key support for API creates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from opencx.core.permissions import Principal
from opencx.features.context import AppContext
from opencx.features.idempotency import run_idempotent

__all__ = ["IDEMPOTENCY_HEADER", "created"]

IDEMPOTENCY_HEADER = "Idempotency-Key"


async def created(
    request: Request,
    ctx: AppContext,
    principal: Principal,
    create: Callable[[], Awaitable[BaseModel]],
) -> JSONResponse:
    """201 with the created resource; with an Idempotency-Key, a retry replays the first
    response (marked ``Idempotent-Replayed: true``) instead of creating again."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return JSONResponse(jsonable_encoder(await create()), status_code=201)

    async def run() -> tuple[int, Any]:
        return 201, jsonable_encoder(await create())

    result = await run_idempotent(
        ctx,
        user_id=principal.user_id,
        key=key,
        method=request.method,
        path=request.url.path,
        body=await request.body(),
        create=run,
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return JSONResponse(result.body, status_code=result.status_code, headers=headers)
