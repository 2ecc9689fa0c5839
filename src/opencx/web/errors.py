"""The one place errors become HTTP responses: RFC 9457 problem+json.

Every error body has ``type``, ``title``, ``status``, ``detail`` and ``code`` (the stable
code from ``opencx.core.errors``); validation errors add ``errors``, one per field.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from opencx.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    OpenCXError,
    PermissionDenied,
    RateLimited,
    TooLarge,
    Unauthenticated,
    Unavailable,
)

__all__ = [
    "PROBLEM_RESPONSES",
    "BodyTooLarge",
    "Problem",
    "domain_problem",
    "install_error_handlers",
    "problem_response",
    "websocket_close_code",
]

log = structlog.get_logger(__name__)

PROBLEM_TYPE = "application/problem+json"
_STATUS: dict[type[OpenCXError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthenticated: 401,
    PermissionDenied: 403,
    RateLimited: 429,
    TooLarge: 413,
    Unavailable: 503,
}
_HTTP_CODES = {
    400: "opencx.bad_request",
    401: Unauthenticated.code,
    403: PermissionDenied.code,
    404: NotFound.code,
    405: "opencx.method_not_allowed",
    409: Conflict.code,
    413: "opencx.too_large",
    415: "opencx.unsupported_media_type",
    422: InvalidInput.code,
    429: RateLimited.code,
    503: Unavailable.code,
}


class BodyTooLarge(StarletteHTTPException):
    """A request body past its limit, raised while it streams in. An ``HTTPException``
    because FastAPI's body parsing lets those through (any other error becomes a 400);
    answered as ``TooLarge``."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"the request body is larger than {limit} bytes")
        self.limit = limit


class ProblemFieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemFieldError] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_TYPE: {}}, "description": desc}
    for status, desc in {
        400: "Bad request",
        401: "Authentication required",
        403: "Permission denied",
        404: "Not found",
        409: "Conflict",
        413: "Request body too large",
        422: "Invalid input",
        429: "Too many requests",
        503: "Service unavailable",
    }.items()
}


def problem_response(
    status: int,
    *,
    title: str,
    detail: str,
    code: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://opencx.dev/problems/{code.removeprefix('opencx.')}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OpenCXError)
    return domain_problem(exc)


def domain_problem(exc: OpenCXError) -> JSONResponse:
    """The problem+json response for a domain error."""
    status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 500)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if isinstance(exc, Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="opencx"'}
    errors = None
    if "field" in exc.extra:
        errors = [{"field": str(exc.extra["field"]), "message": exc.detail}]
    extra = {k: v for k, v in exc.extra.items() if k != "field"}
    return problem_response(
        status,
        title=exc.title,
        detail=exc.detail,
        code=exc.code,
        errors=errors,
        headers=headers,
        extra=extra,
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in err.get("loc", ())), "message": str(err.get("msg"))}
        for err in exc.errors()
    ]
    return problem_response(
        422,
        title=InvalidInput.title,
        detail="the request is not valid; see errors",
        code=InvalidInput.code,
        errors=errors,
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, BodyTooLarge):
        return domain_problem(TooLarge(str(exc.detail), limit=exc.limit))
    code = _HTTP_CODES.get(exc.status_code, f"opencx.http_{exc.status_code}")
    title = str(exc.detail) if isinstance(exc.detail, str) else "Error"
    return problem_response(
        exc.status_code,
        title=title,
        detail=title,
        code=code,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
    return problem_response(
        500,
        title="Internal error",
        detail="an unexpected error occurred; it has been logged",
        code=OpenCXError.code,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OpenCXError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


#: A WebSocket closed because of an unexpected server error.
WS_INTERNAL_ERROR = 1011


def websocket_close_code(exc: Exception) -> int:
    """The close code for an error on a WebSocket: 4000 + its HTTP status (4401
    unauthenticated, 4403 forbidden, 4404 not found...), 1011 when unexpected."""
    status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), None)
    return WS_INTERNAL_ERROR if status is None else 4000 + status
