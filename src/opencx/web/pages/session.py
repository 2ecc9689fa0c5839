"""The browser session of the pages: who is signed in, and the CSRF token of its forms.

The session is Starlette's signed cookie holding the random key of a session row
(``opencx.features.auth.sessions``), so signing out ends it on the server: a copy of the
cookie made before stops working. ``opencx.web.deps`` owns the cookie's keys. Every form
post carries the session's token in a hidden ``csrf`` field, compared in constant time.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from opencx.core.errors import Unauthenticated
from opencx.features.auth import sessions
from opencx.features.auth.service import Authenticated
from opencx.features.context import AppContext
from opencx.web.deps import SESSION_CSRF, SESSION_KEY, csrf_token, session_key

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


async def start_session(request: Request, ctx: AppContext, user_id: int) -> None:
    """Sign in: a fresh session (nothing carried over) with a new CSRF token."""
    key = await sessions.start_session(ctx, user_id)
    request.session.clear()
    request.session[SESSION_KEY] = key
    csrf_token(request)


async def end_session(request: Request, ctx: AppContext) -> None:
    """Sign out: the session row ends, and the cookie is emptied."""
    key = session_key(request.session)
    if key is not None:
        await sessions.end_session(ctx, key)
    request.session.clear()


async def signed_in_user(request: Request, ctx: AppContext) -> Authenticated | None:
    """The session's user, reloaded so that an ended session or a deactivated account is
    signed out at once."""
    key = session_key(request.session)
    if key is None:
        return None
    try:
        return await sessions.authenticate_session(ctx, key)
    except Unauthenticated:
        request.session.clear()
        return None
