"""An X account's credential and its refresh: the bare token of old still read, the
JSON credential round-tripped, refreshed five minutes before it expires or when X
refused it, the refresh request as X's OAuth 2.0 reference writes it for confidential
and public clients, and refusals that say whether to reconnect the account."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from opencx.providers import x
from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import UnreadableCredential

from .recorded import body

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CLIENT_ID = "M1M5R3BMVy13QmpScXkzTUt5OE46MTpjaQ"


def refreshable(
    *, expires_at: datetime | None = NOW, secret: str | None = "s3cr3t"
) -> x.XCredential:
    return x.XCredential("access-1", "refresh-1", expires_at, secret)


def test_a_bare_token_is_read_as_it_always_was_and_cannot_be_refreshed() -> None:
    credential = x.read_credential("  x-user-access-token\n")
    assert credential == x.XCredential("x-user-access-token")
    assert not credential.refreshable
    assert not x.needs_refresh(credential, now=NOW, rejected="x-user-access-token")


def test_the_json_credential_reads_back_what_was_written() -> None:
    credential = refreshable(expires_at=NOW + timedelta(hours=2))
    written = x.write_credential(credential)
    assert json.loads(written) == {
        "access_token": "access-1",
        "refresh_token": "refresh-1",
        "expires_at": "2026-01-05T11:00:00+00:00",
        "client_secret": "s3cr3t",
    }
    assert x.read_credential(written) == credential
    public = x.XCredential("a", "r", None, None)
    assert json.loads(x.write_credential(public)) == {"access_token": "a", "refresh_token": "r"}


def test_the_credentials_tokens_stay_out_of_its_repr() -> None:
    shown = repr(refreshable())
    assert "access-1" not in shown
    assert "refresh-1" not in shown
    assert "s3cr3t" not in shown


@pytest.mark.parametrize(
    "secret",
    [
        "{",
        "{}",
        '{"access_token": 7}',
        '{"access_token": "a", "expires_at": "tomorrow"}',
        '{"access_token": "a", "expires_at": "2026-01-05T11:00:00"}',  # no time zone
        "   ",
    ],
)
def test_a_credential_that_is_not_one_is_refused_as_a_credential(secret: str) -> None:
    with pytest.raises(UnreadableCredential) as refused:
        x.read_credential(secret)
    assert refused.value.extra == {"field": "secret"}


def test_a_refresh_token_alone_is_refreshed_at_once() -> None:
    credential = x.read_credential('{"refresh_token": "r"}')
    assert credential.access_token is None
    assert x.needs_refresh(credential, now=NOW)


@pytest.mark.parametrize(
    ("expires_in", "refresh"),
    [
        (timedelta(hours=2), False),
        (timedelta(minutes=5, seconds=1), False),
        (timedelta(minutes=5), True),
        (timedelta(seconds=1), True),
        (-timedelta(hours=1), True),
    ],
)
def test_a_token_is_refreshed_within_five_minutes_of_its_expiry(
    expires_in: timedelta, refresh: bool
) -> None:
    assert x.needs_refresh(refreshable(expires_at=NOW + expires_in), now=NOW) is refresh


def test_a_token_x_refused_is_refreshed_whatever_its_expiry_says() -> None:
    credential = refreshable(expires_at=NOW + timedelta(hours=2))
    assert x.needs_refresh(credential, now=NOW, rejected="access-1")
    assert not x.needs_refresh(credential, now=NOW, rejected="an older token")
    assert not x.needs_refresh(refreshable(expires_at=None), now=NOW)  # only on a 401


def test_a_confidential_client_refreshes_with_basic_auth() -> None:
    request = x.refresh_request(refreshable(), client_id=CLIENT_ID)
    assert request.method == "POST"
    assert request.url == "https://api.x.com/2/oauth2/token"
    assert request.form == {"grant_type": "refresh_token", "refresh_token": "refresh-1"}
    scheme, _, encoded = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"{CLIENT_ID}:s3cr3t"
    assert "s3cr3t" not in repr(request)  # the headers stay out of a logged request


def test_a_public_client_sends_its_id_in_the_form() -> None:
    request = x.refresh_request(
        refreshable(secret=None), client_id=CLIENT_ID, api_base="http://127.0.0.1:9/"
    )
    assert request.url == "http://127.0.0.1:9/2/oauth2/token"
    assert request.form == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "client_id": CLIENT_ID,
    }
    assert request.headers == {}


def test_a_bare_token_has_no_refresh_request() -> None:
    with pytest.raises(ValueError, match="cannot be refreshed"):
        x.refresh_request(x.XCredential("a"), client_id=CLIENT_ID)


def test_the_answer_gives_the_new_tokens_and_when_they_expire() -> None:
    fresh = x.read_refresh(body("token_refreshed"), previous=refreshable(), now=NOW)
    assert fresh.access_token is not None
    assert fresh.access_token.endswith("OmF0OjE")
    assert fresh.refresh_token is not None
    assert fresh.refresh_token.endswith("OnJ0OjE")  # rotated: the new one replaces ours
    assert fresh.expires_at == NOW + timedelta(hours=2)
    assert fresh.client_secret == "s3cr3t"  # the client's, kept


def test_an_answer_without_a_refresh_token_keeps_ours() -> None:
    answer = b'{"token_type": "bearer", "access_token": "access-2", "expires_in": 7200}'
    fresh = x.read_refresh(answer, previous=refreshable(), now=NOW)
    assert (fresh.access_token, fresh.refresh_token) == ("access-2", "refresh-1")


@pytest.mark.parametrize(
    "answer",
    [
        b'{"token_type": "mac", "access_token": "a", "expires_in": 7200}',
        b'{"token_type": "bearer", "expires_in": 7200}',
        b'{"token_type": "bearer", "access_token": "a", "expires_in": 0}',
        b'{"token_type": "bearer", "access_token": "a", "expires_in": 99999999999}',
        b"<html>",
    ],
)
def test_an_answer_that_is_not_tokens_is_unreadable(answer: bytes) -> None:
    with pytest.raises(UnreadablePayload):
        x.read_refresh(answer, previous=refreshable(), now=NOW)


@pytest.mark.parametrize(
    ("name", "status", "code", "advice"),
    [
        ("error_token_invalid_request", 400, "invalid_request", "reconnect the X account"),
        ("error_token_invalid_grant", 400, "invalid_grant", "reconnect the X account"),
        ("error_token_unauthorized_client", 401, "unauthorized_client", "client id"),
    ],
)
def test_a_refused_refresh_is_final_and_says_what_to_do(
    name: str, status: int, code: str, advice: str
) -> None:
    error = x.read_refresh_error(status, {}, body(name), now=NOW)
    assert not error.retryable
    assert error.code == code
    assert advice in error.message
    described = error.describe()
    assert described.startswith("X: the access token could not be refreshed (")
    assert described.endswith(f"(HTTP {status} {code})")


def test_a_revoked_refresh_token_is_described_in_xs_words() -> None:
    error = x.read_refresh_error(400, {}, body("error_token_invalid_request"), now=NOW)
    assert error.describe() == (
        "X: the access token could not be refreshed (Value passed for the token was "
        "invalid.): reconnect the X account (authorize the app again) to give it a new "
        "refresh token (HTTP 400 invalid_request)"
    )


@pytest.mark.parametrize("status", [None, 429, 500, 503])
def test_a_refresh_x_could_not_answer_is_retried(status: int | None) -> None:
    error = x.read_refresh_error(status, {}, b"", now=NOW)
    assert error.retryable


def test_a_refusal_without_an_oauth_error_keeps_xs_words() -> None:
    error = x.read_refresh_error(403, {}, body("error_duplicate"), now=NOW)
    assert not error.retryable
    assert "You are not allowed" in error.message
    assert "client id" in error.message
