"""The App Store Connect API token: ES256, signed with the .p8 key, short-lived."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from opencx.providers import app_store
from opencx.providers.rest import UnreadableCredential

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def p8(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_the_token_is_an_es256_jwt_for_app_store_connect() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = app_store.api_token(
        p8(key), key_id="2X9R4HXF34", issuer_id="57246542-96fe-1a63-e053-0824d011072a", now=NOW
    )
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "2X9R4HXF34", "typ": "JWT"}
    claims = jwt.decode(
        token,
        key.public_key(),
        algorithms=["ES256"],
        audience="appstoreconnect-v1",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == "57246542-96fe-1a63-e053-0824d011072a"
    assert claims["iat"] == int(NOW.timestamp())
    assert 0 < claims["exp"] - claims["iat"] <= 20 * 60


def test_a_key_pasted_with_surrounding_blanks_still_signs() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = app_store.api_token("\n  " + p8(key) + "\n\n", key_id="K", issuer_id="I", now=NOW)
    assert (
        jwt.decode(
            token,
            key.public_key(),
            algorithms=["ES256"],
            audience="appstoreconnect-v1",
            options={"verify_exp": False, "verify_iat": False},
        )["iss"]
        == "I"
    )


@pytest.mark.parametrize(
    "secret",
    [
        "not a key",
        p8(ec.generate_private_key(ec.SECP384R1())),
        p8(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    ],
)
def test_anything_but_a_p256_private_key_is_an_unreadable_credential(secret: str) -> None:
    with pytest.raises(UnreadableCredential):
        app_store.api_token(secret, key_id="K", issuer_id="I", now=NOW)
