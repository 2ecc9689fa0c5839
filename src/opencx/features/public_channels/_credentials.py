"""Where a channel account's sealed credential is read again and replaced, for a
source that renews it (an X refresh token rotates at each refresh).

The replacement is a compare-and-set, ``UPDATE … SET secret = :new WHERE id = :id AND
secret = :old``: it changes nothing when another worker, or an admin, replaced the
credential since it was read; the caller then reads it again and uses that one.
``updated_at`` is left as it was: it tells of admins' changes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select, update

from opencx.db.models import ChannelAccount
from opencx.features.context import AppContext, transaction

__all__ = ["AccountSecrets", "CredentialStore"]


class CredentialStore(Protocol):
    """The accounts' sealed credentials, as stored."""

    async def current(self, account_id: int) -> str | None:
        """The sealed credential as stored now (``None``: there is none)."""

    async def swap(self, account_id: int, *, old: str, new: str) -> bool:
        """Store ``new`` if the stored credential is still ``old``; whether it was."""


@dataclass(frozen=True, slots=True)
class AccountSecrets:
    """The ``channel_accounts.secret`` column, each read or swap its own transaction."""

    ctx: AppContext

    async def current(self, account_id: int) -> str | None:
        async with transaction(self.ctx) as session:
            return await session.scalar(
                select(ChannelAccount.secret).where(ChannelAccount.id == account_id)
            )

    async def swap(self, account_id: int, *, old: str, new: str) -> bool:
        async with transaction(self.ctx) as session:
            result = await session.execute(
                update(ChannelAccount)
                .where(ChannelAccount.id == account_id, ChannelAccount.secret == old)
                .values(secret=new, updated_at=ChannelAccount.updated_at)
                .execution_options(synchronize_session=False)
            )
        return _rowcount(result) == 1


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
