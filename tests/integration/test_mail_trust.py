"""A Reply-To address is recorded as one to confirm and never finds a customer: mail sent
from it is its sender's own, in a conversation of its own."""

from __future__ import annotations

from sqlalchemy import select

from opencx.core.enums import Channel, IdentityKind
from opencx.db.models import AuditEntry, CustomerIdentity, Message
from opencx.features.contacts.intake import receive
from opencx.features.context import AppContext, transaction
from opencx.providers.base import InboundMessage, Sender

ADA = "ada@example.com"
MALLORY = "mallory@evil.example.net"


def email(n: int, sender: str, subject: str, **metadata: object) -> InboundMessage:
    return InboundMessage(
        channel=Channel.EMAIL,
        provider="smtp",
        provider_message_id=f"m{n}@example.com",
        sender=Sender(IdentityKind.EMAIL, sender),
        recipient="support@example.com",
        text=f"Message {n}",
        subject=subject,
        metadata=metadata,
    )


async def identities(ctx: AppContext) -> list[tuple[int, str, bool]]:
    async with transaction(ctx) as session:
        rows = await session.scalars(select(CustomerIdentity).order_by(CustomerIdentity.id))
        return [(row.customer_id, row.value, row.confirmed) for row in rows]


async def test_a_reply_to_waits_for_confirmation_and_mail_from_it_is_its_senders_own(
    ctx: AppContext,
) -> None:
    first = await receive(ctx, email(1, ADA, "Parcel"))
    token = f"[#{first.conversation_id}]"
    forged = await receive(ctx, email(2, ADA, f"Re: Parcel {token}", reply_to=(MALLORY.upper(),)))
    assert forged.conversation_id == first.conversation_id
    assert await identities(ctx) == [
        (first.customer_id, ADA, True),
        (first.customer_id, MALLORY, False),
    ]
    async with transaction(ctx) as session:
        message = await session.get(Message, forged.message_id)
        assert message is not None
        assert message.metadata_["reply_to_unconfirmed"] == MALLORY
        assert message.metadata_["authentication"] == "none"

    # Mallory writes from that address, with Ada's token: a customer and conversation of
    # Mallory's own, and the address no longer waits on Ada's record.
    own = await receive(ctx, email(3, MALLORY, f"Re: Parcel {token}"))
    assert own.customer_id != first.customer_id
    assert own.conversation_id != first.conversation_id
    assert await identities(ctx) == [
        (first.customer_id, ADA, True),
        (own.customer_id, MALLORY, True),
    ]
    async with transaction(ctx) as session:
        released = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "customer.identity_remove",
                AuditEntry.entity_id == first.customer_id,
            )
        )
        assert released is not None
        assert released.changes["value"] == MALLORY

    # Naming the customer's own address, or another customer's, records nothing.
    again = await receive(ctx, email(4, ADA, f"Re: Parcel {token}", reply_to=(ADA, MALLORY)))
    assert len(await identities(ctx)) == 2
    async with transaction(ctx) as session:
        message = await session.get(Message, again.message_id)
        assert message is not None
        assert message.metadata_["reply_to_unconfirmed"] == MALLORY
