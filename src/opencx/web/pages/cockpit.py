"""/cockpit: the supervisor's live floor, queues, agents and sites, steered in a click.

The page is rendered once; everything live after that comes over ``/ws/supervisor``
(snapshot then events, ``docs/realtime.md``) and the REST API, driven by the ES modules
under ``static/cockpit/`` (which share the desktop's socket, API and i18n modules). The
service level of the day comes from the interval report. Supervisors and admins only
(``supervise``); an agent signed in is told so (403), a visitor is sent to sign in.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from opencx.core.kpis import SHOWN_SERVICE_LEVEL
from opencx.core.permissions import Permission
from opencx.web.deps import ContextDep
from opencx.web.pages.rendering import render
from opencx.web.pages.staff import staff_member

__all__ = ["router"]

router = APIRouter()


@router.get("/cockpit")
async def cockpit(request: Request, ctx: ContextDep) -> Response:
    staff = await staff_member(request, ctx, forbidden="cockpit/forbidden.html")
    if isinstance(staff, Response):
        return staff
    principal, me = staff.principal, staff.me
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
