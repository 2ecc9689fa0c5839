"""How a connector's call ends, who sees a connector, and its bounds.

Rules:
- a call ends ``ok`` (a JSON answer, mapped), ``not_found`` (the system answered 404:
  it does not know this customer), ``timeout`` (no answer within the connector's
  timeout), ``error`` (any other answer, a redirect, an answer that is not JSON or is
  too large, no connection, a credential that cannot be read) or ``not_applicable``
  (a placeholder of the URL has no value for this customer: nothing is called);
- only ``ok`` and ``not_found`` answers are kept for the connector's cache seconds: a
  failing system is asked again at the next look;
- a connector with no sites is seen by everyone who may read customers; one scoped to
  sites only by admins, users with no site, and users whose own site or a site
  granted to them is among them.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from opencx.core.enums import Role
from opencx.core.permissions import Principal

__all__ = [
    "CACHED_STATUSES",
    "DEFAULT_CACHE_SECONDS",
    "DEFAULT_TIMEOUT_MS",
    "MAX_CACHE_SECONDS",
    "MAX_RESPONSE_BYTES",
    "MAX_TIMEOUT_MS",
    "MIN_TIMEOUT_MS",
    "AuthKind",
    "ConnectorStatus",
    "connector_visible",
    "status_of_answer",
]

DEFAULT_TIMEOUT_MS = 2000
MIN_TIMEOUT_MS = 100
MAX_TIMEOUT_MS = 10_000
DEFAULT_CACHE_SECONDS = 60
MAX_CACHE_SECONDS = 24 * 3600
MAX_RESPONSE_BYTES = 512 * 1024


class ConnectorStatus(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    ERROR = "error"
    TIMEOUT = "timeout"
    NOT_APPLICABLE = "not_applicable"


class AuthKind(StrEnum):
    """How a connector proves itself to the business system."""

    NONE = "none"
    BEARER = "bearer"  # Authorization: Bearer <token>
    BASIC = "basic"  # Authorization: Basic <user:password>
    HEADER = "header"  # <name>: <value>, e.g. X-Api-Key


CACHED_STATUSES = frozenset({ConnectorStatus.OK, ConnectorStatus.NOT_FOUND})


def status_of_answer(status_code: int) -> ConnectorStatus:
    """What an HTTP status says before the body is read: ``ok`` means read it."""
    if 200 <= status_code < 300:
        return ConnectorStatus.OK
    if status_code == 404:
        return ConnectorStatus.NOT_FOUND
    return ConnectorStatus.ERROR


def connector_visible(site_ids: Collection[int], principal: Principal) -> bool:
    if not site_ids or principal.role is Role.ADMIN or principal.site_id is None:
        return True
    return principal.site_id in site_ids or not principal.granted_site_ids.isdisjoint(site_ids)
