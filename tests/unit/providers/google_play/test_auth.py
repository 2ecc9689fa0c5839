"""The service account's token: a JWT signed with its key (RS256), exchanged with the
jwt-bearer grant; a key that is not one is refused as a credential to enter again."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from opencx.providers import google_play
from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import UnreadableCredential

from .recorded import body

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def key_file(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "notes-reviews",
            "private_key_id": "4f1c2d3e5a6b7c8d9e0f",
            "private_key": pem(key),
            "client_email": "reviews@notes-reviews.iam.gserviceaccount.com",
            "client_id": "104729384756102938475",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


def test_the_token_request_is_a_jwt_bearer_grant_signed_with_the_key(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    account = google_play.read_service_account(key_file(rsa_key))
    request = google_play.token_request(account, now=NOW)
    assert request.method == "POST"
    assert request.url == "https://oauth2.googleapis.com/token"
    assert request.form is not None
    assert request.form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assertion = request.form["assertion"]
    header = jwt.get_unverified_header(assertion)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "4f1c2d3e5a6b7c8d9e0f"}
    claims = jwt.decode(
        assertion,
        rsa_key.public_key(),
        algorithms=["RS256"],
        audience="https://oauth2.googleapis.com/token",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == "reviews@notes-reviews.iam.gserviceaccount.com"
    assert claims["scope"] == "https://www.googleapis.com/auth/androidpublisher"
    assert claims["iat"] == int(NOW.timestamp())
    assert claims["exp"] - claims["iat"] == 3600


def test_the_token_url_can_be_another(rsa_key: rsa.RSAPrivateKey) -> None:
    account = google_play.read_service_account(key_file(rsa_key))
    request = google_play.token_request(account, now=NOW, token_url="http://127.0.0.1:9/token")
    assert request.url == "http://127.0.0.1:9/token"
    assert request.form is not None
    claims = jwt.decode(request.form["assertion"], options={"verify_signature": False})
    assert claims["aud"] == "http://127.0.0.1:9/token"


def test_the_private_key_stays_out_of_reprs(rsa_key: rsa.RSAPrivateKey) -> None:
    account = google_play.read_service_account(key_file(rsa_key))
    assert "PRIVATE KEY" not in repr(account)


@pytest.mark.parametrize(
    "secret",
    [
        "not json",
        "[]",
        json.dumps({"client_email": "a@b.c"}),
        json.dumps({"client_email": "a@b.c", "private_key": "-----BEGIN PRIVATE KEY-----\nx"}),
    ],
)
def test_a_secret_that_is_not_a_usable_key_file_is_an_unreadable_credential(secret: str) -> None:
    with pytest.raises(UnreadableCredential):
        google_play.token_request(google_play.read_service_account(secret), now=NOW)


def test_an_elliptic_key_is_not_a_service_account_key() -> None:
    account = google_play.read_service_account(key_file(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(UnreadableCredential, match="not an RSA key"):
        google_play.token_request(account, now=NOW)


def test_the_access_token_is_read_from_the_answer_with_its_lifetime() -> None:
    token = google_play.read_token(body("token"))
    assert token == google_play.AccessToken("ya29.c.b0AXv0zTPt3example-access-token", 3599)
    assert "ya29" not in repr(token)
    assert google_play.read_token(b'{"access_token": "x"}').expires_in is None
    for lifetime in (b"0", b"-5", b"99999999", b'"soon"'):
        with pytest.raises(UnreadablePayload):
            google_play.read_token(b'{"access_token": "x", "expires_in": ' + lifetime + b"}")
    with pytest.raises(UnreadablePayload):
        google_play.read_token(b'{"token_type": "Bearer"}')
    with pytest.raises(UnreadablePayload):
        google_play.read_token(b'{"access_token": "x", "token_type": "MAC"}')
