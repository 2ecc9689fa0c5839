"""Identities: the addresses (email, phone, Messenger PSID…) that resolve to a customer.

A ``(kind, value)`` pair belongs to at most one customer; values are stored normalised
(see ``opencx.core.identities``; phone numbers by the one rule of
``opencx.providers.phones``: E.164 where they parse, as given otherwise).
An identity is ``confirmed`` unless it was only named by a message (a Reply-To address,
``insert_unconfirmed_email``); answers go to confirmed addresses only, and an agent
confirms one with ``confirm_identity`` (audited). An unconfirmed address never finds a
customer: the first message sent from it takes it back (``find_senders``), and
its sender becomes a customer of their own, as any new sender does.

A pair already taken is a 409. It names its owner (``customer_id``) only to a caller
who sees every customer: a partner-site user gets the same answer whether the owner is
a customer they see or one hidden from them, so the answer reveals no customer, id or
site (that the address is in use cannot be hidden while one customer owns it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import bindparam, delete, select
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
from opencx.features.search import add_customer_texts, identity_texts, reindex_customers
from opencx.providers.phones import normalise_phone, normalise_whatsapp_id

__all__ = [
    "add_identity",
    "confirm_identity",
    "confirmed_emails",
    "conflict_after_race",
    "ensure_not_merged",
    "find_identity",
    "find_senders",
    "identity_conflict",
    "insert_identities",
    "insert_unconfirmed_email",
    "normalise_identity",
    "normalise_phone",
    "remove_identity",
]


def normalise_identity(kind: IdentityKind, value: str, *, region: str | None = None) -> str:
    """The stored form of ``value`` for ``kind``, by its kind's one rule (a phone number
    read in ``region`` when it is national); ``InvalidInput`` when it is malformed."""
    if kind is IdentityKind.PHONE:
        return normalise_phone(value, region=region)
    return _RULES.get(kind, normalise_handle)(value)


#: The rule of each kind whose values are not opaque handles; phone numbers by the one
#: rule of ``opencx.providers.phones``, wherever they come from.
_RULES: Mapping[IdentityKind, Callable[[str], str]] = {
    IdentityKind.EMAIL: normalise_email,
    IdentityKind.PHONE: normalise_phone,
    IdentityKind.WHATSAPP: normalise_whatsapp_id,
}


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
    await add_customer_texts(
        session,
        [(customer.id, text) for kind, value in identities for text in identity_texts(kind, value)],
    )
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


async def insert_unconfirmed_email(
    session: AsyncSession, ctx: AppContext, *, customer_id: int, value: str
) -> CustomerIdentity:
    """Record ``value`` (normalised, nobody's yet) as an address of ``customer_id`` that a
    message named and nobody has confirmed."""
    row = CustomerIdentity(
        customer_id=customer_id,
        kind=IdentityKind.EMAIL,
        value=value,
        confirmed=False,
        created_at=ctx.clock.now(),
    )
    session.add(row)
    await session.flush()
    await add_customer_texts(session, [(customer_id, value)])
    await record_customer_change(
        session,
        ctx,
        EventType.IDENTITY_ADDED,
        actor_user_id=None,
        customer_id=customer_id,
        action="customer.identity_add",
        changes={"identity_id": row.id, "kind": "email", "value": value, "confirmed": False},
        payload={"identity_id": row.id, "kind": "email", "confirmed": False},
    )
    return row


async def find_senders(
    session: AsyncSession, ctx: AppContext, identities: Sequence[tuple[IdentityKind, str]]
) -> dict[tuple[IdentityKind, str], int]:
    """The customer of each of normalised ``identities`` that has one, by ``(kind,
    value)``, in one query. An unconfirmed one among them is taken back from its customer
    first (audited): a message from such an address is its sender's, not theirs."""
    wanted = set(identities)
    if not wanted:
        return {}
    rows = await session.execute(
        _SENDERS,
        {
            "kinds": sorted({kind for kind, _ in wanted}),
            "values": sorted({value for _, value in wanted}),
        },
    )
    found: dict[tuple[IdentityKind, str], int] = {}
    released = []
    for row in rows:
        if (row.kind, row.value) not in wanted:
            continue
        if row.confirmed:
            found[row.kind, row.value] = row.customer_id
        else:
            released.append(row)
    for row in released:
        await record_customer_change(
            session,
            ctx,
            EventType.CUSTOMER_UPDATED,
            actor_user_id=None,
            customer_id=row.customer_id,
            action="customer.identity_remove",
            changes={
                "identity_id": row.id,
                "kind": row.kind.value,
                "value": row.value,
                "reason": "unconfirmed; wrote from it",
            },
            payload={"fields": ["identities"], "identity_removed": row.id},
        )
    if released:
        await session.execute(
            delete(CustomerIdentity).where(CustomerIdentity.id.in_([row.id for row in released]))
        )
        await reindex_customers(session, [row.customer_id for row in released])
    return found


#: Identities of any of ``kinds`` with any of ``values``: a superset of the pairs asked
#: for, which the caller narrows. Built once: its construction costs more than its
#: execution.
_SENDERS = select(
    CustomerIdentity.id,
    CustomerIdentity.kind,
    CustomerIdentity.value,
    CustomerIdentity.customer_id,
    CustomerIdentity.confirmed,
).where(
    CustomerIdentity.kind.in_(bindparam("kinds", expanding=True)),
    CustomerIdentity.value.in_(bindparam("values", expanding=True)),
)


async def confirmed_emails(session: AsyncSession, customer_id: int) -> list[str]:
    """The customer's confirmed e-mail addresses, oldest first."""
    rows = await session.scalars(
        select(CustomerIdentity.value)
        .where(
            CustomerIdentity.customer_id == customer_id,
            CustomerIdentity.kind == IdentityKind.EMAIL,
            CustomerIdentity.confirmed.is_(True),
        )
        .order_by(CustomerIdentity.id)
    )
    return list(rows)


async def confirm_identity(
    ctx: AppContext, principal: Principal, customer_id: int, identity_id: int
) -> IdentityOut:
    """Make an address a message named one that answers may go to."""
    require(principal, Permission.CUSTOMERS_WRITE)
    async with transaction(ctx) as session:
        customer = await load_customer(session, principal, customer_id, for_update=True)
        ensure_not_merged(customer)
        row = await session.get(CustomerIdentity, identity_id)
        if row is None or row.customer_id != customer.id:
            raise NotFound(f"identity {identity_id} of customer {customer_id} does not exist")
        if not row.confirmed:
            row.confirmed = True
            customer.updated_at = ctx.clock.now()
            await record_customer_change(
                session,
                ctx,
                EventType.CUSTOMER_UPDATED,
                actor_user_id=principal.user_id,
                customer_id=customer.id,
                action="customer.identity_confirm",
                changes={"identity_id": row.id, "kind": row.kind.value, "value": row.value},
                payload={"fields": ["identities"], "identity_confirmed": row.id},
            )
        await session.flush()
        return IdentityOut.model_validate(row)


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
        await reindex_customers(session, [customer.id])
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
