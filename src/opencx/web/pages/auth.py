"""/login and /logout: signing in with email and password, and signing out."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from opencx.core.enums import Role
from opencx.core.errors import RateLimited, Unauthenticated
from opencx.features.auth import LoginRateLimiter, authenticate_password
from opencx.web.deps import ContextDep
from opencx.web.pages.rendering import render
from opencx.web.pages.session import csrf_valid, end_session, start_session

__all__ = ["csrf_failed", "router"]

router = APIRouter()

EmailField = Annotated[str, Form(max_length=254)]
PasswordField = Annotated[str, Form(max_length=256)]
CsrfField = Annotated[str, Form(max_length=128)]


_LANDING = {Role.AGENT: "/desktop", Role.SUPERVISOR: "/cockpit"}


def _limiter(request: Request) -> LoginRateLimiter:
    limiter = request.app.state.login_limiter
    assert isinstance(limiter, LoginRateLimiter)
    return limiter


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(
    request: Request,
    *,
    status: int = 200,
    email: str = "",
    error: str | None = None,
    retry_after: int = 0,
) -> HTMLResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return render(
        request,
        "login.html",
        status=status,
        headers=headers,
        email=email,
        error=error,
        retry_after=timedelta(seconds=retry_after),
    )


def csrf_failed(request: Request) -> HTMLResponse:
    """403: the form did not come from a page of this session (or the session expired)."""
    return render(request, "csrf_failed.html", status=403)


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
async def login(
    request: Request,
    ctx: ContextDep,
    email: EmailField = "",
    password: PasswordField = "",
    csrf: CsrfField = "",
) -> Response:
    if not csrf_valid(request, csrf):
        return csrf_failed(request)
    try:
        user = await authenticate_password(
            ctx, email=email, password=password, client=_client(request), limiter=_limiter(request)
        )
    except RateLimited as exc:
        return _login_page(
            request, status=429, email=email, error="rate_limited", retry_after=exc.retry_after
        )
    except Unauthenticated:
        return _login_page(request, status=401, email=email, error="wrong_credentials")
    await start_session(request, ctx, user.principal.user_id)
    # Agents work in the desktop, supervisors in the cockpit; admins start from home.
    landing = _LANDING.get(user.principal.role, "/")
    return RedirectResponse(landing, status_code=303)


@router.post("/logout")
async def logout(request: Request, ctx: ContextDep, csrf: CsrfField = "") -> Response:
    if not csrf_valid(request, csrf):
        return csrf_failed(request)
    await end_session(request, ctx)
    return RedirectResponse("/login", status_code=303)
