"""A Google service account's access token: the OAuth 2.0 JWT bearer flow.

The account's secret is the service account's JSON key (``client_email``,
``private_key``, ``private_key_id``). We sign a JWT with RS256 (header ``kid``: the key
id; claims ``iss`` the account's e-mail, ``scope`` androidpublisher, ``aud`` the token
URL, ``iat`` and ``exp`` at most an hour later) and post it as ``assertion`` with
``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` (a form) to the token URL,
which answers ``{"access_token", "expires_in", "token_type": "Bearer"}``: read as an
``AccessToken``, whose ``expires_in`` (seconds; ``None`` when Google gave none) lets
the service keep it until shortly before it expires.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import (
    ApiRequest,
    UnreadableCredential,
    load_object,
    opt_text,
    read_bearer,
    sign_jwt,
    text,
)

__all__ = [
    "ASSERTION_LIFETIME",
    "GRANT_TYPE",
    "SCOPE",
    "TOKEN_URL",
    "AccessToken",
    "ServiceAccount",
    "read_service_account",
    "read_token",
    "token_request",
]

SCOPE = "https://www.googleapis.com/auth/androidpublisher"
TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Google refuses assertions that live longer than an hour.
ASSERTION_LIFETIME = timedelta(hours=1)
_MAX_LIFETIME = 24 * 3600  # bounds ``expires_in``: Google gives 3,599 s


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token and how long it lives from when it was issued (seconds)."""

    token: str = field(repr=False)
    expires_in: int | None = None


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    client_email: str
    private_key: str = field(repr=False)
    private_key_id: str | None = None


def read_service_account(key_json: str) -> ServiceAccount:
    """The parts of a service account's JSON key we sign with."""
    try:
        key = load_object(key_json.encode(), "the service account key")
        return ServiceAccount(
            client_email=text(key, "client_email"),
            private_key=text(key, "private_key"),
            private_key_id=opt_text(key, "private_key_id") or None,
        )
    except UnreadablePayload as exc:
        raise UnreadableCredential(
            f"the Google service account key is not its JSON key file: {exc}", field="secret"
        ) from None


def token_request(
    account: ServiceAccount, *, now: datetime, token_url: str | None = None
) -> ApiRequest:
    """The form that exchanges a signed assertion for an access token."""
    url = token_url or TOKEN_URL
    issued = int(now.timestamp())
    claims = {
        "iss": account.client_email,
        "scope": SCOPE,
        "aud": url,
        "iat": issued,
        "exp": issued + int(ASSERTION_LIFETIME.total_seconds()),
    }
    assertion = sign_jwt(
        claims,
        account.private_key,
        algorithm="RS256",
        key_id=account.private_key_id,
        what="the Google service account's private key",
    )
    return ApiRequest("POST", url, form={"grant_type": GRANT_TYPE, "assertion": assertion})


def read_token(body: bytes) -> AccessToken:
    """The access token in the token endpoint's answer, and its lifetime."""
    read = read_bearer(body, max_lifetime=_MAX_LIFETIME)
    return AccessToken(read.access_token, read.expires_in)
