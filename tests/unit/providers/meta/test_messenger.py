"""Messenger and Instagram webhooks, read field by field from the recorded payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from opencx.core.enums import Channel, DeliveryStatus, IdentityKind
from opencx.providers.base import (
    DeliveryUpdate,
    InboundAttachment,
    InboundKind,
    InboundMessage,
    Sender,
    UnreadablePayload,
)
from opencx.providers.meta import WatermarkUpdate, parse_webhook

from .recorded import body

PAGE_ID = "104612345678901"
CUSTOMER = Sender(IdentityKind.MESSENGER, "6789012345678901")
SENT_AT = datetime(2025, 11, 4, 13, 59, 59, 870000, tzinfo=UTC)
OUR_MESSAGE = "m_OuR0wNm3sSaGe1Xy2Za3Bc4De5Fg6Hi7Jk8Lm9No"


def one_message(name: str) -> InboundMessage:
    items = parse_webhook(body(name))
    assert len(items) == 1
    assert isinstance(items[0], InboundMessage)
    return items[0]


def test_a_text_message_keeps_its_accents_and_emoji() -> None:
    assert one_message("messenger_text_message") == InboundMessage(
        channel=Channel.MESSENGER,
        provider="meta",
        provider_message_id=(
            "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP"
            "_5cgXIbu7I3rBN0P"
        ),
        sender=CUSTOMER,
        recipient=PAGE_ID,
        text="Bonjour, où en est ma commande ? Ça fait 10 jours 😞",
        sent_at=SENT_AT,
    )


def test_a_postback() -> None:
    message = one_message("messenger_postback")
    assert message.kind is InboundKind.POSTBACK
    assert message.text == "Parler à un conseiller"
    assert message.metadata == {"payload": "TALK_TO_AGENT", "title": "Parler à un conseiller"}
    assert message.provider_message_id == "m_PbXb0N3KxZp8Rz1XGd7m2vQhJzC4r9oA1eTuVwYx"
    assert (message.sender, message.recipient, message.sent_at) == (CUSTOMER, PAGE_ID, SENT_AT)


def test_a_quick_reply() -> None:
    message = one_message("messenger_quick_reply")
    assert message.kind is InboundKind.QUICK_REPLY
    assert message.text == "Oui"
    assert message.metadata == {"payload": "CONFIRM_ORDER_YES", "title": "Oui"}
    assert message.provider_message_id == "m_QrHk2Lm9Np4Rs6Tu8Vw0Xy2Za4Bc6De8Fg0Hi2Jk"


def test_attachments_with_and_without_a_url() -> None:
    message = one_message("messenger_attachment")
    assert message.text == ""
    assert message.attachments == (
        InboundAttachment(
            filename="481234_567890_n.jpg",
            content_type="image/jpeg",
            url=(
                "https://scontent.xx.fbcdn.net/v/t1.15752-9/481234_567890_n.jpg"
                "?_nc_cat=1&ccb=1-7&oh=00_AbC&oe=6912AB34"
            ),
        ),
    )
    [shared_link] = message.metadata["other_attachments"]
    assert shared_link["type"] == "fallback"
    assert shared_link["URL"] == "https://shop.example.com/orders/48213"
    assert message.thread_refs == (OUR_MESSAGE,)


def test_only_media_attachments_become_files_to_fetch() -> None:
    shared = {"type": "share", "payload": {"url": "http://10.0.0.1/internal"}}
    audio = {"type": "audio", "payload": {"url": "https://cdn.fbsbx.com/v/voice.mp4"}}
    event = {
        "sender": {"id": "6789012345678901"},
        "recipient": {"id": "104612345678901"},
        "timestamp": 1762264799870,
        "message": {"mid": "m_1", "attachments": [shared, audio]},
    }
    body = {"object": "page", "entry": [{"id": "104612345678901", "messaging": [event]}]}
    [message] = parse_webhook(json.dumps(body).encode())
    assert isinstance(message, InboundMessage)
    assert [a.url for a in message.attachments] == ["https://cdn.fbsbx.com/v/voice.mp4"]
    assert message.metadata["other_attachments"] == [shared]


def test_our_own_echo_gives_nothing() -> None:
    assert parse_webhook(body("messenger_echo")) == []


def test_a_delivery_receipt_names_each_message() -> None:
    at = datetime(2025, 11, 4, 14, 1, 40, tzinfo=UTC)
    assert parse_webhook(body("messenger_delivery")) == [
        DeliveryUpdate("meta", OUR_MESSAGE, DeliveryStatus.DELIVERED, at),
        DeliveryUpdate(
            "meta", "m_OuR1wNm3sSaGe1Xy2Za3Bc4De5Fg6Hi7Jk8Lm9No", DeliveryStatus.DELIVERED, at
        ),
    ]


def test_a_read_receipt_is_a_watermark() -> None:
    [update] = parse_webhook(body("messenger_read"))
    assert update == WatermarkUpdate(
        provider="meta",
        provider_message_id="",
        status=DeliveryStatus.READ,
        at=datetime(2025, 11, 4, 14, 2, 31, tzinfo=UTC),
        channel=Channel.MESSENGER,
        customer=CUSTOMER,
        recipient=PAGE_ID,
        watermark=datetime(2025, 11, 4, 14, 2, 30, tzinfo=UTC),
    )
    assert isinstance(update, DeliveryUpdate)


def test_a_reaction_gets_a_stable_id_of_its_own() -> None:
    message = one_message("messenger_reaction")
    assert message.kind is InboundKind.REACTION
    assert message.text == "❤️"
    assert message.thread_refs == (OUR_MESSAGE,)
    assert message.metadata == {
        "reacted_to": OUR_MESSAGE,
        "emoji": "❤️",
        "action": "react",
        "reaction": "love",
    }
    assert message.provider_message_id == (
        f"reaction:{OUR_MESSAGE}:react:6789012345678901:1762264799870"
    )
    assert one_message("messenger_reaction") == message


def test_an_instagram_message() -> None:
    message = one_message("instagram_message")
    assert message.channel is Channel.INSTAGRAM
    assert message.sender == Sender(IdentityKind.INSTAGRAM, "1133557799113355")
    assert message.recipient == "17841400000000000"
    assert message.text == "Avez-vous ce modèle en bleu ?"
    assert message.provider_message_id.startswith("aWdfZAG1faXRlbToxOklHTWVzc2FnZA")


def test_an_instagram_read_receipt_names_the_message() -> None:
    [update] = parse_webhook(body("instagram_read"))
    assert type(update) is DeliveryUpdate
    assert update.status is DeliveryStatus.READ
    assert update.provider_message_id.startswith("aWdfZAG1faXRlbToxOklHTWVzc2FnZA")
    assert update.at == datetime(2025, 11, 4, 14, 3, 20, tzinfo=UTC)


def _page(event: str) -> bytes:
    return (
        '{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"42"},'
        '"recipient":{"id":"1"},' + event + "}]}]}"
    ).encode()


def test_a_postback_without_mid_gets_an_id_from_sender_and_time() -> None:
    [message] = parse_webhook(_page('"timestamp":1700000000000,"postback":{"payload":"GO"}'))
    assert isinstance(message, InboundMessage)
    assert message.provider_message_id == "postback:42:1700000000000"
    assert message.text == ""


def test_a_delivery_without_mids_is_a_watermark() -> None:
    [update] = parse_webhook(_page('"delivery":{"watermark":1700000000000}'))
    assert isinstance(update, WatermarkUpdate)
    assert update.status is DeliveryStatus.DELIVERED
    assert update.at is None


@pytest.mark.parametrize(
    "event",
    [
        '"timestamp":1,"optin":{"ref":"x"}',
        '"timestamp":1,"referral":{"ref":"x","source":"SHORTLINK","type":"OPEN_THREAD"}',
        '"timestamp":1,"message_edit":{"mid":"m_1","text":"edited","num_edit":1}',
        '"timestamp":1,"message":{"mid":"m_1","is_deleted":true}',
    ],
)
def test_events_we_do_not_use_give_nothing(event: str) -> None:
    assert parse_webhook(_page(event)) == []


def test_an_unsupported_instagram_message_is_flagged() -> None:
    [message] = parse_webhook(_page('"timestamp":1,"message":{"mid":"m_1","is_unsupported":true}'))
    assert isinstance(message, InboundMessage)
    assert message.flags == frozenset({"unparsed"})


@pytest.mark.parametrize(
    "event",
    [
        '"message":{"mid":"m_1","text":"no timestamp"}',
        '"timestamp":1,"message":{"text":"no mid"}',
        '"timestamp":"later","message":{"mid":"m_1"}',
        '"timestamp":1,"message":{"mid":"m_1","quick_reply":{}}',
        '"timestamp":1,"message":"hello"',
        '"read":{}',
        '"delivery":{"mids":"m_1"}',
        '"timestamp":1,"reaction":{"emoji":"x"}',
    ],
)
def test_a_malformed_event_is_unreadable(event: str) -> None:
    with pytest.raises(UnreadablePayload):
        parse_webhook(_page(event))
