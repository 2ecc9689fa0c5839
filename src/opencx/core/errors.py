"""One error tree with stable codes; ``opencx.web.errors`` alone maps it to HTTP.

    OpenCXError                 opencx.error            500
    ├── InvalidInput            opencx.invalid_input    422
    ├── NotFound                opencx.not_found        404
    ├── Conflict                opencx.conflict         409
    │   └── IllegalTransition   opencx.illegal_transition 409
    ├── Unauthenticated         opencx.unauthenticated  401
    ├── PermissionDenied        opencx.permission_denied 403
    ├── RateLimited             opencx.rate_limited     429
    ├── TooLarge                opencx.too_large        413
    └── Unavailable             opencx.unavailable      503

A domain error carries a human detail and optional structured ``extra`` fields;
raising one changes nothing (services raise before they write).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "Conflict",
    "IllegalTransition",
    "InvalidInput",
    "NotFound",
    "OpenCXError",
    "PermissionDenied",
    "RateLimited",
    "TooLarge",
    "Unauthenticated",
    "Unavailable",
]


class OpenCXError(Exception):
    code: ClassVar[str] = "opencx.error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(OpenCXError):
    code = "opencx.invalid_input"
    title = "Invalid input"


class NotFound(OpenCXError):
    code = "opencx.not_found"
    title = "Not found"


class Conflict(OpenCXError):
    code = "opencx.conflict"
    title = "Conflict"


class IllegalTransition(Conflict):
    code = "opencx.illegal_transition"
    title = "Illegal state transition"


class Unauthenticated(OpenCXError):
    code = "opencx.unauthenticated"
    title = "Authentication required"


class PermissionDenied(OpenCXError):
    code = "opencx.permission_denied"
    title = "Permission denied"


class RateLimited(OpenCXError):
    code = "opencx.rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after


class TooLarge(OpenCXError):
    """An upload or body over a configured size limit."""

    code = "opencx.too_large"
    title = "Payload too large"


class Unavailable(OpenCXError):
    """A part of the system the request needs is not running now (the router during a
    takeover); the request changed nothing that was not committed and may be retried."""

    code = "opencx.unavailable"
    title = "Service unavailable"
