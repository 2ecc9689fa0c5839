"""The App Store Connect API token: a JWT we sign ourselves, sent as a bearer token.

Header ``alg: ES256``, ``kid`` (the API key's id), ``typ: JWT``; claims ``iss`` (the
issuer id of the team), ``iat``, ``exp`` (Apple refuses tokens that live longer than
20 minutes) and ``aud: appstoreconnect-v1``. The signing key is the ``.p8`` private
key App Store Connect let us download once, the account's secret.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from opencx.providers.rest import sign_jwt

__all__ = ["AUDIENCE", "TOKEN_LIFETIME", "api_token"]

AUDIENCE = "appstoreconnect-v1"
#: Under Apple's 20-minute ceiling, with room for a clock running a little fast.
TOKEN_LIFETIME = timedelta(minutes=15)


def api_token(private_key_p8: str, *, key_id: str, issuer_id: str, now: datetime) -> str:
    issued = int(now.timestamp())
    claims = {
        "iss": issuer_id,
        "iat": issued,
        "exp": issued + int(TOKEN_LIFETIME.total_seconds()),
        "aud": AUDIENCE,
    }
    return sign_jwt(
        claims,
        private_key_p8.strip() + "\n",
        algorithm="ES256",
        key_id=key_id,
        what="the App Store Connect API key (.p8)",
    )
