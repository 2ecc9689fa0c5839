"""Identities: the addresses (email, phone, Messenger PSID…) that resolve to a customer.

A ``(kind, value)`` pair belongs to at most one customer; values are stored normalised
(see ``opencx.core.identities``; phone numbers in E.164 here, through ``phonenumbers``).

A pair already taken is a 409. It names its owner (``customer_id``) only to a caller
who sees every customer: a partner-site user gets the same answer whether the owner is
a customer they see or one hidden from them, so the answer reveals no customer, id or
site (that the address is in use cannot be hidden while one customer owns it).
"""

from __future__ import annotations

from collections.abc import Sequence

import phonenumbers
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import IdentityKind
from opencx.core.errors import Conflict, InvalidInput, NotFound
from opencx.core.events import EventType
from opencx.core.identities import normalise_email, normalise_handle
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Customer, CustomerIdentity
from opencx.features.context import AppContext, transaction
from opencx.features.customers.access import load_customer
from opencx.features.customers.changes import record_customer_change
from opencx.features.customers.schemas import IdentityIn, IdentityOut

__all__ = [
    "add_identity",
    "conflict_after_race",
    "ensure_not_merged",
    "find_identity",
    "identity_conflict",
    "insert_identities",
    "normalise_identity",
    "normalise_phone",
    "remove_identity",
]


def normalise_phone(raw: str, *, region: str | None = None) -> str:
    """E.164 (``+33612345678``); a national form needs ``region`` (ISO country code)."""
    text = normalise_handle(raw)
    region_code = region.upper() if region else None
    if region_code is not None and region_code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"unknown phone region {region!r}", field="region")
    if region_code is None and not text.startswith("+"):
        raise InvalidInput(
            f"{text!r} needs a leading + and country code, or a region", field="value"
        )
    try:
        number = phonenumbers.parse(text, region_code)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{text!r} is not a phone number", field="value") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"{text!r} is not a valid phone number", field="value")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalise_identity(kind: IdentityKind, value: str, *, region: str | None = None) -> str:
    """The stored form of ``value`` for ``kind``; ``InvalidInput`` when it is malformed."""
    if kind is IdentityKind.EMAIL:
        return normalise_email(value)
    if kind is IdentityKind.PHONE:
        return normalise_phone(value, region=region)
    return normalise_handle(value)


async def find_identity(
    session: AsyncSession, kind: IdentityKind, value: str
) -> CustomerIdentity | None:
    """The identity row for an already normalised ``(kind, value)``."""
    return await session.scalar(
        select(CustomerIdentity).where(
            CustomerIdentity.kind == kind, CustomerIdentity.value == value
        )
    )


def identity_conflict(
    kind: IdentityKind, value: str, owner_id: int, *, viewer: Principal | None
) -> Conflict:
    """The 409 for a taken pair, as ``viewer`` may read it (``None``: the system)."""
    if viewer is not None and viewer.visible_site_ids is not None:
        return Conflict(
            f"identity {kind.value}:{value} is already in use by another customer",
            field="value",
        )
    return Conflict(
        f"identity {kind.value}:{value} already belongs to customer {owner_id}",
        field="value",
        customer_id=owner_id,
    )


async def insert_identities(
    session: AsyncSession,
    ctx: AppContext,
    customer: Customer,
    identities: Sequence[tuple[IdentityKind, str]],
    *,
    actor_user_id: int | None,
    viewer: Principal | None = None,
) -> list[CustomerIdentity]:
    """Attach normalised identities to ``customer`` and record one event each.

    Raises ``Conflict`` when one is taken (``identity_conflict``, as ``viewer`` may read
    it); a concurrent insert of the same pair surfaces as ``IntegrityError`` from the
    flush, for the caller to re-read.
    """
    if len(set(identities)) != len(identities):
        raise InvalidInput("the same identity is given twice", field="identities")
    for kind, value in identities:
        taken = await find_identity(session, kind, value)
        if taken is not None:
            raise identity_conflict(kind, value, taken.customer_id, viewer=viewer)
    rows = [
        CustomerIdentity(
            customer_id=customer.id, kind=kind, value=value, created_at=ctx.clock.now()
        )
        for kind, value in identities
    ]
    session.add_all(rows)
    await session.flush()
    for row in rows:
        await record_customer_change(
            session,
            ctx,
            EventType.IDENTITY_ADDED,
            actor_user_id=actor_user_id,
            customer_id=customer.id,
            action="customer.identity_add",
            changes={"identity_id": row.id, "kind": row.kind.value, "value": row.value},
            payload={"identity_id": row.id, "kind": row.kind.value},
        )
    return rows


async def add_identity(
    ctx: AppContext, principal: Principal, customer_id: int, data: IdentityIn
) -> IdentityOut:
    require(principal, Permission.CUSTOMERS_WRITE)
    value = normalise_identity(data.kind, data.value, region=data.region)
    try:
        async with transaction(ctx) as session:
            customer = await load_customer(session, principal, customer_id, for_update=True)
            ensure_not_merged(customer)
            [row] = await insert_identities(
                session,
                ctx,
                customer,
                [(data.kind, value)],
                actor_user_id=principal.user_id,
                viewer=principal,
            )
            customer.updated_at = ctx.clock.now()
            return IdentityOut.model_validate(row)
    except IntegrityError:
        taken = await conflict_after_race(ctx, data.kind, value, viewer=principal)
        raise taken or Conflict("the identity changed concurrently; retry") from None


async def remove_identity(
    ctx: AppContext, principal: Principal, customer_id: int, identity_id: int
) -> None:
    require(principal, Permission.CUSTOMERS_WRITE)
    async with transaction(ctx) as session:
        customer = await load_customer(session, principal, customer_id, for_update=True)
        row = await session.get(CustomerIdentity, identity_id)
        if row is None or row.customer_id != customer.id:
            raise NotFound(f"identity {identity_id} of customer {customer_id} does not exist")
        await session.delete(row)
        customer.updated_at = ctx.clock.now()
        await record_customer_change(
            session,
            ctx,
            EventType.CUSTOMER_UPDATED,
            actor_user_id=principal.user_id,
            customer_id=customer.id,
            action="customer.identity_remove",
            changes={"identity_id": identity_id, "kind": row.kind.value, "value": row.value},
            payload={"fields": ["identities"], "identity_removed": identity_id},
        )


def ensure_not_merged(customer: Customer) -> None:
    if customer.merged_into_id is not None:
        raise Conflict(
            f"customer {customer.id} was merged into customer {customer.merged_into_id}",
            merged_into_id=customer.merged_into_id,
        )


async def conflict_after_race(
    ctx: AppContext, kind: IdentityKind, value: str, *, viewer: Principal | None
) -> Conflict | None:
    """The 409 for a pair found taken after a concurrent insert; ``None`` if it is free."""
    async with transaction(ctx) as session:
        taken = await find_identity(session, kind, value)
    if taken is None:
        return None
    return identity_conflict(kind, value, taken.customer_id, viewer=viewer)
