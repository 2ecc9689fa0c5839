"""Request dependencies: the app context and the authenticated principal."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import AwareDatetime, BeforeValidator

from opencx.core.errors import PermissionDenied, Unauthenticated
from opencx.core.ids import MAX_ID
from opencx.core.permissions import Principal
from opencx.features.auth.service import Authenticated, authenticate_token
from opencx.features.auth.sessions import authenticate_session
from opencx.features.common import MAX_PAGE
from opencx.features.context import AppContext

__all__ = [
    "MAX_ID",
    "CallerDep",
    "ContextDep",
    "CursorQuery",
    "EntityId",
    "IsoDateTime",
    "LimitQuery",
    "PrincipalDep",
    "csrf_token",
    "session_key",
]

# Row ids are INTEGER on PostgreSQL (32-bit): a larger id is a 422, not a database error.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
#: The session's random key (the server keeps its row: ``features.auth.sessions``).
SESSION_KEY = "sid"
SESSION_CSRF = "csrf"
#: Where ``BodyGate`` keeps the caller it authenticated before the body was read.
CALLER_SCOPE_KEY = "opencx.caller"


# ``async``, though it awaits nothing: FastAPI runs a plain ``def`` dependency in a
# worker thread, a hop that cost more than the rest of resolving it.
async def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_caller(request: Request, ctx: ContextDep) -> Authenticated:
    """Bearer token for integrators; the signed session cookie (with CSRF) for pages."""
    known = request.scope.get(CALLER_SCOPE_KEY)
    if isinstance(known, Authenticated):
        return known
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthenticated("use 'Authorization: Bearer <token>'")
        return await authenticate_token(ctx, raw.strip())
    key = session_key(request.session) if "session" in request.scope else None
    if key is None:
        raise Unauthenticated("sign in, or send 'Authorization: Bearer <token>'")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        expected = str(request.session.get(SESSION_CSRF, ""))
        if not expected or not hmac.compare_digest(sent, expected):
            raise PermissionDenied(f"missing or wrong {CSRF_HEADER} header")
    return await authenticate_session(ctx, key)


def session_key(session: Mapping[str, Any]) -> str | None:
    """The key of the signed cookie's session, if it holds one."""
    key = session.get(SESSION_KEY)
    return key if isinstance(key, str) and key else None


CallerDep = Annotated[Authenticated, Depends(get_caller)]


async def get_principal(caller: CallerDep) -> Principal:
    return caller.principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]

EntityId = Annotated[int, Path(ge=1, le=MAX_ID)]
#: Any text but NUL, which PostgreSQL can neither store nor compare: a query parameter
#: holding one is refused (422) instead of failing in the database.
TEXT = r"^[^\x00]*$"
CursorQuery = Annotated[
    str | None, Query(max_length=200, pattern=TEXT, description="from next_cursor")
]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _iso_only(value: Any) -> Any:
    """Pydantic would read ``since=0`` as a Unix time; the API promises ISO 8601."""
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        raise ValueError("expected an ISO 8601 date-time with an offset, like 2026-01-05T09:00:00Z")
    return value


#: A date-time query parameter: ISO 8601 with an offset, never a bare number.
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_only)]
