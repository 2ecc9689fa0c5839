"""Sending through Meta's Graph API (WhatsApp Cloud API, Messenger, Instagram): the
requests built, and Meta's documented answers read (``payloads/sending/``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opencx.providers.meta import (
    Accepted,
    HeaderFile,
    SendError,
    messaging_file,
    messaging_text,
    network_error,
    read_send_response,
    whatsapp_file,
    whatsapp_template,
    whatsapp_text,
)

SENDING = Path(__file__).parent / "payloads" / "sending"
GRAPH = {"graph_base": "https://graph.facebook.com", "graph_version": "v21.0", "token": "EAAG"}


def answer(name: str) -> tuple[int, bytes]:
    recorded = json.loads((SENDING / f"{name}.json").read_text(encoding="utf-8"))
    return recorded["status"], json.dumps(recorded["body"]).encode()


def test_a_whatsapp_text_goes_to_the_number_id_with_a_bearer_token() -> None:
    request = whatsapp_text(
        **GRAPH, phone_number_id="106540352242922", to="+16505551234", text="Yes, in blue."
    )
    assert request.url == "https://graph.facebook.com/v21.0/106540352242922/messages"
    assert request.headers == {"Authorization": "Bearer EAAG"}
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "text",
        "text": {"preview_url": False, "body": "Yes, in blue."},
    }
    assert "EAAG" not in repr(request)


def test_a_user_known_by_business_scoped_id_is_the_recipient() -> None:
    request = whatsapp_text(
        **GRAPH, phone_number_id="1065", to="US.13491208655302741918", text="Hello"
    )
    assert request.body["recipient"] == "US.13491208655302741918"
    assert "to" not in request.body


def test_a_template_names_its_language_and_fills_the_body() -> None:
    request = whatsapp_template(
        **GRAPH,
        phone_number_id="106540352242922",
        to="+33612345678",
        name="order_update",
        language="fr",
        parameters=("48213", "lundi"),
    )
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "33612345678",
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "fr"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "48213"},
                        {"type": "text", "text": "lundi"},
                    ],
                }
            ],
        },
    }


def test_a_template_without_parameters_has_no_components() -> None:
    request = whatsapp_template(
        **GRAPH, phone_number_id="1065", to="+33612345678", name="hello_world", language="en_US"
    )
    assert request.body["template"] == {"name": "hello_world", "language": {"code": "en_US"}}


@pytest.mark.parametrize(
    ("content_type", "media"),
    [
        ("application/pdf", {"link": "https://cx.example.com/media/t/q.pdf", "filename": "Q.pdf"}),
        ("image/jpeg", {"link": "https://cx.example.com/media/t/q.pdf"}),
        ("video/mp4", {"link": "https://cx.example.com/media/t/q.pdf"}),
    ],
)
def test_a_template_header_shows_the_file_as_its_type(
    content_type: str, media: dict[str, str]
) -> None:
    request = whatsapp_template(
        **GRAPH,
        phone_number_id="1065",
        to="+33612345678",
        name="invoice_ready",
        language="fr",
        parameters=("48213",),
        header=HeaderFile("https://cx.example.com/media/t/q.pdf", content_type, "Q.pdf"),
    )
    kind = content_type.split("/")[0] if content_type != "application/pdf" else "document"
    assert request.body["template"]["components"] == [
        {"type": "header", "parameters": [{"type": kind, kind: media}]},
        {"type": "body", "parameters": [{"type": "text", "text": "48213"}]},
    ]


def test_messenger_and_instagram_answer_a_user_as_a_response() -> None:
    request = messaging_text(
        **GRAPH, account_id="1143726729055386", recipient="1254477777772919", text="Hi!"
    )
    assert request.url == "https://graph.facebook.com/v21.0/1143726729055386/messages"
    assert request.body == {
        "recipient": {"id": "1254477777772919"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hi!"},
    }


@pytest.mark.parametrize(
    ("content_type", "kind", "media"),
    [
        ("image/jpeg", "image", {"caption": "Voici"}),
        ("image/png", "image", {"caption": "Voici"}),
        ("video/mp4", "video", {"caption": "Voici"}),
        ("audio/ogg", "audio", {}),  # audio takes no caption
        ("application/pdf", "document", {"caption": "Voici", "filename": "Facture.pdf"}),
        ("image/webp", "document", {"caption": "Voici", "filename": "Facture.pdf"}),
    ],
)
def test_a_whatsapp_file_is_typed_by_its_content(
    content_type: str, kind: str, media: dict[str, str]
) -> None:
    link = "https://support.example.com/media/t/Facture.pdf"
    request = whatsapp_file(
        **GRAPH,
        phone_number_id="106540352242922",
        to="+16505551234",
        link=link,
        content_type=content_type,
        filename="Facture.pdf",
        caption="Voici",
    )
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": kind,
        kind: {"link": link, **media},
    }


def test_a_whatsapp_file_without_text_has_no_caption() -> None:
    request = whatsapp_file(
        **GRAPH,
        phone_number_id="1",
        to="+33612345678",
        link="https://x.example/m/t/a.png",
        content_type="image/png",
        filename="a.png",
    )
    assert request.body["image"] == {"link": "https://x.example/m/t/a.png"}


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [("image/png", "image"), ("video/mp4", "video"), ("audio/mpeg", "audio"), ("text/csv", "file")],
)
def test_a_messenger_file_is_an_attachment_meta_downloads(content_type: str, kind: str) -> None:
    request = messaging_file(
        **GRAPH,
        account_id="104612345678901",
        recipient="6789012345678901",
        link="https://support.example.com/media/t/a",
        content_type=content_type,
    )
    assert request.url == "https://graph.facebook.com/v21.0/104612345678901/messages"
    assert request.body == {
        "recipient": {"id": "6789012345678901"},
        "messaging_type": "RESPONSE",
        "message": {
            "attachment": {
                "type": kind,
                "payload": {"url": "https://support.example.com/media/t/a", "is_reusable": False},
            }
        },
    }


def test_a_tagged_answer_is_a_message_tag_not_a_response() -> None:
    request = messaging_text(
        **GRAPH, account_id="1", recipient="2", text="Toujours là ?", tag="HUMAN_AGENT"
    )
    assert request.body == {
        "recipient": {"id": "2"},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "Toujours là ?"},
    }


def test_the_version_may_omit_its_v_and_the_base_its_slash() -> None:
    graph = {**GRAPH, "graph_base": "http://127.0.0.1:9000/", "graph_version": "21.0"}
    request = messaging_text(**graph, account_id="1", recipient="2", text="x")
    assert request.url == "http://127.0.0.1:9000/v21.0/1/messages"


@pytest.mark.parametrize(
    ("name", "message_id"),
    [
        ("whatsapp_text_sent", "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0QTk5RkY2QzQ5QzY5NzY1QjgA"),
        ("whatsapp_template_sent", "wamid.HBgLMzM2MTIzNDU2NzgVAgARGBJBQjNDNEQ1RTZGNzA4MTkyQTMA"),
        (
            "messenger_sent",
            "m_Xq7Lp2Vb9Nc4Rd1Sf6Tg3Yh8Uj0Ik5Ol2Mz7Wx4Ey9Ar1Bt6Cu3Dv8Ew0Fx5Gy2Hz7Ia4Jb9Kc1Ld6Me3N",
        ),
    ],
)
def test_a_sent_message_gives_its_id(name: str, message_id: str) -> None:
    assert read_send_response(*answer(name)) == Accepted(message_id=message_id)


def test_an_unreadable_success_still_means_the_message_was_taken() -> None:
    assert read_send_response(200, b"") == Accepted(message_id="")


@pytest.mark.parametrize(
    ("name", "code", "subcode", "retryable", "outside_window"),
    [
        ("whatsapp_error_131047_reengagement", 131047, None, False, True),
        ("whatsapp_error_130429_rate_limit", 130429, None, True, False),
        ("whatsapp_error_131026_undeliverable", 131026, None, False, False),
        ("messenger_error_outside_window", 10, 2018278, False, True),
        ("instagram_error_outside_window", 10, 2534022, False, True),
        ("messenger_error_1200_temporary", 1200, None, True, False),
        ("error_190_invalid_token", 190, 1234567, False, False),
        ("error_2_transient", 2, None, True, False),
    ],
)
def test_documented_errors_are_read_and_classified(
    name: str, code: int, subcode: int | None, retryable: bool, outside_window: bool
) -> None:
    status, body = answer(name)
    error = read_send_response(status, body)
    assert isinstance(error, SendError)
    assert (error.http_status, error.code, error.subcode) == (status, code, subcode)
    assert error.retryable is retryable
    assert error.outside_window is outside_window
    assert error.fbtrace_id


def test_the_whatsapp_window_refusal_tells_the_agent_to_use_a_template() -> None:
    error = read_send_response(*answer("whatsapp_error_131047_reengagement"))
    assert isinstance(error, SendError)
    assert error.describe() == (
        "outside the 24-hour customer-care window: only an approved template may be sent. "
        "Meta error 131047: (#131047) Re-engagement message: Message failed to send because "
        "more than 24 hours have passed since the customer last replied to this number. "
        "(HTTP 400)"
    )


def test_the_messenger_window_refusal_asks_for_the_customer_to_write() -> None:
    error = read_send_response(*answer("messenger_error_outside_window"))
    assert isinstance(error, SendError)
    assert error.describe().startswith(
        "outside the 24-hour customer-care window: the customer must write again"
    )
    assert "Meta error 10/2018278" in error.describe()


@pytest.mark.parametrize(
    ("status", "body", "retryable"),
    [
        (502, b"<html>Bad gateway</html>", True),
        (429, b"{}", True),
        (400, b'{"error": "not an object"}', False),
        (403, b"", False),
    ],
)
def test_answers_without_a_documented_body_are_classified_by_status(
    status: int, body: bytes, retryable: bool
) -> None:
    error = read_send_response(status, body)
    assert isinstance(error, SendError)
    assert error.retryable is retryable
    assert error.message == f"HTTP {status}"


def test_no_answer_is_worth_retrying() -> None:
    error = network_error("ReadTimeout: timed out")
    assert error.retryable
    assert error.describe() == "Meta error: ReadTimeout: timed out"
