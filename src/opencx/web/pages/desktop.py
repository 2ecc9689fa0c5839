"""/desktop: the agent desktop, one page where agents take and answer every contact.

The page is rendered once; everything live after that comes over ``/ws/agent`` (snapshot
then events) and the REST API, driven by the ES modules under ``static/desktop/``. The
server gives the page what it cannot ask the API for cheaply: who is signed in, the
CSRF token for the API, the reason codes and the texts in the reader's language.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from opencx.core.errors import NotFound
from opencx.core.permissions import Permission
from opencx.core.presence import NOT_READY_REASONS
from opencx.features.conversations.conversations import get_conversation
from opencx.features.users.service import get_me
from opencx.web.deps import ContextDep, EntityId
from opencx.web.pages.rendering import render
from opencx.web.pages.session import signed_in_user

__all__ = ["router"]

router = APIRouter()

#: The reasons an agent picks from the presence menu, in the order shown; the others
#: (``missed_offers``) are set by routing, and shown when they are.
OFFERED_REASONS = ("break", "lunch", "training", "meeting", "admin", "coaching")
assert set(OFFERED_REASONS) <= NOT_READY_REASONS


@router.get("/desktop")
async def desktop(request: Request, ctx: ContextDep) -> Response:
    return await _desktop(request, ctx, conversation_id=None)


@router.get("/desktop/conversations/{conversation_id}")
async def desktop_conversation(
    request: Request, ctx: ContextDep, conversation_id: EntityId
) -> Response:
    """The desktop with one conversation open: a link to share, or to come back to.
    A conversation the agent may not read is not found, as in the API."""
    return await _desktop(request, ctx, conversation_id=conversation_id)


async def _desktop(request: Request, ctx: ContextDep, *, conversation_id: int | None) -> Response:
    signed_in = await signed_in_user(request, ctx)
    if signed_in is None:
        return RedirectResponse("/login", status_code=303)
    if not signed_in.principal.can(Permission.PRESENCE_SET_OWN):
        return RedirectResponse("/", status_code=303)
    me = await get_me(ctx, signed_in.principal)
    if conversation_id is not None:
        try:
            await get_conversation(ctx, signed_in.principal, conversation_id)
        except NotFound:
            return render(
                request,
                "desktop/not_found.html",
                status=404,
                user_locale=me.locale,
                timezone=me.timezone,
            )
    return render(
        request,
        "desktop/page.html",
        user_locale=me.locale,
        timezone=me.timezone,
        user=me,
        reasons=OFFERED_REASONS,
        all_reasons=sorted(NOT_READY_REASONS),
        open_conversation=conversation_id,
    )
