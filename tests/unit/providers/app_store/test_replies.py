"""Responding to an App Store review: the JSON:API request, the response Apple keeps,
and which refusals are worth another attempt."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opencx.providers import app_store

from .recorded import body

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
REVIEW = "00000070-3c5e-0043-b6f2-3e1a00000000"


def test_the_response_request_relates_the_text_to_the_review() -> None:
    request = app_store.reply_request(review_id=REVIEW, text="We are sorry!", token="eyJ.jwt")
    assert request.method == "POST"
    assert request.url == "https://api.appstoreconnect.apple.com/v1/customerReviewResponses"
    assert request.json == {
        "data": {
            "type": "customerReviewResponses",
            "attributes": {"responseBody": "We are sorry!"},
            "relationships": {"review": {"data": {"type": "customerReviews", "id": REVIEW}}},
        }
    }
    assert request.headers == {"Authorization": "Bearer eyJ.jwt"}


def test_the_response_gets_an_id_naming_it_and_its_time() -> None:
    posted = app_store.read_reply(body("review_response_created"), now=NOW)
    modified = datetime(2026, 1, 5, 17, 15, tzinfo=UTC)
    assert posted.provider_message_id == (
        f"0000000a-81be-0078-9d9e-2d5c00000000@{int(modified.timestamp())}"
    )
    assert posted.at == modified


def test_a_response_without_its_date_is_dated_when_sent() -> None:
    raw = b'{"data": {"type": "customerReviewResponses", "id": "r1", "attributes": {}}}'
    assert app_store.read_reply(raw, now=NOW).provider_message_id == f"r1@{int(NOW.timestamp())}"


@pytest.mark.parametrize(
    ("name", "status", "retryable", "message", "code"),
    [
        (
            "error_conflict",
            409,
            False,
            "An attribute value is invalid.: The response body is too long.",
            "ENTITY_ERROR.ATTRIBUTE.INVALID",
        ),
        (
            "error_unauthorized",
            401,
            True,
            "Authentication credentials are missing or invalid.: Provide",
            "NOT_AUTHORIZED",
        ),
        (
            "error_rate_limited",
            429,
            True,
            "The request rate limit has been reached.",
            "RATE_LIMIT_EXCEEDED",
        ),
    ],
)
def test_refusals_say_what_apple_said_and_whether_to_try_again(
    name: str, status: int, retryable: bool, message: str, code: str
) -> None:
    error = app_store.read_error(status, {}, body(name), now=NOW)
    assert error.retryable is retryable
    assert error.message.startswith(message)
    assert error.code == code
    assert error.retry_at is None  # Apple's limit is per rolling hour: no reset given
    assert error.describe().startswith("App Store Connect: ")


def test_an_empty_reply_is_refused_before_sending() -> None:
    assert app_store.check_reply(" \n") is not None
    assert app_store.check_reply("Thanks!") is None
