"""Providers' delivery statuses reach the messages we sent, in order, whatever order the
callbacks arrive in; failures keep the provider's reason for the agent; Messenger's read
watermarks cover every message sent before them."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from opencx.core.enums import AuthorKind, Channel, DeliveryStatus, Direction, IdentityKind, Role
from opencx.core.events import EventType
from opencx.core.permissions import Principal
from opencx.db.models import Message
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.conversations import ConversationCreate, create_conversation
from opencx.features.conversations.messages import MessageCreate, get_message, post_message
from opencx.features.customers.schemas import CustomerCreate
from opencx.features.customers.service import create_customer
from opencx.features.delivery.statuses import apply_delivery, apply_watermark
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.providers.base import DeliveryUpdate, Sender
from opencx.providers.meta import WatermarkUpdate
from opencx.settings import MetaSettings
from opencx.testing import FakeClock, RecordingPublisher
from opencx.web import create_app


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


# --- Messenger read watermarks ------------------------------------------------------

PAGE = "104612345678901"
PSID = "6789012345678901"
META_SECRET = "meta-test-app-secret-0123456789"


def millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def messenger_webhook(event: dict[str, Any], at: datetime) -> tuple[bytes, dict[str, str]]:
    """A page webhook carrying ``event`` (Meta's documented ``messaging`` shape), signed
    as Meta signs it: hex HMAC-SHA256 of the body under the app secret."""
    body = json.dumps(
        {"object": "page", "entry": [{"id": PAGE, "time": millis(at), "messaging": [event]}]}
    ).encode()
    digest = hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def read_receipt(watermark: datetime, at: datetime) -> tuple[bytes, dict[str, str]]:
    """Messenger's ``message_reads`` event: everything sent up to ``watermark`` was read."""
    event = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": millis(at),
        "read": {"watermark": millis(watermark)},
    }
    return messenger_webhook(event, at)


async def answer(ctx: AppContext, admin: Principal, conversation_id: int, mid: str | None) -> int:
    """An agent's Messenger answer; with a ``mid``, Meta accepted it (``sent``)."""
    message, _ = await post_message(
        ctx,
        admin,
        conversation_id,
        MessageCreate(
            body_text=f"Answer {mid}",
            channel=Channel.MESSENGER,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.AGENT,
            provider_message_id=mid,
        ),
    )
    if mid is not None:
        assert await apply_delivery(ctx, DeliveryUpdate("meta", mid, DeliveryStatus.SENT))
    return message.id


async def messenger_conversation(
    ctx: AppContext, http: httpx.AsyncClient, clock: FakeClock
) -> tuple[Principal, int]:
    """The customer writes to the page first: their PSID now names them."""
    event = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": millis(clock.now()),
        "message": {"mid": "m_customer_1", "text": "Où en est ma commande ?"},
    }
    body, headers = messenger_webhook(event, clock.now())
    assert (await http.post("/webhooks/meta", content=body, headers=headers)).status_code == 200
    async with transaction(ctx) as session:
        inbound = await session.scalar(select(Message))
        assert inbound is not None
        conversation_id = inbound.conversation_id
    user = await create_user_as_system(ctx, UserCreate(email="agent@example.com", role=Role.ADMIN))
    return Principal(user_id=user.id, role=Role.ADMIN), conversation_id


async def statuses(ctx: AppContext, admin: Principal, *ids: int) -> list[DeliveryStatus]:
    return [(await get_message(ctx, admin, i)).delivery_status for i in ids]


async def test_a_read_watermark_marks_earlier_sent_messages_read_and_no_later_ones(
    ctx: AppContext, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    ctx.settings.meta = MetaSettings(app_secret=SecretStr(META_SECRET))
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        admin, conversation_id = await messenger_conversation(ctx, http, clock)
        clock.advance(60)
        early = await answer(ctx, admin, conversation_id, "m_early")
        delivered = await answer(ctx, admin, conversation_id, "m_delivered")
        await apply_delivery(ctx, DeliveryUpdate("meta", "m_delivered", DeliveryStatus.DELIVERED))
        never_sent = await answer(ctx, admin, conversation_id, None)  # still queued
        clock.advance(30)
        watermark = clock.now()
        clock.advance(30)
        late = await answer(ctx, admin, conversation_id, "m_late")
        clock.advance(60)

        published = len(publisher.events)
        body, headers = read_receipt(watermark, clock.now())
        response = await http.post("/webhooks/meta", content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert await statuses(ctx, admin, early, delivered, never_sent, late) == [
            DeliveryStatus.READ,
            DeliveryStatus.READ,
            DeliveryStatus.QUEUED,
            DeliveryStatus.SENT,
        ]
        changes = [
            e for e in publisher.events[published:] if e.type is EventType.MESSAGE_DELIVERY_CHANGED
        ]
        assert sorted(
            (e.entity_id, e.payload["previous"], e.payload["status"]) for e in changes
        ) == [
            (early, "sent", "read"),
            (delivered, "delivered", "read"),
        ]

        published = len(publisher.events)
        again = await http.post("/webhooks/meta", content=body, headers=headers)
        assert again.status_code == 200, again.text
        assert publisher.events[published:] == []
        assert await statuses(ctx, admin, early, delivered, never_sent, late) == [
            DeliveryStatus.READ,
            DeliveryStatus.READ,
            DeliveryStatus.QUEUED,
            DeliveryStatus.SENT,
        ]


async def test_a_watermark_covers_only_that_customer_and_that_page(
    ctx: AppContext, clock: FakeClock
) -> None:
    ctx.settings.meta = MetaSettings(app_secret=SecretStr(META_SECRET))
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        admin, conversation_id = await messenger_conversation(ctx, http, clock)
    ours = await answer(ctx, admin, conversation_id, "m_ours")
    other_page = await answer(ctx, admin, conversation_id, "m_other_page")
    async with transaction(ctx) as session:  # as the sender records where it went
        row = await session.get(Message, other_page)
        assert row is not None
        row.metadata_ = {"psid": PSID, "page_id": "999999999999"}
    # Another customer's SMS, sent before the watermark too.
    other_admin, other_sms = await sent_message(ctx, "SM-other")
    assert await apply_delivery(ctx, update("SM-other", DeliveryStatus.SENT))
    clock.advance(60)

    def receipt(value: str, status: DeliveryStatus = DeliveryStatus.READ) -> WatermarkUpdate:
        return WatermarkUpdate(
            provider="meta",
            provider_message_id="",
            status=status,
            channel=Channel.MESSENGER,
            customer=Sender(IdentityKind.MESSENGER, value),
            recipient=PAGE,
            watermark=clock.now(),
        )

    assert await apply_watermark(ctx, receipt("1111111111111111")) == 0  # unknown PSID
    assert await apply_watermark(ctx, receipt(PSID, DeliveryStatus.DELIVERED)) == 1
    assert await apply_watermark(ctx, receipt(PSID)) == 1
    assert await apply_watermark(ctx, receipt(PSID)) == 0
    assert await statuses(ctx, admin, ours, other_page) == [
        DeliveryStatus.READ,
        DeliveryStatus.SENT,
    ]
    assert await statuses(ctx, other_admin, other_sms) == [DeliveryStatus.SENT]
