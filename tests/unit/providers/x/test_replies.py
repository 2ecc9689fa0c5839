"""Posting on X in answer to a mention, and reading X's refusals and rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opencx.providers import x

from .recorded import body

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_the_reply_request_posts_the_text_in_reply_to_the_post() -> None:
    request = x.reply_request(text="On it!", in_reply_to="1875990001112223330", access_token="t")
    assert request.method == "POST"
    assert request.url == "https://api.x.com/2/tweets"
    assert request.json == {
        "text": "On it!",
        "reply": {"in_reply_to_tweet_id": "1875990001112223330"},
    }
    assert request.headers == {"Authorization": "Bearer t"}


def test_the_new_post_id_is_kept() -> None:
    assert x.read_reply(body("post_created")).provider_message_id == "1876010203040506070"


def test_a_post_over_280_as_x_counts_is_refused_before_sending() -> None:
    assert x.check_reply("a" * 280) is None
    reason = x.check_reply("a" * 281)
    assert reason is not None
    assert "280" in reason
    assert "281" in reason
    assert x.check_reply("日" * 141) is not None  # CJK weighs 2
    assert x.check_reply("日" * 140) is None


@pytest.mark.parametrize(
    ("name", "status", "retryable", "message"),
    [
        ("error_duplicate", 403, False, "Forbidden: You are not allowed to create a Tweet"),
        ("error_unauthorized", 401, True, "Unauthorized"),
        ("error_rate_limit", 429, True, "Rate limit exceeded"),
        ("error_problem_typed", 400, False, "Invalid Request: One or more parameters"),
    ],
)
def test_refusals_say_what_x_said_and_whether_to_try_again(
    name: str, status: int, retryable: bool, message: str
) -> None:
    error = x.read_error(status, {}, body(name), now=NOW)
    assert error.retryable is retryable
    assert error.message.startswith(message)
    assert error.describe().startswith("X: ")


def test_a_rate_limit_ends_when_x_says() -> None:
    reset = NOW + timedelta(minutes=12)
    headers = {
        "x-rate-limit-limit": "300",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int(reset.timestamp())),
    }
    error = x.read_error(429, headers, body("error_rate_limit"), now=NOW)
    assert error.retry_at == reset
    assert error.code == "88"


def test_a_typed_problem_keeps_its_type_as_the_code() -> None:
    error = x.read_error(400, {}, body("error_problem_typed"), now=NOW)
    assert error.code == "https://api.twitter.com/2/problems/invalid-request"
