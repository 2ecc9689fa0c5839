"""Replying to a Google Play review: the request, what Google answers, and which of its
refusals are worth another attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opencx.providers import google_play

from .recorded import body

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
REVIEW = (
    "gp:AOqpTOFmAVORqfWGcaqfF39ftwFjGkjecjvjXnC3g_uL0NtVGlrrqm8X2XUWx0WydH3C9afZlPUizYVZAfARLuk"
)


def test_the_reply_request_posts_the_text_to_the_review() -> None:
    request = google_play.reply_request(
        package_name="com.example.notes", review_id=REVIEW, text="Merci !", access_token="ya29.t"
    )
    assert request.method == "POST"
    assert request.url == (
        "https://androidpublisher.googleapis.com/androidpublisher/v3/applications/"
        f"com.example.notes/reviews/{REVIEW}:reply"
    )
    assert request.json == {"replyText": "Merci !"}
    assert request.headers == {"Authorization": "Bearer ya29.t"}


def test_a_stored_review_names_its_review_id() -> None:
    assert google_play.review_id_of(f"{REVIEW}@1767599100") == REVIEW


def test_the_applied_reply_gets_an_id_naming_the_review_and_its_time() -> None:
    posted = google_play.read_reply(body("reply"), review_id=REVIEW)
    assert posted.provider_message_id == f"{REVIEW}#reply@1767604500.125000000"
    assert posted.at == datetime(2026, 1, 5, 9, 15, tzinfo=UTC)


def test_replies_longer_than_google_takes_are_refused_before_sending() -> None:
    assert google_play.check_reply("x" * 350) is None
    reason = google_play.check_reply("x" * 351)
    assert reason is not None
    assert "350" in reason
    assert "351" in reason
    assert google_play.check_reply("  ") is not None


@pytest.mark.parametrize(
    ("name", "status", "retryable", "message", "code"),
    [
        ("error_invalid_argument", 400, False, "The reply text is too long.", "INVALID_ARGUMENT"),
        ("error_permission_denied", 403, False, "The caller does not have permission", None),
        ("error_quota", 429, True, "Quota exceeded", "RESOURCE_EXHAUSTED"),
        ("error_backend", 500, True, "Internal error encountered.", "INTERNAL"),
        ("error_token_invalid_grant", 400, False, "Invalid JWT Signature.", "invalid_grant"),
    ],
)
def test_refusals_say_what_google_said_and_whether_to_try_again(
    name: str, status: int, retryable: bool, message: str, code: str | None
) -> None:
    error = google_play.read_error(status, {}, body(name), now=NOW)
    assert error.status == status
    assert error.retryable is retryable
    assert error.message.startswith(message)
    if code is not None:
        assert error.code == code
    assert error.describe().startswith("Google Play: ")


def test_retry_after_says_when_to_come_back() -> None:
    error = google_play.read_error(429, {"retry-after": "120"}, body("error_quota"), now=NOW)
    assert error.retry_at == NOW + timedelta(seconds=120)
    dated = google_play.read_error(
        503, {"Retry-After": "Mon, 05 Jan 2026 09:30:00 GMT"}, b"", now=NOW
    )
    assert dated.retry_at == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    assert dated.message == "refused without an explanation"


def test_no_answer_is_worth_another_attempt() -> None:
    error = google_play.read_error(None, {}, b"", now=NOW)
    assert error.retryable
    assert error.message == "no answer"


def test_an_html_error_page_is_reported_as_text() -> None:
    error = google_play.read_error(502, {}, b"<html>Bad Gateway</html>", now=NOW)
    assert error.retryable
    assert "Bad Gateway" in error.message
