"""The browser session of the pages: who is signed in, and the CSRF token of its forms.

The session is Starlette's signed cookie; ``opencx.web.deps`` owns its keys. Every form
post carries the session's token in a hidden ``csrf`` field, compared in constant time.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from opencx.core.errors import Unauthenticated
from opencx.features.auth.service import Authenticated, authenticate_user_id
from opencx.features.context import AppContext
from opencx.web.deps import SESSION_CSRF, SESSION_USER, csrf_token

__all__ = [
    "CSRF_FIELD",
    "csrf_valid",
    "end_session",
    "signed_in_user",
    "start_session",
]

CSRF_FIELD = "csrf"


def csrf_valid(request: Request, sent: str) -> bool:
    """Whether a form's token is this session's; a session without one accepts none."""
    expected = request.session.get(SESSION_CSRF)
    if not isinstance(expected, str) or not expected or not sent:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


def start_session(request: Request, user_id: int) -> None:
    """Sign in: a fresh session (nothing carried over) with a new CSRF token."""
    request.session.clear()
    request.session[SESSION_USER] = user_id
    csrf_token(request)


def end_session(request: Request) -> None:
    request.session.clear()


async def signed_in_user(request: Request, ctx: AppContext) -> Authenticated | None:
    """The session's user, reloaded so that a deactivated account is signed out at once."""
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return None
    try:
        return await authenticate_user_id(ctx, user_id)
    except Unauthenticated:
        end_session(request)
        return None
