"""/api/v1/colleagues: the agents and supervisors a user may transfer to or mention."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from opencx.core.enums import Role
from opencx.features.users import colleagues
from opencx.web.deps import ContextDep, PrincipalDep

__all__ = ["router"]

router = APIRouter(prefix="/colleagues", tags=["users"])


@router.get("", response_model=list[colleagues.ColleagueOut])
async def list_colleagues(
    ctx: ContextDep,
    principal: PrincipalDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    role: Role | None = None,
    available: bool = False,
    limit: Annotated[int, Query(ge=1, le=colleagues.MAX_COLLEAGUES)] = 20,
) -> list[colleagues.ColleagueOut]:
    """Active agents and supervisors of the sites the caller sees (not the caller), by
    name: a name, a role and a presence, nothing more."""
    return await colleagues.list_colleagues(
        ctx, principal, q=q, role=role, available=available, limit=limit
    )
