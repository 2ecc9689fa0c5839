"""Merging two customers found to be one person: explicit, complete and audited.

The source keeps existing (for audit and for clients holding its id) with
``merged_into_id`` pointing at the target; its identities and conversations move to the
target; the target's empty profile fields are filled from the source; customers merged
earlier into the source are re-pointed at the target, so ``merged_into_id`` is always
one hop from a live customer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import Conflict
from opencx.core.events import EventType
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Conversation, Customer, CustomerIdentity, CustomerMerge
from opencx.features.common import Page, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.customers.access import load_customer
from opencx.features.customers.changes import record_customer_change
from opencx.features.customers.schemas import MergeIn, MergeOut
from opencx.features.events.record import record_event
from opencx.features.search import reindex_customers

__all__ = ["list_merges", "merge_customers"]

_PROFILE = (
    "language",
    "country",
    "segment",
    "lifetime_value",
    "subscription_start",
    "subscription_end",
)


async def merge_customers(
    ctx: AppContext, principal: Principal, target_id: int, data: MergeIn
) -> MergeOut:
    require(principal, Permission.CUSTOMERS_MERGE)
    source_id = data.source_customer_id
    if source_id == target_id:
        raise Conflict("a customer cannot be merged into itself", field="source_customer_id")
    async with transaction(ctx) as session:
        target, source = await _lock_pair(session, principal, target_id, source_id)
        moved = await _move(session, source, target)
        moved["profile_fields"] = _fill_profile(target, source)
        await reindex_customers(session, [target.id, source.id])
        now = ctx.clock.now()
        source.merged_into_id = target.id
        source.updated_at = target.updated_at = now
        merge = CustomerMerge(
            source_customer_id=source.id,
            target_customer_id=target.id,
            merged_by_user_id=principal.user_id,
            reason=data.reason,
            moved=moved,
            merged_at=now,
        )
        session.add(merge)
        await session.flush()
        await _record(session, ctx, principal, merge)
        return MergeOut.model_validate(merge)


async def list_merges(
    ctx: AppContext,
    principal: Principal,
    customer_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[MergeOut]:
    """Merges where the customer was the target or the source, oldest first."""
    require(principal, Permission.CUSTOMERS_READ)
    stmt = select(CustomerMerge).where(
        or_(
            CustomerMerge.target_customer_id == customer_id,
            CustomerMerge.source_customer_id == customer_id,
        )
    )
    async with transaction(ctx) as session:
        await load_customer(session, principal, customer_id)
        return await paginate(
            session,
            stmt,
            id_column=CustomerMerge.id,
            cursor=cursor,
            limit=limit,
            to_out=MergeOut.model_validate,
        )


async def _lock_pair(
    session: AsyncSession, principal: Principal, target_id: int, source_id: int
) -> tuple[Customer, Customer]:
    """Both rows locked in id order (no deadlock between opposite merges)."""
    loaded: dict[int, Customer] = {}
    for customer_id in sorted((target_id, source_id)):
        field = "source_customer_id" if customer_id == source_id else None
        loaded[customer_id] = await load_customer(
            session, principal, customer_id, for_update=True, field=field
        )
    target, source = loaded[target_id], loaded[source_id]
    for customer in (target, source):
        if customer.merged_into_id is not None:
            raise Conflict(
                f"customer {customer.id} was already merged into customer "
                f"{customer.merged_into_id}",
                merged_into_id=customer.merged_into_id,
            )
    return target, source


async def _move(session: AsyncSession, source: Customer, target: Customer) -> dict[str, Any]:
    identity_ids = list(
        await session.scalars(
            select(CustomerIdentity.id).where(CustomerIdentity.customer_id == source.id)
        )
    )
    conversation_ids = list(
        await session.scalars(select(Conversation.id).where(Conversation.customer_id == source.id))
    )
    repointed = list(
        await session.scalars(select(Customer.id).where(Customer.merged_into_id == source.id))
    )
    await session.execute(
        update(CustomerIdentity)
        .where(CustomerIdentity.customer_id == source.id)
        .values(customer_id=target.id)
    )
    await session.execute(
        update(Conversation)
        .where(Conversation.customer_id == source.id)
        .values(customer_id=target.id)
    )
    await session.execute(
        update(Customer)
        .where(Customer.merged_into_id == source.id)
        .values(merged_into_id=target.id)
    )
    return {
        "identity_ids": sorted(identity_ids),
        "conversation_ids": sorted(conversation_ids),
        "repointed_customer_ids": sorted(repointed),
    }


def _fill_profile(target: Customer, source: Customer) -> list[str]:
    filled: list[str] = []
    if not target.display_name and source.display_name:
        target.display_name = source.display_name
        filled.append("display_name")
    for name in _PROFILE:
        if getattr(target, name) is None and getattr(source, name) is not None:
            setattr(target, name, getattr(source, name))
            filled.append(name)
    missing = {k: v for k, v in source.attributes.items() if k not in target.attributes}
    if missing:
        target.attributes = {**target.attributes, **missing}
        filled.extend(f"attributes.{key}" for key in sorted(missing))
    return filled


async def _record(
    session: AsyncSession, ctx: AppContext, principal: Principal, merge: CustomerMerge
) -> None:
    moved = merge.moved
    await record_customer_change(
        session,
        ctx,
        EventType.CUSTOMER_MERGED,
        actor_user_id=principal.user_id,
        customer_id=merge.target_customer_id,
        action="customer.merge",
        changes={
            "merge_id": merge.id,
            "source_customer_id": merge.source_customer_id,
            "reason": merge.reason,
            **moved,
        },
        payload={
            "merge_id": merge.id,
            "source_customer_id": merge.source_customer_id,
            "identity_ids": moved["identity_ids"],
            "conversation_ids": moved["conversation_ids"],
        },
    )
    rows = await session.execute(
        select(Conversation.id, Conversation.site_id).where(
            Conversation.id.in_(moved["conversation_ids"])
        )
    )
    sites = {row[0]: row[1] for row in rows}
    for conversation_id in moved["conversation_ids"]:
        await record_event(
            session,
            ctx,
            EventType.CONVERSATION_UPDATED,
            entity_kind="conversation",
            entity_id=conversation_id,
            payload={
                "conversation_id": conversation_id,
                "fields": ["customer_id"],
                "customer_id": merge.target_customer_id,
            },
            actor_user_id=principal.user_id,
            site_id=sites.get(conversation_id),
        )
