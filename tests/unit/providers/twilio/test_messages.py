"""Incoming SMS, MMS and WhatsApp messages through Twilio, field by field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.core.enums import Channel, IdentityKind
from opencx.providers.base import (
    InboundAttachment,
    InboundKind,
    InboundMessage,
    Sender,
    UnreadablePayload,
)
from opencx.providers.twilio import parse_message

from .recorded import VOICE, load

ACCOUNT = "AC00000000000000000000000000000001"
MEDIA = (
    f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"
    "/Messages/MM5f0e1d2c3b4a59687766554433221100/Media/"
)


def test_a_french_sms_keeps_its_accents_and_emoji() -> None:
    assert parse_message(load("sms_inbound_fr_utf8").pairs) == InboundMessage(
        channel=Channel.SMS,
        provider="twilio",
        provider_message_id="SM0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e",
        sender=Sender(IdentityKind.PHONE, "+33612345678"),
        recipient="+33644600000",
        text=(
            "Bonjour, ma commande n° 48213 n'est toujours pas arrivée. Pouvez-vous vérifier ? 🙏"
        ),
        metadata={
            "account_sid": ACCOUNT,
            "messaging_service_sid": "MG11111111111111111111111111111111",
            "num_segments": "2",
        },
    )


def test_an_mms_with_two_media() -> None:
    message = parse_message(load("mms_two_media").params)
    assert message.channel is Channel.SMS
    assert message.sender == Sender(IdentityKind.PHONE, "+14155550123")
    assert message.recipient == "+14155550100"
    assert message.provider_message_id == "MM5f0e1d2c3b4a59687766554433221100"
    assert message.text == "Photos of the damage and the invoice"
    assert message.attachments == (
        InboundAttachment(
            filename="ME0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            content_type="image/jpeg",
            url=MEDIA + "ME0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        ),
        InboundAttachment(
            filename="ME9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            content_type="application/pdf",
            url=MEDIA + "ME9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        ),
    )
    assert message.sent_at is None


def test_whatsapp_through_twilio() -> None:
    message = parse_message(load("whatsapp_inbound").params)
    assert message.channel is Channel.WHATSAPP
    assert message.sender == Sender(IdentityKind.WHATSAPP, "+33612345678", "Élodie Martin")
    assert message.recipient == "whatsapp:+14155238886"
    assert message.text == "Bonjour, je voudrais modifier mon adresse de livraison"
    assert message.kind is InboundKind.MESSAGE
    assert message.metadata["wa_id"] == "33612345678"
    assert message.provider_message_id == "SM7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d"


def test_a_whatsapp_quick_reply_answering_our_message() -> None:
    message = parse_message(load("whatsapp_quick_reply").params)
    assert message.kind is InboundKind.QUICK_REPLY
    assert message.text == "Oui, confirmer"
    assert message.metadata["payload"] == "confirm_delivery_yes"
    assert message.metadata["title"] == "Oui, confirmer"
    assert message.thread_refs == ("MM0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c",)
    assert message.sender.display_name == "Élodie Martin"


def test_a_whatsapp_location_and_ad_referral() -> None:
    params = {
        **load("whatsapp_inbound").params,
        "Latitude": "48.8584",
        "Longitude": "2.2945",
        "Address": "Champ de Mars, 75007 Paris",
        "Label": "Tour Eiffel",
        "ReferralSourceId": "120200000000000",
        "ReferralSourceType": "ad",
        "ReferralCtwaClid": "ARAkLkA",
    }
    metadata = parse_message(params).metadata
    assert metadata["location"] == {
        "latitude": 48.8584,
        "longitude": 2.2945,
        "address": "Champ de Mars, 75007 Paris",
        "name": "Tour Eiffel",
    }
    assert metadata["referral"] == {
        "ReferralSourceId": "120200000000000",
        "ReferralSourceType": "ad",
        "ReferralCtwaClid": "ARAkLkA",
    }


def test_a_whatsapp_user_known_by_business_scoped_id() -> None:
    params = {**load("whatsapp_inbound").params, "From": "whatsapp:US.13491208655302741918"}
    assert parse_message(params).sender == Sender(
        IdentityKind.WHATSAPP, "US.13491208655302741918", "Élodie Martin"
    )


def test_a_sender_that_is_not_a_phone_number_is_kept_as_sent() -> None:
    params = {**load("sms_inbound_fr_utf8").params, "From": "36000"}
    assert parse_message(params).sender == Sender(IdentityKind.PHONE, "36000")


@pytest.mark.parametrize("name", VOICE)
def test_voice_webhooks_are_not_messages(name: str) -> None:
    with pytest.raises(UnreadablePayload, match="voice"):
        parse_message(load(name).params)


def test_a_status_callback_is_not_a_message() -> None:
    with pytest.raises(UnreadablePayload, match="status callback"):
        parse_message(load("sms_status_callback_delivered").params)


@pytest.mark.parametrize(
    "change",
    [
        {"From": ""},
        {"To": ""},
        {"MessageSid": "", "SmsSid": "", "SmsMessageSid": ""},
        {"NumMedia": "two"},
        {"NumMedia": "1"},
        {"NumMedia": "100000"},
        {"From": "rcs:+33612345678"},
        {"From": "whatsapp:"},
        {"Latitude": "north", "Longitude": "2"},
        {"Latitude": "nan", "Longitude": "2"},
    ],
)
def test_malformed_parameters_are_unreadable(change: dict[str, str]) -> None:
    with pytest.raises(UnreadablePayload):
        parse_message({**load("sms_inbound_fr_utf8").params, **change})


def test_repeated_parameters_keep_the_first_value() -> None:
    message = parse_message([*load("sms_inbound_fr_utf8").pairs, ("Body", "second")])
    assert message.text.startswith("Bonjour")


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "From",
                "To",
                "MessageSid",
                "Body",
                "NumMedia",
                "MediaUrl0",
                "ButtonPayload",
                "Latitude",
                "Longitude",
                "CallSid",
                "MessageStatus",
            ]
        ),
        st.text(max_size=20),
    )
)
def test_parse_message_gives_a_message_or_unreadable(params: dict[str, str]) -> None:
    try:
        message = parse_message(params)
    except UnreadablePayload:
        return
    assert message.provider == "twilio"
