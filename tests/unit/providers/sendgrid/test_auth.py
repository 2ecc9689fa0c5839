"""The Inbound Parse URL's shared token: in the query, or as basic auth's password."""

from __future__ import annotations

import base64

import pytest

from opencx.providers.sendgrid import token_matches

TOKEN = "s3cr3t-inbound-parse-token"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_the_token_in_the_query() -> None:
    assert token_matches(TOKEN, token=TOKEN, authorization=None)
    assert not token_matches(TOKEN, token=TOKEN[:-1], authorization=None)
    assert not token_matches(TOKEN, token=None, authorization=None)


def test_the_token_as_basic_auth_password_whatever_the_user() -> None:
    assert token_matches(TOKEN, token=None, authorization=basic("sendgrid", TOKEN))
    assert token_matches(TOKEN, token=None, authorization=basic("", TOKEN))
    assert not token_matches(TOKEN, token=None, authorization=basic(TOKEN, "x"))


def test_either_place_is_enough() -> None:
    assert token_matches(TOKEN, token="wrong", authorization=basic("sendgrid", TOKEN))
    assert token_matches(TOKEN, token=TOKEN, authorization=basic("sendgrid", "wrong"))


def test_an_empty_expected_token_accepts_nothing() -> None:
    assert not token_matches("", token="", authorization=basic("", ""))


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer " + TOKEN,
        "Basic not-base64!",
        "Basic " + base64.b64encode(TOKEN.encode()).decode(),  # no colon
        "Basic " + base64.b64encode(b"u:\xff\xfe").decode(),  # not UTF-8
        "Basic",
        "",
    ],
)
def test_malformed_credentials_are_a_mismatch_not_an_error(authorization: str) -> None:
    assert not token_matches(TOKEN, token="é non-ASCII guess", authorization=authorization)
