"""/cockpit: the supervisor's live floor, queues, agents and sites, steered in a click.

The page is rendered once; everything live after that comes over ``/ws/supervisor``
(snapshot then events, ``docs/realtime.md``) and the REST API, driven by the ES modules
under ``static/cockpit/`` (which share the desktop's socket, API and i18n modules). The
service level of the day comes from the interval report. Supervisors and admins only
(``supervise``); an agent signed in is told so (403), a visitor is sent to sign in.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from opencx.core.kpis import SHOWN_SERVICE_LEVEL
from opencx.core.permissions import Permission
from opencx.features.users.service import get_me
from opencx.web.deps import ContextDep
from opencx.web.pages.rendering import render
from opencx.web.pages.session import signed_in_user

__all__ = ["router"]

router = APIRouter()


@router.get("/cockpit")
async def cockpit(request: Request, ctx: ContextDep) -> Response:
    signed_in = await signed_in_user(request, ctx)
    if signed_in is None:
        return RedirectResponse("/login", status_code=303)
    principal = signed_in.principal
    me = await get_me(ctx, principal)
    if not principal.can(Permission.SUPERVISE):
        return render(
            request,
            "cockpit/forbidden.html",
            status=403,
            user_locale=me.locale,
            timezone=me.timezone,
        )
    return render(
        request,
        "cockpit/page.html",
        user_locale=me.locale,
        timezone=me.timezone,
        user=me,
        can_steer=principal.can(Permission.SITES_STEER),
        can_report=principal.can(Permission.REPORTS_READ),
        can_set_thresholds=principal.can(Permission.QUEUES_THRESHOLDS),
        can_set_presence=principal.can(Permission.PRESENCE_SET_ANY),
        can_reassign=principal.can(Permission.CONVERSATIONS_WRITE),
        service_level_variant=SHOWN_SERVICE_LEVEL.value,
    )
