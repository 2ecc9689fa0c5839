"""Shapes shared by every service: pages of results and the output model base."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from opencx.core.errors import NotFound
from opencx.core.pagination import decode_cursor, encode_cursor

__all__ = ["MAX_PAGE", "Page", "Schema", "get_or_404", "paginate"]

T = TypeVar("T")
R = TypeVar("R")
MAX_PAGE = 200


class Schema(BaseModel):
    """Base of API input and output models: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[T]
    next_cursor: str | None = None


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    id_column: InstrumentedAttribute[int],
    cursor: str | None,
    limit: int,
    to_out: Callable[[R], T],
) -> Page[T]:
    """Keyset pagination by ascending id: stable while rows are added."""
    if cursor:
        stmt = stmt.where(id_column > decode_cursor(cursor))
    rows: Sequence[Any] = (await session.scalars(stmt.order_by(id_column).limit(limit + 1))).all()
    items = [to_out(row) for row in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page[T](items=items, next_cursor=next_cursor)


async def get_or_404(session: AsyncSession, model: type[R], entity_id: int, label: str) -> R:
    row = await session.get(model, entity_id)
    if row is None:
        raise NotFound(f"{label} {entity_id} does not exist")
    return row
