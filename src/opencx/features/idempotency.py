"""Idempotency keys on creates: the first response is stored and replayed on retry.

A placeholder row is written before the create runs, so two concurrent requests with
the same key cannot both create: the unique constraint lets only one through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from opencx.core.errors import Conflict, InvalidInput
from opencx.db.models import IdempotencyRecord
from opencx.features.context import AppContext, transaction

__all__ = ["IN_PROGRESS", "Replay", "purge_idempotency_records", "run_idempotent"]

IN_PROGRESS = 0
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Replay:
    status_code: int
    body: Any
    replayed: bool


async def run_idempotent(
    ctx: AppContext,
    *,
    user_id: int,
    key: str,
    method: str,
    path: str,
    body: bytes,
    create: Callable[[], Awaitable[tuple[int, Any]]],
) -> Replay:
    """Run ``create`` once per (user, key); later calls get the stored response."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput("Idempotency-Key must be 1 to 255 characters", field="Idempotency-Key")
    request_hash = hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()
    existing = await _claim(ctx, user_id, key, method, path, request_hash)
    if existing is not None:
        return existing
    try:
        status_code, response = await create()
    except BaseException:
        await _release(ctx, user_id, key)
        raise
    async with transaction(ctx) as session:
        record = await session.scalar(_record(user_id, key))
        if record is not None:
            record.status_code = status_code
            record.response_body = response
    return Replay(status_code=status_code, body=response, replayed=False)


async def _claim(
    ctx: AppContext, user_id: int, key: str, method: str, path: str, request_hash: str
) -> Replay | None:
    try:
        async with transaction(ctx) as session:
            record = await session.scalar(_record(user_id, key))
            if record is None:
                session.add(
                    IdempotencyRecord(
                        user_id=user_id,
                        key=key,
                        method=method,
                        path=path,
                        request_hash=request_hash,
                        status_code=IN_PROGRESS,
                        response_body=None,
                        created_at=ctx.clock.now(),
                    )
                )
                return None
    except IntegrityError:
        raise Conflict("a request with this Idempotency-Key is in progress") from None
    if record.request_hash != request_hash:
        raise Conflict("this Idempotency-Key was used with a different request")
    if record.status_code == IN_PROGRESS:
        raise Conflict("a request with this Idempotency-Key is in progress")
    return Replay(status_code=record.status_code, body=record.response_body, replayed=True)


async def _release(ctx: AppContext, user_id: int, key: str) -> None:
    async with transaction(ctx) as session:
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
            )
        )


def _record(user_id: int, key: str) -> Any:
    return select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
    )


async def purge_idempotency_records(ctx: AppContext, *, older_than: timedelta) -> int:
    """Forget keys older than ``older_than`` (a retry window, 24 h by default)."""
    cutoff = ctx.clock.now() - older_than
    async with transaction(ctx) as session:
        result = await session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)
        )
    return int(getattr(result, "rowcount", 0) or 0)
