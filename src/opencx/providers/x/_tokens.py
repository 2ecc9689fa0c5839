"""An X account's OAuth 2.0 credential, and refreshing it (``POST /2/oauth2/token``).

X's user access tokens live two hours. Asked with the ``offline.access`` scope, the
authorization (Authorization Code with PKCE) also gives a refresh token; refreshing is
a form ``grant_type=refresh_token&refresh_token=…`` sent with the app's client id and
secret as HTTP Basic auth (a confidential client) or with ``client_id`` in the form (a
public client, which has no secret). X answers ``{"token_type": "bearer",
"expires_in", "access_token", "scope", "refresh_token"}``; the refresh token ROTATES:
the one sent stops working, the new one is the only one left.

The credential (the account's secret, sealed by the service) is either the bare access
token, which cannot be refreshed, or a JSON object: ``access_token``,
``refresh_token``, ``expires_at`` (ISO 8601, UTC) and, for a confidential client,
``client_secret``. ``needs_refresh`` says when to refresh: within ``REFRESH_MARGIN`` of
the expiry, or when X refused the access token (``rejected``).

A refusal of the refresh is never worth retrying unless X was unavailable: a token
X does not know (``invalid_grant``, or the ``invalid_request`` X answers for a used or
revoked refresh token) needs the account connected again; an unknown client
(``invalid_client``, ``unauthorized_client``) needs the client id or secret corrected.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import (
    ApiError,
    ApiRequest,
    Json,
    UnreadableCredential,
    iso_datetime,
    load_object,
    opt_text,
    read_bearer,
)
from opencx.providers.x._mentions import API_BASE
from opencx.providers.x._replies import read_error

__all__ = [
    "REFRESH_MARGIN",
    "XCredential",
    "needs_refresh",
    "read_credential",
    "read_refresh",
    "read_refresh_error",
    "refresh_request",
    "write_credential",
]

#: How long before its expiry an access token is refreshed.
REFRESH_MARGIN = timedelta(minutes=5)
_MAX_LIFETIME = 366 * 24 * 3600  # bounds ``expires_in``: X gives 7,200 s
_RECONNECT = "reconnect the X account (authorize the app again) to give it a new refresh token"
_CHECK_CLIENT = "check the account's client id (settings) and client secret"
#: What to do about a refused refresh, by the OAuth error X gave.
_ADVICE = {
    "invalid_grant": _RECONNECT,
    "invalid_request": _RECONNECT,
    "invalid_client": _CHECK_CLIENT,
    "unauthorized_client": _CHECK_CLIENT,
}


@dataclass(frozen=True, slots=True)
class XCredential:
    """What the account's secret holds; ``refresh_token`` is ``None`` for a bare token."""

    access_token: str | None = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    client_secret: str | None = field(default=None, repr=False)

    @property
    def refreshable(self) -> bool:
        return self.refresh_token is not None


def read_credential(secret: str) -> XCredential:
    """The account's secret: a bare access token, or the JSON object described above."""
    raw = secret.strip()
    if not raw.startswith("{"):
        if not raw:
            raise UnreadableCredential("the X credential is empty", field="secret")
        return XCredential(raw)
    try:
        return _credential(load_object(raw.encode(), "the X credential"))
    except UnreadablePayload as exc:
        raise UnreadableCredential(
            f"the X credential is neither an access token nor its JSON object: {exc}",
            field="secret",
        ) from None


def _credential(value: Json) -> XCredential:
    access, refresh = opt_text(value, "access_token"), opt_text(value, "refresh_token")
    if not (access or refresh):
        raise UnreadablePayload("it holds neither 'access_token' nor 'refresh_token'")
    expires = value.get("expires_at")
    return XCredential(
        access_token=access or None,
        refresh_token=refresh or None,
        expires_at=None if expires is None else iso_datetime(expires, "'expires_at'"),
        client_secret=opt_text(value, "client_secret") or None,
    )


def write_credential(credential: XCredential) -> str:
    """The JSON object ``read_credential`` reads back, for the service to seal."""
    values = {
        "access_token": credential.access_token,
        "refresh_token": credential.refresh_token,
        "expires_at": None if credential.expires_at is None else _iso(credential.expires_at),
        "client_secret": credential.client_secret,
    }
    return json.dumps({key: value for key, value in values.items() if value is not None})


def needs_refresh(credential: XCredential, *, now: datetime, rejected: str | None = None) -> bool:
    """Whether to refresh before the next call: a refreshable credential whose access
    token is missing, expires within ``REFRESH_MARGIN``, or is the one X refused."""
    if not credential.refreshable:
        return False
    if credential.access_token is None or credential.access_token == rejected:
        return True
    return credential.expires_at is not None and credential.expires_at - now <= REFRESH_MARGIN


def refresh_request(
    credential: XCredential, *, client_id: str, api_base: str | None = None
) -> ApiRequest:
    """The form that trades the refresh token for new tokens, sent with the client's
    credentials (Basic auth) or, for a public client, its id in the form."""
    if credential.refresh_token is None:
        raise ValueError("a bare access token cannot be refreshed")
    form = {"grant_type": "refresh_token", "refresh_token": credential.refresh_token}
    headers: dict[str, str] = {}
    if credential.client_secret is None:
        form["client_id"] = client_id
    else:
        pair = f"{client_id}:{credential.client_secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    base = (api_base or API_BASE).rstrip("/")
    return ApiRequest("POST", f"{base}/2/oauth2/token", form=form, headers=headers)


def read_refresh(body: bytes, *, previous: XCredential, now: datetime) -> XCredential:
    """The credential after a refresh: X's new tokens, expiring ``expires_in`` from
    ``now``; the client secret kept; the refresh token kept only if X sent none."""
    read = read_bearer(body, max_lifetime=_MAX_LIFETIME)
    lifetime = read.expires_in
    return XCredential(
        access_token=read.access_token,
        refresh_token=opt_text(read.answer, "refresh_token") or previous.refresh_token,
        expires_at=None if lifetime is None else now + timedelta(seconds=lifetime),
        client_secret=previous.client_secret,
    )


def read_refresh_error(
    status: int | None, headers: Mapping[str, str], body: bytes, *, now: datetime
) -> ApiError:
    """A refused refresh: retried only when X was unavailable (no answer, ``429``,
    ``5xx``); otherwise final, in X's words with what the admin has to do."""
    if status is None or status == 429 or status >= 500:
        return read_error(status, headers, body, now=now)
    code, description = _oauth_error(body)
    if code is None:  # not an OAuth error: a problem document, or no JSON at all
        error = read_error(status, headers, body, now=now)
        code, description = error.code, error.message
    advice = _ADVICE.get(code or "", _RECONNECT if status == 400 else _CHECK_CLIENT)
    return ApiError(
        provider="X",
        status=status,
        message=f"the access token could not be refreshed ({description}): {advice}",
        code=code,
        retryable=False,
    )


def _oauth_error(body: bytes) -> tuple[str | None, str]:
    """The OAuth 2.0 error (RFC 6749 §5.2): its code and its description."""
    try:
        answer = load_object(body, "the error")
        code = opt_text(answer, "error")
        description = opt_text(answer, "error_description")
    except UnreadablePayload:
        return None, ""
    return (code[:40] if code else None), (description or code or "")[:300]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
