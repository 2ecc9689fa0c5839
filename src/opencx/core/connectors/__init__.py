"""Connectors to business systems (billing, contracts, delivery tracking): the pure
rules of filling a URL with a customer's values, reading fields from the JSON answer,
and judging how a call ended. The calls themselves are ``opencx.features.connectors``.
"""

from opencx.core.connectors._fields import (
    MAX_TEXT,
    FieldFormat,
    FieldSpec,
    Scalar,
    pick_label,
    read_fields,
    read_value,
)
from opencx.core.connectors._paths import MAX_PATH, MISSING, FieldPath, parse_path
from opencx.core.connectors._rules import (
    CACHED_STATUSES,
    DEFAULT_CACHE_SECONDS,
    DEFAULT_TIMEOUT_MS,
    MAX_CACHE_SECONDS,
    MAX_RESPONSE_BYTES,
    MAX_TIMEOUT_MS,
    MIN_TIMEOUT_MS,
    AuthKind,
    ConnectorStatus,
    connector_visible,
    status_of_answer,
)
from opencx.core.connectors._templates import (
    ATTRIBUTE_PREFIX,
    MAX_TEMPLATE,
    PLACEHOLDERS,
    UrlTemplate,
    parse_url_template,
)
from opencx.core.connectors._values import IDENTITY_PLACEHOLDERS, customer_values

__all__ = [
    "ATTRIBUTE_PREFIX",
    "CACHED_STATUSES",
    "DEFAULT_CACHE_SECONDS",
    "DEFAULT_TIMEOUT_MS",
    "IDENTITY_PLACEHOLDERS",
    "MAX_CACHE_SECONDS",
    "MAX_PATH",
    "MAX_RESPONSE_BYTES",
    "MAX_TEMPLATE",
    "MAX_TEXT",
    "MAX_TIMEOUT_MS",
    "MIN_TIMEOUT_MS",
    "MISSING",
    "PLACEHOLDERS",
    "AuthKind",
    "ConnectorStatus",
    "FieldFormat",
    "FieldPath",
    "FieldSpec",
    "Scalar",
    "UrlTemplate",
    "connector_visible",
    "customer_values",
    "parse_path",
    "parse_url_template",
    "pick_label",
    "read_fields",
    "read_value",
    "status_of_answer",
]
