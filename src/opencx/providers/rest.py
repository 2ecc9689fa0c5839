"""Providers reached through their REST APIs (reviews, X mentions), as values: the
request to make, reading the JSON answer, and what a refusal means. No I/O: the service
sends the request and hands the answer back.

Rules:
- a request is a value (``ApiRequest``): method, URL, query, a JSON or form body, and
  headers; its headers carry the credential and are kept out of its ``repr``, so a
  logged request never shows a token;
- an answer is read through the typed accessors here, which turn any surprise into
  ``UnreadablePayload`` naming the field, never a ``KeyError`` or ``TypeError``;
- a refusal is an ``ApiError``: retryable when the provider says "later" (no answer,
  ``408``, ``429``, ``5xx``) and for ``401`` (a token revoked or expired is entered
  again by an admin, within the attempts a message has); every other ``4xx`` is final;
- a rate limit says when to come back if the provider does (``Retry-After``, or the
  reset instant an adapter reads from its own headers): ``ApiError.retry_at``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from opencx.core.errors import InvalidInput
from opencx.providers.base import InboundMessage, UnreadablePayload
from opencx.providers.json_fields import (
    Json,
    load_object,
    obj,
    objects,
    opt_obj,
    opt_text,
    text,
)

__all__ = [
    "ApiError",
    "ApiRequest",
    "BearerAnswer",
    "Dated",
    "Json",
    "Page",
    "Posted",
    "UnreadableCredential",
    "header",
    "is_retryable",
    "iso_datetime",
    "load_object",
    "not_older_than",
    "obj",
    "objects",
    "opt_int",
    "opt_obj",
    "opt_text",
    "read_bearer",
    "retry_after",
    "sign_jwt",
    "text",
    "unix_datetime",
]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_DIGITS = 18  # bounds int() on hostile input; far past year 9999 in seconds
_MAX_RETRY_AFTER = 24 * 3600.0


class UnreadableCredential(InvalidInput):
    """An account's credential is not what the provider issues (a service-account key,
    a ``.p8`` private key): enter it again."""


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One call to a provider: ``json`` or ``form`` is the body; ``headers`` hold the
    credential, and a form may (an OAuth token request's refresh token or assertion):
    both stay out of ``repr``."""

    method: Literal["GET", "POST"]
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    json: Mapping[str, Any] | None = None
    form: Mapping[str, str] | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a provider's list, read: the new items on it (what an earlier poll
    saw left out), the next page to ask for (``None``: the list is done, or this page
    reached what an earlier poll saw), and the position of the newest item on it (a
    date or an id, as the adapter writes it) for the next poll to start from."""

    items: tuple[InboundMessage, ...]
    next_page: str | None
    newest: str | None


@dataclass(frozen=True, slots=True)
class Dated:
    """A page's dated items sorted against a date cursor: those not older than it, and
    whether the page went past it."""

    items: tuple[InboundMessage, ...]
    reached: bool
    newest: str | None


def not_older_than(items: Iterable[InboundMessage], since: str | None) -> Dated:
    """``items`` (each with its ``sent_at``) at or after the cursor ``since``, an ISO
    date; a cursor that does not read as an aware date keeps everything (storing is
    idempotent). ``newest`` is the date of the newest item, the next cursor."""
    boundary = _aware(since)
    kept: list[InboundMessage] = []
    newest: datetime | None = None
    reached = False
    for item in items:
        assert item.sent_at is not None
        newest = item.sent_at if newest is None else max(newest, item.sent_at)
        if boundary is not None and item.sent_at < boundary:
            reached = True
            continue
        kept.append(item)
    return Dated(tuple(kept), reached, None if newest is None else newest.isoformat())


def _aware(since: str | None) -> datetime | None:
    if not since:
        return None
    try:
        parsed = datetime.fromisoformat(since)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class Posted:
    """A reply the provider accepted: the id we keep for it and when it took effect."""

    provider_message_id: str
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ApiError:
    """A provider's refusal, or no answer at all (``status`` is ``None``)."""

    provider: str
    status: int | None
    message: str
    code: str | None = None
    retryable: bool = False
    # When to try again, if the provider said (a rate limit's reset, ``Retry-After``).
    retry_at: datetime | None = None

    def describe(self) -> str:
        """What an agent or an admin reads: the provider's own words and status."""
        parts = [str(self.status)] if self.status is not None else []
        if self.code:
            parts.append(self.code)
        suffix = f" (HTTP {' '.join(parts)})" if parts else ""
        return f"{self.provider}: {self.message}{suffix}"[:1000]


def is_retryable(status: int | None) -> bool:
    """No answer, ``401``, ``408``, ``429`` and ``5xx`` are worth another attempt."""
    return status is None or status in (401, 408, 429) or status >= 500


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever its case in ``headers``."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def retry_after(headers: Mapping[str, str], *, now: datetime) -> datetime | None:
    """``Retry-After`` as an instant (seconds or an HTTP date); at most a day ahead."""
    raw = (header(headers, "Retry-After") or "").strip()
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= _MAX_DIGITS:
        return now + timedelta(seconds=min(float(raw), _MAX_RETRY_AFTER))
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return min(when.astimezone(UTC), now + timedelta(seconds=_MAX_RETRY_AFTER))


def sign_jwt(
    claims: Mapping[str, Any],
    private_key_pem: str,
    *,
    algorithm: Literal["RS256", "ES256"],
    key_id: str | None,
    what: str,
) -> str:
    """A JWT of ``claims`` signed with a PEM private key of the algorithm's kind (RSA
    for RS256, P-256 for ES256); ``UnreadableCredential`` naming ``what`` otherwise."""
    key = _private_key(private_key_pem, algorithm=algorithm, what=what)
    headers = {"kid": key_id} if key_id else None
    try:
        return jwt.encode(dict(claims), key, algorithm=algorithm, headers=headers)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise UnreadableCredential(f"{what} cannot sign: {exc}", field="secret") from None


def _private_key(
    pem: str, *, algorithm: Literal["RS256", "ES256"], what: str
) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):  # not PEM, encrypted, or an unsupported key
        raise UnreadableCredential(f"{what} is not a PEM private key", field="secret") from None
    if algorithm == "RS256" and isinstance(key, rsa.RSAPrivateKey):
        return key
    if (
        algorithm == "ES256"
        and isinstance(key, ec.EllipticCurvePrivateKey)
        and key.curve.name == "secp256r1"
    ):
        return key
    kind = "an RSA key" if algorithm == "RS256" else "a P-256 (ES256) key"
    raise UnreadableCredential(f"{what} is not {kind}", field="secret")


# --- reading JSON --------------------------------------------------------------------


def opt_int(parent: Json, key: str) -> int | None:
    """An integer, or a string of digits (Google writes int64 values as strings)."""
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value) > _MAX_DIGITS:
            raise UnreadablePayload(f"{key!r} is out of range")
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise UnreadablePayload(f"{key!r} is not an integer")


@dataclass(frozen=True, slots=True)
class BearerAnswer:
    """An OAuth 2.0 token endpoint's answer (RFC 6749, 5.1), read: the whole object for
    what a provider adds, the access token, and its lifetime in seconds if given."""

    answer: Json = field(repr=False)
    access_token: str = field(repr=False)
    expires_in: int | None


def read_bearer(body: bytes, *, max_lifetime: int) -> BearerAnswer:
    """A bearer token answer; ``UnreadablePayload`` for another token type, no token, or
    an ``expires_in`` outside ``1..max_lifetime``."""
    answer = load_object(body, "the token answer")
    token_type = answer.get("token_type", "bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise UnreadablePayload(f"the token type is {json.dumps(token_type)}, not bearer")
    lifetime = opt_int(answer, "expires_in")
    if lifetime is not None and not 0 < lifetime <= max_lifetime:
        raise UnreadablePayload("'expires_in' is out of range")
    return BearerAnswer(answer, text(answer, "access_token"), lifetime)


def unix_datetime(seconds: int, what: str) -> datetime:
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        raise UnreadablePayload(f"{what} is out of range") from None


def iso_datetime(value: Any, what: str) -> datetime:
    """An ISO 8601 instant with its offset (``2017-11-15T08:10:34-08:00``, ``…Z``), in UTC."""
    if not isinstance(value, str):
        raise UnreadablePayload(f"{what} is not a date")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UnreadablePayload(f"{what} is not an ISO 8601 date") from None
    if parsed.tzinfo is None:
        raise UnreadablePayload(f"{what} has no time zone")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise UnreadablePayload(f"{what} is out of range") from None
