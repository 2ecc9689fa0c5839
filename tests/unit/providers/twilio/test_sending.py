"""Sending through Twilio's Messages API: the request built, and Twilio's documented
answers read (``payloads/sending/``: status and body as Twilio documents them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from opencx.core.enums import Channel, DeliveryStatus
from opencx.providers.twilio import (
    Accepted,
    MessageRequest,
    SendError,
    build_message_request,
    network_error,
    read_send_response,
    template_refusal,
)

SENDING = Path(__file__).parent / "payloads" / "sending"
SID = "AC00000000000000000000000000000001"


def answer(name: str) -> tuple[int, bytes]:
    recorded = json.loads((SENDING / f"{name}.json").read_text(encoding="utf-8"))
    return recorded["status"], json.dumps(recorded["body"]).encode()


def build(**overrides: Any) -> MessageRequest:
    fields: dict[str, Any] = {
        "api_base": "https://api.twilio.com",
        "account_sid": SID,
        "auth_token": "secret-token",
        "channel": Channel.SMS,
        "to": "+33612345678",
        "from_": "+33644600000",
        "body": "Votre colis part aujourd'hui.",
    }
    return build_message_request(**{**fields, **overrides})


def test_an_sms_posts_to_the_account_messages_with_basic_auth() -> None:
    request = build(status_callback="https://x.example/s")
    assert request.url == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    assert (request.username, request.password) == (SID, "secret-token")
    assert request.form == (
        ("To", "+33612345678"),
        ("From", "+33644600000"),
        ("Body", "Votre colis part aujourd'hui."),
        ("StatusCallback", "https://x.example/s"),
    )
    # The form survives encoding as the HTTP client sends it, accents included.
    assert parse_qsl(urlencode(request.form)) == list(request.form)
    assert "secret-token" not in repr(request)


def test_whatsapp_addresses_get_their_prefix_once() -> None:
    request = build(channel=Channel.WHATSAPP, to="whatsapp:+33612345678", from_="+14155238886")
    assert dict(request.form)["To"] == "whatsapp:+33612345678"
    assert dict(request.form)["From"] == "whatsapp:+14155238886"


def test_a_template_is_a_content_sid_with_its_variables_and_no_body() -> None:
    request = build(
        channel=Channel.WHATSAPP,
        body="",
        content_sid="HXb5b62575e6e4ff6129ad7c8efe1f983e",
        content_variables={"1": "48213", "2": "lundi"},
    )
    form = dict(request.form)
    assert form["ContentSid"] == "HXb5b62575e6e4ff6129ad7c8efe1f983e"
    assert json.loads(form["ContentVariables"]) == {"1": "48213", "2": "lundi"}
    assert "Body" not in form


def test_a_template_goes_by_its_content_sid_and_without_a_file() -> None:
    sid = "HXb5b62575e6e4ff6129ad7c8efe1f983e"
    assert template_refusal(sid, with_file=False) is None
    field, reason = template_refusal("order_update", with_file=False) or ("", "")
    assert field == "template"
    assert "Content SID" in reason
    assert "'order_update'" in reason
    field, reason = template_refusal(sid, with_file=True) or ("", "")
    assert field == "attachment_ids"
    assert "media is part of its content" in reason


def test_media_urls_repeat_and_no_callback_is_sent_when_unset() -> None:
    request = build(media_urls=("https://m.example/a.jpg", "https://m.example/b.jpg"))
    assert [v for k, v in request.form if k == "MediaUrl"] == [
        "https://m.example/a.jpg",
        "https://m.example/b.jpg",
    ]
    assert "StatusCallback" not in dict(request.form)


def test_a_message_with_nothing_to_send_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="Body"):
        build(body="")


def test_the_api_base_can_point_elsewhere() -> None:
    request = build(api_base="http://127.0.0.1:8765/")
    assert request.url.startswith("http://127.0.0.1:8765/2010-04-01/Accounts/")


def test_a_created_sms_gives_its_sid() -> None:
    result = read_send_response(*answer("sms_created"))
    assert result == Accepted(sid="SM1f0e8ae6ade43cb3c0ce4525424e404f", status="queued")
    assert isinstance(result, Accepted)
    assert result.delivery_status is DeliveryStatus.QUEUED


def test_an_accepted_template_gives_its_sid() -> None:
    result = read_send_response(*answer("whatsapp_template_accepted"))
    assert isinstance(result, Accepted)
    assert result.sid == "MM8a6f3c0d2b1e4f5a6b7c8d9e0f1a2b3c"
    assert result.delivery_status is DeliveryStatus.QUEUED


def test_a_created_message_already_failed_says_so() -> None:
    status, body = answer("sms_created")
    data = json.loads(body)
    data.update(status="failed", error_code=30007, error_message="Carrier violation")
    result = read_send_response(status, json.dumps(data).encode())
    assert isinstance(result, Accepted)
    assert result.delivery_status is DeliveryStatus.FAILED
    assert (result.error_code, result.error_message) == ("30007", "Carrier violation")


def test_an_unreadable_success_still_means_the_message_exists() -> None:
    assert read_send_response(201, b"<html>") == Accepted(sid="", status="queued")


@pytest.mark.parametrize(
    ("name", "code", "retryable"),
    [
        ("error_21211_invalid_to", 21211, False),
        ("error_21610_unsubscribed", 21610, False),
        ("error_20003_authenticate", 20003, False),
        ("error_20429_too_many_requests", 20429, True),
        ("error_20500_internal", 20500, True),
    ],
)
def test_documented_errors_are_read_and_classified(name: str, code: int, retryable: bool) -> None:
    status, body = answer(name)
    error = read_send_response(status, body)
    assert isinstance(error, SendError)
    assert (error.http_status, error.code, error.retryable) == (status, code, retryable)
    assert error.more_info == f"https://www.twilio.com/docs/errors/{code}"
    assert not error.outside_window
    assert str(code) in error.describe()


def test_the_unsubscribed_message_is_what_the_agent_reads() -> None:
    error = read_send_response(*answer("error_21610_unsubscribed"))
    assert isinstance(error, SendError)
    assert error.describe() == (
        "Twilio error 21610: Attempt to send to unsubscribed recipient (HTTP 400)"
    )


def test_outside_the_whatsapp_window_is_final_and_named() -> None:
    body = {
        "code": 63016,
        "message": "Failed to send freeform message because you are outside the allowed "
        "window. If you are using WhatsApp, please use a Message Template.",
        "more_info": "https://www.twilio.com/docs/errors/63016",
        "status": 400,
    }
    error = read_send_response(400, json.dumps(body).encode())
    assert isinstance(error, SendError)
    assert error.outside_window
    assert not error.retryable
    assert error.describe().startswith("outside the 24-hour WhatsApp window")


@pytest.mark.parametrize(
    ("status", "body", "retryable"),
    [
        (502, b"<html>Bad gateway</html>", True),
        (503, b"", True),
        (429, b"", True),
        (404, b'{"code": 20404, "message": "The requested resource was not found"}', False),
        (400, b"not json", False),
    ],
)
def test_answers_without_a_documented_body_are_classified_by_status(
    status: int, body: bytes, retryable: bool
) -> None:
    error = read_send_response(status, body)
    assert isinstance(error, SendError)
    assert error.retryable is retryable
    assert error.message


def test_no_answer_is_worth_retrying() -> None:
    error = network_error("ConnectError: connection refused")
    assert error.retryable
    assert error.http_status is None
    assert error.describe() == "Twilio: ConnectError: connection refused"
