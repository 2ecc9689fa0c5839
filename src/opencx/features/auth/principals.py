"""Turning a user row into the ``Principal`` the permission rules reason about."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.permissions import Principal
from opencx.db.models import Site, SiteGrant, User

__all__ = ["load_principal"]


async def load_principal(session: AsyncSession, user: User) -> Principal:
    site_kind = None
    if user.site_id is not None:
        site = await session.get(Site, user.site_id)
        site_kind = site.kind if site is not None else None
    grants = await session.scalars(select(SiteGrant.site_id).where(SiteGrant.user_id == user.id))
    return Principal(
        user_id=user.id,
        role=user.role,
        site_id=user.site_id,
        site_kind=site_kind,
        granted_site_ids=frozenset(grants),
    )
