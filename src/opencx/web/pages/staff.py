"""Pages for supervisors and admins (the cockpit, the admin console): who may open them.

A visitor is sent to sign in; an agent signed in is told the page is not for them (403,
with the page's own ``forbidden`` template); a supervisor or an admin gets the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from opencx.core.permissions import Permission, Principal
from opencx.features.context import AppContext
from opencx.features.users.lookup import UserOut
from opencx.features.users.service import get_me
from opencx.web.pages.rendering import render
from opencx.web.pages.session import signed_in_user

__all__ = ["Staff", "staff_member"]


@dataclass(frozen=True, slots=True)
class Staff:
    """The supervisor or admin a page is rendered for."""

    principal: Principal
    me: UserOut


async def staff_member(request: Request, ctx: AppContext, *, forbidden: str) -> Staff | Response:
    """The signed-in supervisor or admin, or the response that turns anyone else away."""
    signed_in = await signed_in_user(request, ctx)
    if signed_in is None:
        return RedirectResponse("/login", status_code=303)
    me = await get_me(ctx, signed_in.principal)
    if not signed_in.principal.can(Permission.SUPERVISE):
        return render(request, forbidden, status=403, user_locale=me.locale, timezone=me.timezone)
    return Staff(signed_in.principal, me)
