"""Providers' delivery statuses reach the messages we sent, in order, whatever order the
callbacks arrive in; failures keep the provider's reason for the agent."""

from __future__ import annotations

from opencx.channels.base import DeliveryUpdate
from opencx.core.enums import AuthorKind, Channel, DeliveryStatus, Direction, Role
from opencx.core.permissions import Principal
from opencx.features.channels.delivery import apply_delivery
from opencx.features.context import AppContext
from opencx.features.conversations.conversations import ConversationCreate, create_conversation
from opencx.features.conversations.messages import MessageCreate, get_message, post_message
from opencx.features.customers.schemas import CustomerCreate
from opencx.features.customers.service import create_customer
from opencx.features.users.service import UserCreate, create_user_as_system


async def sent_message(ctx: AppContext, provider_id: str) -> tuple[Principal, int]:
    user = await create_user_as_system(
        ctx, UserCreate(email=f"{provider_id}@example.com", role=Role.ADMIN)
    )
    admin = Principal(user_id=user.id, role=Role.ADMIN)
    customer = await create_customer(ctx, admin, CustomerCreate(display_name="Ada"))
    conversation = await create_conversation(
        ctx, admin, ConversationCreate(customer_id=customer.id)
    )
    message, _ = await post_message(
        ctx,
        admin,
        conversation.id,
        MessageCreate(
            body_text="Your parcel left our warehouse today.",
            channel=Channel.SMS,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.AGENT,
            provider_message_id=provider_id,
        ),
    )
    return admin, message.id


def update(provider_id: str, status: DeliveryStatus, **fields: str) -> DeliveryUpdate:
    return DeliveryUpdate(
        provider="twilio", provider_message_id=provider_id, status=status, **fields
    )


async def test_statuses_move_forward_only(ctx: AppContext) -> None:
    admin, message_id = await sent_message(ctx, "SM1")
    assert await apply_delivery(ctx, update("SM1", DeliveryStatus.SENT))
    assert await apply_delivery(ctx, update("SM1", DeliveryStatus.DELIVERED))
    assert not await apply_delivery(ctx, update("SM1", DeliveryStatus.SENT))  # late
    assert not await apply_delivery(ctx, update("SM1", DeliveryStatus.DELIVERED))  # repeated
    assert await apply_delivery(ctx, update("SM1", DeliveryStatus.READ))
    assert (await get_message(ctx, admin, message_id)).delivery_status is DeliveryStatus.READ


async def test_a_failure_keeps_the_providers_reason(ctx: AppContext) -> None:
    admin, message_id = await sent_message(ctx, "SM2")
    failed = update(
        "SM2", DeliveryStatus.FAILED, error_code="30003", error_message="Unreachable handset"
    )
    assert await apply_delivery(ctx, failed)
    message = await get_message(ctx, admin, message_id)
    assert message.delivery_status is DeliveryStatus.FAILED
    assert message.delivery_error == "30003 Unreachable handset"


async def test_updates_for_messages_we_never_sent_are_ignored(ctx: AppContext) -> None:
    assert not await apply_delivery(ctx, update("SM-unknown", DeliveryStatus.DELIVERED))
