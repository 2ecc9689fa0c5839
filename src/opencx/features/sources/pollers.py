"""What every poller shares (IMAP mailboxes, reviews, X mentions): finding the active
accounts it reads, polling a bounded number at once, and writing its cursor.

Rules:
- accounts are polled in id order, at most ``concurrency`` at once; one failing never
  stops the others (each poller turns its failures into results);
- the cursor column is the poller's alone, written by its own short UPDATE of that
  column, with ``updated_at`` untouched: it tells of admins' changes only, and a poll
  and an admin's change of the account never overwrite each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypeVar

from sqlalchemy import select, update

from opencx.db.models import ChannelAccount
from opencx.features.context import AppContext, transaction

__all__ = ["active_account_ids", "poll_each", "save_cursor"]

R = TypeVar("R")


async def active_account_ids(ctx: AppContext, providers: Collection[str]) -> list[int]:
    async with transaction(ctx) as session:
        return list(
            await session.scalars(
                select(ChannelAccount.id)
                .where(
                    ChannelAccount.provider.in_(sorted(providers)),
                    ChannelAccount.is_active.is_(True),
                )
                .order_by(ChannelAccount.id)
            )
        )


async def poll_each(
    ids: list[int], poll: Callable[[int], Awaitable[R]], *, concurrency: int
) -> list[R]:
    """``poll`` every account, ``concurrency`` at once; the results in ``ids`` order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(account_id: int) -> R:
        async with gate:
            return await poll(account_id)

    return list(await asyncio.gather(*(one(account_id) for account_id in ids)))


async def save_cursor(ctx: AppContext, account_id: int, cursor: dict[str, Any]) -> None:
    async with transaction(ctx) as session:
        await session.execute(
            update(ChannelAccount)
            .where(ChannelAccount.id == account_id)
            .values(cursor=cursor, updated_at=ChannelAccount.updated_at)
        )
