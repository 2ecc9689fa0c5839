"""Shapes shared by every service: pages of results and the output model base."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import BigInteger, Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from opencx.core.errors import NotFound
from opencx.core.ids import MAX_ID
from opencx.core.pagination import decode_cursor, encode_cursor

__all__ = [
    "MAX_PAGE",
    "InputSchema",
    "Page",
    "Schema",
    "get_or_404",
    "paginate",
    "reject_nul",
]

T = TypeVar("T")
R = TypeVar("R")
MAX_PAGE = 200


class Schema(BaseModel):
    """Base of API input and output models: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


def reject_nul(value: Any) -> Any:
    """PostgreSQL cannot store NUL characters in text: refuse them as invalid input."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text cannot contain NUL characters")
    if isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key)
            reject_nul(item)
    if isinstance(value, list):
        for item in value:
            reject_nul(item)
    return value


class InputSchema(Schema):
    """Base of request bodies: strict, and free of NUL characters."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return reject_nul(value)


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
    newest_first: bool = False,
) -> Page[T]:
    """Keyset pagination by ascending id (descending when ``newest_first``): stable
    while rows are added."""
    if cursor:
        after = decode_cursor(cursor)
        if not isinstance(id_column.type, BigInteger):
            # Past the largest INTEGER id nothing follows; PostgreSQL would refuse the bind.
            after = min(after, MAX_ID)
        stmt = stmt.where(id_column < after if newest_first else id_column > after)
    order = id_column.desc() if newest_first else id_column
    rows: Sequence[Any] = (await session.scalars(stmt.order_by(order).limit(limit + 1))).all()
    items = [to_out(row) for row in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page[T](items=items, next_cursor=next_cursor)


async def get_or_404(session: AsyncSession, model: type[R], entity_id: int, label: str) -> R:
    row = await session.get(model, entity_id)
    if row is None:
        raise NotFound(f"{label} {entity_id} does not exist")
    return row
