"""WhatsApp Cloud API webhooks, read field by field from the recorded payloads."""

from __future__ import annotations

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
from opencx.providers.meta import parse_webhook

from .recorded import body

OUR_NUMBER_ID = "106540352242922"
SHEENA = Sender(IdentityKind.WHATSAPP, "+16505551234", "Sheena Nelson")


def one_message(name: str) -> InboundMessage:
    items = parse_webhook(body(name))
    assert len(items) == 1
    assert isinstance(items[0], InboundMessage)
    return items[0]


def test_a_text_message() -> None:
    message = one_message("whatsapp_text_message")
    assert message == InboundMessage(
        channel=Channel.WHATSAPP,
        provider="meta",
        provider_message_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        sender=SHEENA,
        recipient=OUR_NUMBER_ID,
        text="Does it come in another color?",
        sent_at=datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC),
        metadata={"type": "text", "wa_id": "16505551234"},
    )
    assert message.sent_at is not None
    assert message.sent_at.utcoffset() is not None


def test_a_read_status() -> None:
    assert parse_webhook(body("whatsapp_status_read")) == [
        DeliveryUpdate(
            provider="meta",
            provider_message_id="wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0QTk5RkY2QzQ5QzY5NzY1QjgA",
            status=DeliveryStatus.READ,
            at=datetime(2025, 11, 4, 14, 15, tzinfo=UTC),
        )
    ]


def test_an_image_with_a_caption() -> None:
    message = one_message("whatsapp_image_caption")
    assert message.sender == SHEENA
    assert message.recipient == OUR_NUMBER_ID
    assert message.text == "Le colis est arrivé abîmé"
    assert message.kind is InboundKind.MESSAGE
    assert message.attachments == (
        InboundAttachment(
            filename="image-1003383421387256.jpg",
            content_type="image/jpeg",
            media_id="1003383421387256",
        ),
    )
    assert message.attachments[0].url is None
    assert message.metadata == {
        "type": "image",
        "wa_id": "16505551234",
        "media_id": "1003383421387256",
        "mime_type": "image/jpeg",
        "caption": "Le colis est arrivé abîmé",
        "sha256": "fjQ6/N3ir4FbZXL8JtW8gJhUPRAR5Uc2ZQ02TGVQU1s=",
    }
    assert message.sent_at == datetime(2025, 6, 13, 22, 42, 55, tzinfo=UTC)


def test_a_voice_note_keeps_its_codec_and_gets_a_file_name() -> None:
    message = one_message("whatsapp_audio_voice")
    assert message.text == ""
    assert message.attachments == (
        InboundAttachment(
            filename="audio-1234567890123456.ogg",
            content_type="audio/ogg; codecs=opus",
            media_id="1234567890123456",
        ),
    )
    assert message.metadata["media_id"] == "1234567890123456"
    assert message.metadata["caption"] == ""


def test_a_document_keeps_the_senders_file_name() -> None:
    message = one_message("whatsapp_document")
    assert message.text == "Facture"
    assert message.attachments == (
        InboundAttachment(
            filename="facture-48213.pdf",
            content_type="application/pdf",
            media_id="9876543210987654",
        ),
    )
    assert message.metadata["media_id"] == "9876543210987654"


def test_a_reply_button_is_a_quick_reply_answering_our_message() -> None:
    message = one_message("whatsapp_interactive_button_reply")
    assert message.kind is InboundKind.QUICK_REPLY
    assert message.text == "Change"
    assert message.metadata["payload"] == "change-button"
    assert message.metadata["title"] == "Change"
    assert message.thread_refs == ("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3NjBDRjE2RjZBQzk3RkM4NzcA",)
    assert message.provider_message_id == (
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUE4RjkwNDg0OUI0RjBEMTQ1MQA="
    )
    assert message.sent_at == datetime(2025, 6, 15, 22, 5, 36, tzinfo=UTC)


def test_a_list_row_is_a_postback() -> None:
    message = one_message("whatsapp_interactive_list_reply")
    assert message.kind is InboundKind.POSTBACK
    assert message.text == "Express Shipping"
    assert message.metadata["payload"] == "priority_express"
    assert message.metadata["description"] == "Next Day to 2 Days"
    assert message.thread_refs == ("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCMjc5NkQ5NkY4MjNEMjNGQjAA",)


def test_a_template_button_is_a_quick_reply() -> None:
    message = one_message("whatsapp_button_template_reply")
    assert message.kind is InboundKind.QUICK_REPLY
    assert message.text == "Stop promotions"
    assert message.metadata["payload"] == "STOP_PROMOTIONS"
    assert message.thread_refs == ("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJGRDYxNTg3QjVBOTdCODRBRjMA",)


def test_a_reaction_points_at_the_reacted_message() -> None:
    message = one_message("whatsapp_reaction")
    assert message.kind is InboundKind.REACTION
    assert message.text == "👍"
    assert message.thread_refs == ("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3NjBDRjE2RjZBQzk3RkM4NzcA",)
    assert message.metadata["action"] == "react"
    assert message.provider_message_id == (
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUYzRjJCNjQ1MTMwNjQ4NjE3MQA="
    )


def test_a_location() -> None:
    message = one_message("whatsapp_location")
    assert message.text == ""
    assert message.metadata["location"] == {
        "latitude": 37.483307,
        "longitude": -122.148981,
        "name": "Meta Headquarters",
        "address": "1 Hacker Way, Menlo Park, CA 94025",
        "url": "https://www.meta.com/",
    }


def test_shared_contacts() -> None:
    message = one_message("whatsapp_contacts")
    [card] = message.metadata["contacts"]
    assert card["name"]["formatted_name"] == "Barbara J. Johnson"
    assert card["phones"][0]["wa_id"] == "19405551234"


def test_an_unsupported_type_reaches_the_service_flagged_unparsed() -> None:
    message = one_message("whatsapp_unsupported")
    assert message.flags == frozenset({"unparsed"})
    assert message.metadata["type"] == "unsupported"
    assert message.metadata["raw"]["errors"][0]["code"] == 131051
    assert message.sender == SHEENA


def test_a_user_known_by_username_only_is_identified_by_business_scoped_id() -> None:
    message = one_message("whatsapp_username_user")
    assert message.sender == Sender(IdentityKind.WHATSAPP, "US.13491208655302741918", "Sheena")
    assert message.metadata == {
        "type": "text",
        "user_id": "US.13491208655302741918",
        "username": "sheena.n",
    }
    assert message.text == "Hi, I prefer not to share my number"


def test_a_failed_status_carries_the_error() -> None:
    assert parse_webhook(body("whatsapp_status_failed")) == [
        DeliveryUpdate(
            provider="meta",
            provider_message_id="wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJBQkNERUYwMTIzNDU2Nzg5QQA=",
            status=DeliveryStatus.FAILED,
            at=datetime(2025, 11, 4, 14, 20, tzinfo=UTC),
            error_code="131047",
            error_message=(
                "Message failed to send because more than 24 hours have passed since the"
                " customer last replied to this number."
            ),
        )
    ]


def test_a_batch_gives_its_statuses_and_skips_notices_and_other_fields() -> None:
    wamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBIxMTExMTExMTExMTExMTExMQA="
    assert parse_webhook(body("whatsapp_batch_mixed")) == [
        DeliveryUpdate(
            "meta", wamid, DeliveryStatus.SENT, datetime(2025, 11, 4, 14, 13, 20, tzinfo=UTC)
        ),
        DeliveryUpdate(
            "meta", wamid, DeliveryStatus.DELIVERED, datetime(2025, 11, 4, 14, 13, 21, tzinfo=UTC)
        ),
    ]


def _envelope(value: str) -> bytes:
    return (
        '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":'
        '"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":'
        '"106540352242922"},' + value + "}}]}]}"
    ).encode()


def test_a_removed_reaction_has_no_emoji() -> None:
    raw = _envelope(
        '"messages":[{"from":"16505551234","id":"wamid.X","timestamp":"1750025400",'
        '"type":"reaction","reaction":{"message_id":"wamid.Y"}}]'
    )
    [message] = parse_webhook(raw)
    assert isinstance(message, InboundMessage)
    assert message.text == ""
    assert message.metadata["action"] == "unreact"


def test_an_unknown_status_gives_nothing() -> None:
    raw = _envelope('"statuses":[{"id":"wamid.X","status":"deleted","timestamp":"1"}]')
    assert parse_webhook(raw) == []


@pytest.mark.parametrize(
    "value",
    [
        '"messages":[{"id":"wamid.X","timestamp":"1","type":"text","text":{"body":"hi"}}]',
        '"messages":[{"from":"165055x","id":"wamid.X","timestamp":"1","type":"text",'
        '"text":{"body":"hi"}}]',
        '"messages":[{"from":"1650","id":"wamid.X","timestamp":"soon","type":"text",'
        '"text":{"body":"hi"}}]',
        '"messages":[{"from":"1650","timestamp":"1","type":"text","text":{"body":"hi"}}]',
        '"messages":[{"from":"1650","id":"wamid.X","timestamp":"1","type":"image"}]',
        '"messages":[{"from":"1650","id":"wamid.X","timestamp":"1","type":"location",'
        '"location":{"latitude":"north","longitude":2}}]',
        '"statuses":[{"id":"wamid.X","status":"failed","timestamp":"1","errors":[{"code":true}]}]',
        '"messages":{"from":"1650"}',
    ],
)
def test_a_malformed_message_is_unreadable(value: str) -> None:
    with pytest.raises(UnreadablePayload):
        parse_webhook(_envelope(value))


def test_a_completed_flow_is_a_postback_with_its_answers() -> None:
    raw = _envelope(
        '"messages":[{"from":"16505551234","id":"wamid.X","timestamp":"1","type":"interactive",'
        '"interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent",'
        '"response_json":"{\\"slot\\":\\"morning\\"}"}}}]'
    )
    [message] = parse_webhook(raw)
    assert isinstance(message, InboundMessage)
    assert message.kind is InboundKind.POSTBACK
    assert message.text == "Sent"
    assert message.metadata["payload"] == '{"slot":"morning"}'


def test_an_unknown_interactive_reply_is_kept_unparsed() -> None:
    raw = _envelope(
        '"messages":[{"from":"16505551234","id":"wamid.X","timestamp":"1","type":"interactive",'
        '"interactive":{"type":"call_permission_reply","call_permission_reply":{}}}]'
    )
    [message] = parse_webhook(raw)
    assert isinstance(message, InboundMessage)
    assert message.flags == frozenset({"unparsed"})
    assert message.metadata["raw"]["interactive"]["type"] == "call_permission_reply"
