"""Twilio message status callbacks in our terms."""

from __future__ import annotations

import pytest

from opencx.core.enums import DeliveryStatus
from opencx.providers.base import DeliveryUpdate, UnreadablePayload
from opencx.providers.twilio import STATUSES, parse_status

from .recorded import VOICE, load

SMS_SID = "SM0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"


def test_delivered() -> None:
    assert parse_status(load("sms_status_callback_delivered").params) == DeliveryUpdate(
        provider="twilio", provider_message_id=SMS_SID, status=DeliveryStatus.DELIVERED
    )


def test_undelivered_carries_the_error_code() -> None:
    assert parse_status(load("sms_status_callback_undelivered").params) == DeliveryUpdate(
        provider="twilio",
        provider_message_id=SMS_SID,
        status=DeliveryStatus.FAILED,
        error_code="30003",
    )


def test_an_error_message_comes_along() -> None:
    params = {
        **load("sms_status_callback_undelivered").params,
        "ErrorMessage": "Unreachable destination handset",
    }
    assert parse_status(params).error_message == "Unreachable destination handset"


def test_a_whatsapp_read_receipt() -> None:
    update = parse_status(load("whatsapp_status_callback_read").params)
    assert update.status is DeliveryStatus.READ
    assert update.provider_message_id == "SM3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a"
    assert update.at is None


@pytest.mark.parametrize(
    ("twilio", "ours"),
    [
        ("accepted", DeliveryStatus.QUEUED),
        ("scheduled", DeliveryStatus.QUEUED),
        ("queued", DeliveryStatus.QUEUED),
        ("sending", DeliveryStatus.QUEUED),
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("partially_delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.READ),
        ("undelivered", DeliveryStatus.FAILED),
        ("failed", DeliveryStatus.FAILED),
        ("canceled", DeliveryStatus.FAILED),
        ("receiving", DeliveryStatus.RECEIVED),
        ("received", DeliveryStatus.RECEIVED),
    ],
)
def test_every_documented_status_maps(twilio: str, ours: DeliveryStatus) -> None:
    params = {**load("sms_status_callback_delivered").params, "MessageStatus": twilio}
    assert parse_status(params).status is ours
    assert STATUSES[twilio] is ours


def test_every_mapped_status_is_tested() -> None:
    assert len(STATUSES) == 13


@pytest.mark.parametrize("name", VOICE)
def test_voice_callbacks_are_not_message_statuses(name: str) -> None:
    with pytest.raises(UnreadablePayload, match="voice"):
        parse_status(load(name).params)


def test_an_incoming_message_is_not_a_status_callback() -> None:
    with pytest.raises(UnreadablePayload, match="status"):
        parse_status(load("sms_inbound_fr_utf8").params)


@pytest.mark.parametrize("status", ["", "lost", "DELIVERED?"])
def test_an_unknown_status_is_unreadable(status: str) -> None:
    params = {**load("sms_status_callback_delivered").params, "MessageStatus": status}
    with pytest.raises(UnreadablePayload):
        parse_status(params)
