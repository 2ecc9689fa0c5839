"""API shapes of connectors: their configuration (admins) and what they show (agents).

A credential (a bearer token, a password, a header's value) is write-only: it is
taken in ``auth`` and answered only as ``auth.has_secret``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, field_validator

from opencx.core.connectors import (
    DEFAULT_CACHE_SECONDS,
    DEFAULT_TIMEOUT_MS,
    MAX_CACHE_SECONDS,
    MAX_PATH,
    MAX_TEMPLATE,
    MAX_TIMEOUT_MS,
    MIN_TIMEOUT_MS,
    AuthKind,
    ConnectorStatus,
    FieldFormat,
    parse_path,
)
from opencx.core.errors import InvalidInput
from opencx.core.ids import MAX_ID
from opencx.features.common import InputSchema, Schema

__all__ = [
    "MAX_FIELDS",
    "AuthIn",
    "AuthOut",
    "BasicAuth",
    "BearerAuth",
    "ConnectorCreate",
    "ConnectorOut",
    "ConnectorResult",
    "ConnectorTestIn",
    "ConnectorTestOut",
    "ConnectorUpdate",
    "FieldIn",
    "FieldShown",
    "HeaderAuth",
    "Labels",
    "NoAuth",
]

MAX_FIELDS = 50
MAX_SITES = 100
RefId = Annotated[int, Field(ge=1, le=MAX_ID)]
LocaleKey = Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$", max_length=5)]


def _needs_english(labels: dict[str, str]) -> dict[str, str]:
    if "en" not in labels:
        raise ValueError("an English label ('en') is required")
    return labels


Labels = Annotated[
    dict[LocaleKey, Annotated[str, Field(min_length=1, max_length=200)]],
    Field(min_length=1, max_length=20, examples=[{"en": "Contract", "fr": "Contrat"}]),
    AfterValidator(_needs_english),
]

# --- auth ------------------------------------------------------------------------------

#: A header name as HTTP defines a token.
_HEADER_NAME = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$"
#: Headers the HTTP client owns: a connector may not set them.
_RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "te", "trailer", "upgrade"}
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _header_safe(value: SecretStr | None) -> SecretStr | None:
    """A credential travels in a header: no line breaks or other control characters."""
    if value is not None and _CONTROL.search(value.get_secret_value()):
        raise ValueError("a credential cannot contain control characters or line breaks")
    return value


Secret = Annotated[
    SecretStr | None,
    Field(default=None, min_length=1, max_length=4000),
    AfterValidator(_header_safe),
]


class NoAuth(InputSchema):
    kind: Literal["none"] = "none"


class BearerAuth(InputSchema):
    """``Authorization: Bearer <token>``; leave ``token`` out to keep the stored one."""

    kind: Literal["bearer"]
    token: Secret = None


class BasicAuth(InputSchema):
    """``Authorization: Basic``; leave ``password`` out to keep the stored one."""

    kind: Literal["basic"]
    username: str = Field(min_length=1, max_length=200, pattern=r"^[^:\x00-\x1f\x7f]+$")
    password: Secret = None


class HeaderAuth(InputSchema):
    """A header of the system's choosing (``X-Api-Key: <value>``); leave ``value`` out
    to keep the stored one."""

    kind: Literal["header"]
    name: str = Field(pattern=_HEADER_NAME, examples=["X-Api-Key"])
    value: Secret = None

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"{name} is set by the HTTP client itself")
        return name


AuthIn = Annotated[NoAuth | BearerAuth | BasicAuth | HeaderAuth, Field(discriminator="kind")]


class AuthOut(Schema):
    kind: AuthKind
    #: Basic auth's user name.
    username: str | None = None
    #: A custom header's name.
    name: str | None = None
    #: Whether a token, password or header value is stored (it is never returned).
    has_secret: bool = False


# --- configuration ---------------------------------------------------------------------


def _check_path(text: str) -> str:
    try:
        parse_path(text)
    except InvalidInput as exc:
        raise ValueError(exc.detail) from None
    return text


class FieldIn(InputSchema):
    """One line of the panel: where its value is in the answer, and how to read it."""

    label: Labels
    path: Annotated[str, Field(max_length=MAX_PATH, examples=["contract.items[0].price"])]
    format: FieldFormat = FieldFormat.TEXT
    #: For ``money``: the ISO 4217 code of the amounts (``EUR``).
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")

    _path = field_validator("path")(_check_path)


Timeout = Annotated[int, Field(ge=MIN_TIMEOUT_MS, le=MAX_TIMEOUT_MS)]
CacheSeconds = Annotated[int, Field(ge=0, le=MAX_CACHE_SECONDS)]
UrlText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_TEMPLATE,
        examples=["https://crm.example.com/api/customers/{customer.external_id}"],
    ),
]
SiteIds = Annotated[list[RefId], Field(max_length=MAX_SITES)]


class ConnectorCreate(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    #: The title agents read, per locale; none: ``name``.
    label: Labels | None = None
    enabled: bool = True
    url_template: UrlText
    method: Literal["GET"] = "GET"
    auth: AuthIn = Field(default_factory=NoAuth)
    fields: list[FieldIn] = Field(default_factory=list, max_length=MAX_FIELDS)
    timeout_ms: Timeout = DEFAULT_TIMEOUT_MS
    cache_seconds: CacheSeconds = DEFAULT_CACHE_SECONDS
    #: The sites whose agents see it; empty: every site.
    site_ids: SiteIds = Field(default_factory=list)


class ConnectorUpdate(InputSchema):
    """Only the fields sent change; ``label`` may be cleared. ``auth`` replaces the whole
    auth, except that a credential left out is kept while the kind stays the same."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    label: Labels | None = None
    enabled: bool | None = None
    url_template: UrlText | None = None
    method: Literal["GET"] | None = None
    auth: AuthIn | None = None
    fields: list[FieldIn] | None = Field(default=None, max_length=MAX_FIELDS)
    timeout_ms: Timeout | None = None
    cache_seconds: CacheSeconds | None = None
    site_ids: SiteIds | None = None


class FieldOut(Schema):
    label: dict[str, str]
    path: str
    format: FieldFormat
    currency: str | None = None


class ConnectorOut(Schema):
    id: int
    name: str
    description: str
    label: dict[str, str] | None
    enabled: bool
    url_template: str
    method: Literal["GET"] = "GET"
    auth: AuthOut
    fields: list[FieldOut]
    timeout_ms: int
    cache_seconds: int
    site_ids: list[int]
    created_at: datetime
    updated_at: datetime


# --- what agents read ------------------------------------------------------------------


class FieldShown(Schema):
    label: str
    value: str | int | float | None
    format: FieldFormat
    #: For ``money``: the amount's currency, when the connector names one.
    currency: str | None = None


class ConnectorResult(Schema):
    """One connector's answer about one customer."""

    connector_id: int
    name: str
    status: ConnectorStatus
    fields: list[FieldShown]
    #: When the business system answered (an earlier time when ``cached``).
    fetched_at: datetime | None
    cached: bool
    #: Why the status is ``error`` or ``timeout``, in a few words.
    error: str | None


class ConnectorTestIn(InputSchema):
    customer_id: RefId
    locale: str = Field(default="en", pattern=r"^[a-z]{2}([-_][A-Za-z]{2})?$")


class ConnectorTestOut(ConnectorResult):
    """A dry run: the URL called (``None`` when not applicable) and the HTTP status."""

    url: str | None
    http_status: int | None
