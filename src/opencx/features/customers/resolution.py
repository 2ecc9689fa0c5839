"""Resolving an identity to its customer, creating the customer the first time.

Channels call ``resolve_customer`` for every inbound contact, often concurrently for
the same new sender (a burst of Messenger messages). The unique ``(kind, value)`` index
settles the race: the loser's transaction fails, rolls back its customer too, and the
loser re-reads the winner's. Exactly one customer exists afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import IdentityKind
from opencx.core.errors import Conflict, NotFound
from opencx.core.events import EventType
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Customer, CustomerIdentity
from opencx.features.context import AppContext, transaction
from opencx.features.customers.access import sees_customer
from opencx.features.customers.changes import record_customer_change
from opencx.features.customers.identities import find_identity, normalise_identity
from opencx.features.customers.schemas import CustomerDetail, ResolveIn
from opencx.features.customers.service import customer_detail
from opencx.features.events.record import insert_ids
from opencx.features.search import add_customer_texts, customer_texts

__all__ = [
    "FoundCustomer",
    "NewIdentity",
    "create_customers",
    "resolve_customer",
    "resolve_customer_for",
]


async def resolve_customer(
    ctx: AppContext,
    *,
    kind: IdentityKind,
    value: str,
    region: str | None = None,
    display_name: str | None = None,
    actor_user_id: int | None = None,
) -> tuple[CustomerDetail, bool]:
    """``(customer, created)`` for the identity, with the system's authority (channels)."""
    normalised = normalise_identity(kind, value, region=region)
    return await _resolve(ctx, kind, normalised, display_name, actor_user_id, None)


async def resolve_customer_for(
    ctx: AppContext, principal: Principal, data: ResolveIn
) -> tuple[CustomerDetail, bool]:
    """The API's resolution: a partner-site user gets a customer they may see or claim
    (one with no conversation yet); another site's customer reads as not found."""
    require(principal, Permission.CUSTOMERS_WRITE)
    normalised = normalise_identity(data.kind, data.value, region=data.region)
    return await _resolve(
        ctx, data.kind, normalised, data.display_name, principal.user_id, principal
    )


async def _resolve(
    ctx: AppContext,
    kind: IdentityKind,
    value: str,
    display_name: str | None,
    actor_user_id: int | None,
    principal: Principal | None,
) -> tuple[CustomerDetail, bool]:
    found = await _find(ctx, kind, value, principal)
    if found is not None:
        return found, False
    try:
        created = await _create(ctx, kind, value, display_name, actor_user_id)
    except (IntegrityError, Conflict):
        # A concurrent resolution committed the identity first: either our insert hit
        # the unique index, or the identity check saw it (it is only ever taken).
        created = None
    if created is not None:
        return created, True
    found = await _find(ctx, kind, value, principal)
    if found is None:
        raise Conflict("the identity changed concurrently; retry")
    return found, False


async def _find(
    ctx: AppContext, kind: IdentityKind, value: str, principal: Principal | None
) -> CustomerDetail | None:
    async with transaction(ctx) as session:
        identity = await find_identity(session, kind, value)
        if identity is None:
            return None
        customer = await session.get(Customer, identity.customer_id)
        assert customer is not None  # foreign key
        if principal is not None and not await sees_customer(
            session, principal, customer, claimable=True
        ):
            raise NotFound(f"no customer you can see has the identity {kind.value}:{value}")
        return await customer_detail(session, customer)


async def _create(
    ctx: AppContext,
    kind: IdentityKind,
    value: str,
    display_name: str | None,
    actor_user_id: int | None,
) -> CustomerDetail | None:
    """The new customer, or ``None`` when a concurrent resolution created it first."""
    async with transaction(ctx) as session:
        if await find_identity(session, kind, value) is not None:
            return None
        (customer_id,) = await create_customers(
            session, ctx, [NewIdentity(kind, value, display_name)], actor_user_id=actor_user_id
        )
        customer = await session.get(Customer, customer_id)
        assert customer is not None
        return await customer_detail(session, customer)


@dataclass(frozen=True, slots=True)
class FoundCustomer:
    customer_id: int
    #: Created by this call: the customer has no conversation, interaction or agent yet.
    created: bool


@dataclass(frozen=True, slots=True)
class NewIdentity:
    kind: IdentityKind
    #: Normalised.
    value: str
    display_name: str | None = None
    #: The new customer's attributes (``{"simulated": true}``: the demo's simulation).
    attributes: Mapping[str, Any] = field(default_factory=dict)


async def create_customers(
    session: AsyncSession,
    ctx: AppContext,
    identities: Sequence[NewIdentity],
    *,
    actor_user_id: int | None = None,
) -> list[int]:
    """A new customer for each of ``identities``, distinct, which the caller has just
    found free in this transaction (the unique index settles a concurrent insert), so
    they are not looked up again: the events and audit entries are those of creating a
    customer and of ``insert_identities``. One statement for the customers and one for
    their identities (a channel's batch of first contacts); the ids, in order."""
    now = ctx.clock.now()
    customer_ids = await insert_ids(
        session,
        Customer,
        [
            {
                "display_name": identity.display_name or "",
                "attributes": dict(identity.attributes),
                "created_at": now,
                "updated_at": now,
            }
            for identity in identities
        ],
    )
    for identity, customer_id in zip(identities, customer_ids, strict=True):
        await record_customer_change(
            session,
            ctx,
            EventType.CUSTOMER_CREATED,
            actor_user_id=actor_user_id,
            customer_id=customer_id,
            action="customer.resolve",
            changes={
                "display_name": identity.display_name or "",
                "kind": identity.kind.value,
                "value": identity.value,
            },
            payload={"identity_kinds": [identity.kind.value], "resolved": True},
        )
    await add_customer_texts(
        session,
        [
            (customer_id, text)
            for identity, customer_id in zip(identities, customer_ids, strict=True)
            for text in customer_texts(identity.display_name, [(identity.kind, identity.value)])
        ],
    )
    identity_ids = await insert_ids(
        session,
        CustomerIdentity,
        [
            {
                "customer_id": customer_id,
                "kind": identity.kind,
                "value": identity.value,
                "created_at": now,
            }
            for identity, customer_id in zip(identities, customer_ids, strict=True)
        ],
    )
    for identity, customer_id, identity_id in zip(
        identities, customer_ids, identity_ids, strict=True
    ):
        await record_customer_change(
            session,
            ctx,
            EventType.IDENTITY_ADDED,
            actor_user_id=actor_user_id,
            customer_id=customer_id,
            action="customer.identity_add",
            changes={
                "identity_id": identity_id,
                "kind": identity.kind.value,
                "value": identity.value,
            },
            payload={"identity_id": identity_id, "kind": identity.kind.value},
        )
    return customer_ids
