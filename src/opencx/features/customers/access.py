"""Which customers a principal may see, and loading them under that rule.

Rules:
- users who see every site (``visible_site_ids is None``) see every customer;
- a partner-site user sees a customer only when the customer has at least one
  conversation on a site they see; a merged customer is seen through the customer it
  was merged into (its conversations moved there);
- a customer with no conversation at all belongs to no site yet: partner users may
  *claim* it (open its first conversation, find it by resolution) but not list it;
- a hidden customer reads as one that does not exist (404).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import InvalidInput, NotFound
from opencx.core.permissions import Principal
from opencx.db.models import Conversation, Customer

__all__ = ["customer_visibility", "load_customer", "sees_customer"]


def customer_visibility(principal: Principal) -> ColumnElement[bool] | None:
    """A WHERE clause over ``Customer`` for this principal; ``None`` when all are visible."""
    visible = principal.visible_site_ids
    if visible is None:
        return None
    owner = func.coalesce(Customer.merged_into_id, Customer.id)
    return exists().where(Conversation.customer_id == owner, Conversation.site_id.in_(visible))


async def sees_customer(
    session: AsyncSession, principal: Principal, customer: Customer, *, claimable: bool = False
) -> bool:
    visible = principal.visible_site_ids
    if visible is None:
        return True
    owner = customer.merged_into_id or customer.id
    sites = set(
        await session.scalars(
            select(Conversation.site_id).where(Conversation.customer_id == owner).distinct()
        )
    )
    if claimable and not sites:
        return True
    return any(site in visible for site in sites)


async def load_customer(
    session: AsyncSession,
    principal: Principal,
    customer_id: int,
    *,
    for_update: bool = False,
    claimable: bool = False,
    field: str | None = None,
) -> Customer:
    """The customer, or ``NotFound`` (``InvalidInput`` naming ``field`` for a reference
    given in a request body) when it does not exist or is hidden from ``principal``."""
    customer = await session.get(Customer, customer_id, with_for_update=for_update or None)
    if customer is None or not await sees_customer(
        session, principal, customer, claimable=claimable
    ):
        detail = f"customer {customer_id} does not exist"
        if field is not None:
            raise InvalidInput(detail, field=field)
        raise NotFound(detail)
    return customer
