"""Named catalogues: directory entries that are only a name and a description (teams,
skills). One implementation of list, get, create, update and delete for all of them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from opencx.core.errors import Conflict
from opencx.core.permissions import Permission, Principal, require
from opencx.features.common import Page, get_or_404, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.directory._changes import (
    name_prefix,
    record_change,
    refuse_if_used,
    reject_nulls,
)

__all__ = ["Catalogue"]


class NamedRow(Protocol):
    id: int
    name: str


M = TypeVar("M", bound=NamedRow)
O = TypeVar("O", bound=BaseModel)  # noqa: E741 - reads as "output"


@dataclass(frozen=True)
class Catalogue(Generic[M, O]):
    """``uses(id)`` names what refers to an entry: deleting one in use is a 409."""

    model: type[M]
    kind: str
    out: type[O]
    uses: Callable[[int], Mapping[str, ColumnElement[bool]]]

    async def list(
        self,
        ctx: AppContext,
        principal: Principal,
        *,
        cursor: str | None = None,
        limit: int = 50,
        q: str | None = None,
    ) -> Page[O]:
        require(principal, Permission.DIRECTORY_READ)
        stmt = select(self.model)
        if q:
            stmt = stmt.where(name_prefix(getattr(self.model, "name"), q))  # noqa: B009
        async with transaction(ctx) as session:
            return await paginate(
                session,
                stmt,
                id_column=cast(InstrumentedAttribute[int], self.model.id),
                cursor=cursor,
                limit=limit,
                to_out=self.out.model_validate,
            )

    async def get(self, ctx: AppContext, principal: Principal, entry_id: int) -> O:
        require(principal, Permission.DIRECTORY_READ)
        async with transaction(ctx) as session:
            row = await get_or_404(session, self.model, entry_id, self.kind)
            return self.out.model_validate(row)

    async def create(self, ctx: AppContext, principal: Principal, data: BaseModel) -> O:
        require(principal, Permission.DIRECTORY_WRITE)
        fields = data.model_dump()
        try:
            async with transaction(ctx) as session:
                row = self.model(**fields)
                session.add(row)
                await session.flush()
                await self._record(session, ctx, principal, row.id, "create", fields)
                return self.out.model_validate(row)
        except IntegrityError:
            raise Conflict(
                f"a {self.kind} named {fields['name']!r} already exists", field="name"
            ) from None

    async def update(
        self, ctx: AppContext, principal: Principal, entry_id: int, data: BaseModel
    ) -> O:
        require(principal, Permission.DIRECTORY_WRITE)
        changes = data.model_dump(exclude_unset=True)
        reject_nulls(changes)
        try:
            async with transaction(ctx) as session:
                row = await get_or_404(session, self.model, entry_id, self.kind)
                for name, value in changes.items():
                    setattr(row, name, value)
                await session.flush()
                await self._record(session, ctx, principal, row.id, "update", changes)
                return self.out.model_validate(row)
        except IntegrityError:
            raise Conflict(f"a {self.kind} with this name already exists", field="name") from None

    async def delete(self, ctx: AppContext, principal: Principal, entry_id: int) -> None:
        """Delete an entry nothing refers to (409 otherwise)."""
        require(principal, Permission.DIRECTORY_WRITE)
        try:
            async with transaction(ctx) as session:
                row = await get_or_404(session, self.model, entry_id, self.kind)
                await refuse_if_used(session, f"{self.kind} {entry_id}", self.uses(entry_id))
                await session.delete(row)
                await session.flush()
                await self._record(session, ctx, principal, entry_id, "delete", {"name": row.name})
        except IntegrityError:  # something started using it meanwhile
            raise Conflict(f"{self.kind} {entry_id} is still in use") from None

    async def _record(
        self,
        session: AsyncSession,
        ctx: AppContext,
        principal: Principal,
        entry_id: int,
        action: str,
        changes: Mapping[str, Any],
    ) -> None:
        await record_change(
            session,
            ctx,
            principal,
            kind=self.kind,
            entity_id=entry_id,
            action=action,
            changes=changes,
        )
