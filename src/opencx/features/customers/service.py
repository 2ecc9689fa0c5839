"""Customers: list, read, create and update profiles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import IdentityKind
from opencx.core.errors import Conflict, InvalidInput
from opencx.core.events import EventType
from opencx.core.identities import split_identity_ref
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Customer, CustomerIdentity
from opencx.features.common import Page, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.customers.access import customer_visibility, load_customer
from opencx.features.customers.changes import record_customer_change
from opencx.features.customers.identities import (
    conflict_after_race,
    ensure_not_merged,
    insert_identities,
    normalise_identity,
)
from opencx.features.customers.schemas import (
    MAX_ATTRIBUTES,
    CustomerCreate,
    CustomerDetail,
    CustomerOut,
    CustomerUpdate,
    IdentityOut,
)
from opencx.features.search import add_customer_texts, reindex_customers

__all__ = [
    "create_customer",
    "customer_detail",
    "get_customer",
    "list_customers",
    "update_customer",
]

_NOT_NULL = frozenset({"display_name", "attributes"})


async def list_customers(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    q: str | None = None,
    identity: str | None = None,
    region: str | None = None,
    segment: str | None = None,
    country: str | None = None,
) -> Page[CustomerOut]:
    """Customers not merged away, oldest first; ``identity`` reads ``kind:value``."""
    require(principal, Permission.CUSTOMERS_READ)
    stmt = _filtered(principal, q=q, segment=segment, country=country)
    if identity is not None:
        kind, raw = split_identity_ref(identity)
        stmt = stmt.where(_owns_identity(kind, normalise_identity(kind, raw, region=region)))
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=Customer.id,
            cursor=cursor,
            limit=limit,
            to_out=CustomerOut.model_validate,
        )


async def get_customer(ctx: AppContext, principal: Principal, customer_id: int) -> CustomerDetail:
    """A merged customer is returned too, with ``merged_into_id`` to follow."""
    require(principal, Permission.CUSTOMERS_READ)
    async with transaction(ctx) as session:
        customer = await load_customer(session, principal, customer_id)
        return await customer_detail(session, customer)


async def create_customer(
    ctx: AppContext, principal: Principal, data: CustomerCreate
) -> CustomerDetail:
    require(principal, Permission.CUSTOMERS_WRITE)
    pairs = [
        (i.kind, normalise_identity(i.kind, i.value, region=i.region)) for i in data.identities
    ]
    try:
        async with transaction(ctx) as session:
            now = ctx.clock.now()
            fields = data.model_dump(exclude={"identities"})
            customer = Customer(**fields, created_at=now, updated_at=now)
            session.add(customer)
            await session.flush()
            await add_customer_texts(session, [(customer.id, customer.display_name)])
            await record_customer_change(
                session,
                ctx,
                EventType.CUSTOMER_CREATED,
                actor_user_id=principal.user_id,
                customer_id=customer.id,
                action="customer.create",
                changes=data.model_dump(mode="json", exclude={"identities"}),
                payload={"identity_kinds": [kind.value for kind, _ in pairs]},
            )
            await insert_identities(
                session, ctx, customer, pairs, actor_user_id=principal.user_id, viewer=principal
            )
            return await customer_detail(session, customer)
    except IntegrityError:
        raise await _race_conflict(ctx, principal, pairs) from None


async def update_customer(
    ctx: AppContext, principal: Principal, customer_id: int, data: CustomerUpdate
) -> CustomerDetail:
    require(principal, Permission.CUSTOMERS_WRITE)
    changes = data.model_dump(exclude_unset=True)
    nulled = sorted(name for name in _NOT_NULL if name in changes and changes[name] is None)
    if nulled:
        raise InvalidInput(f"{nulled[0]} cannot be set to null", field=nulled[0])
    async with transaction(ctx) as session:
        customer = await load_customer(session, principal, customer_id, for_update=True)
        ensure_not_merged(customer)
        if "attributes" in changes:
            changes["attributes"] = _merge_attributes(customer.attributes, changes["attributes"])
        for name, value in changes.items():
            setattr(customer, name, value)
        _check_subscription(customer)
        customer.updated_at = ctx.clock.now()
        await session.flush()
        if "display_name" in changes:
            await reindex_customers(session, [customer.id])
        await record_customer_change(
            session,
            ctx,
            EventType.CUSTOMER_UPDATED,
            actor_user_id=principal.user_id,
            customer_id=customer.id,
            action="customer.update",
            changes=data.model_dump(mode="json", exclude_unset=True),
            payload={"fields": sorted(changes)},
        )
        return await customer_detail(session, customer)


async def customer_detail(session: AsyncSession, customer: Customer) -> CustomerDetail:
    identities = await session.scalars(
        select(CustomerIdentity)
        .where(CustomerIdentity.customer_id == customer.id)
        .order_by(CustomerIdentity.id)
    )
    detail = CustomerDetail.model_validate(customer)
    detail.identities = [IdentityOut.model_validate(row) for row in identities]
    return detail


async def _race_conflict(
    ctx: AppContext, principal: Principal, pairs: list[tuple[IdentityKind, str]]
) -> Conflict:
    for kind, value in pairs:
        error = await conflict_after_race(ctx, kind, value, viewer=principal)
        if error is not None:
            return error
    return Conflict("the customer's identities changed concurrently; retry")


def _filtered(
    principal: Principal, *, q: str | None, segment: str | None, country: str | None
) -> Select[Any]:
    stmt = select(Customer).where(Customer.merged_into_id.is_(None))
    visibility = customer_visibility(principal)
    if visibility is not None:
        stmt = stmt.where(visibility)
    if q:
        stmt = stmt.where(Customer.display_name.icontains(q, autoescape=True))
    if segment is not None:
        stmt = stmt.where(Customer.segment == segment)
    if country is not None:
        stmt = stmt.where(Customer.country == country.upper())
    return stmt


def _owns_identity(kind: IdentityKind, value: str) -> Any:
    return Customer.id.in_(
        select(CustomerIdentity.customer_id).where(
            CustomerIdentity.kind == kind, CustomerIdentity.value == value
        )
    )


def _merge_attributes(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = {**current, **patch}
    merged = {key: value for key, value in merged.items() if value is not None}
    if len(merged) > MAX_ATTRIBUTES:
        raise InvalidInput(
            f"a customer holds at most {MAX_ATTRIBUTES} attributes", field="attributes"
        )
    return merged


def _check_subscription(customer: Customer) -> None:
    start, end = customer.subscription_start, customer.subscription_end
    if start is not None and end is not None and end < start:
        raise InvalidInput(
            "subscription_end is before subscription_start", field="subscription_end"
        )
