"""/admin: the admin console, where a business team configures the platform.

The page is rendered once, with what the browser cannot ask the API for cheaply (who is
signed in, what their role may change, the CSRF token and the texts in their language);
the ES modules under ``static/admin/`` then read and write through the REST API, one
module per section. Each section has its own path (``/admin/queues``) so it can be
linked. Admins change everything; supervisors read, and rehearse routing; the API
enforces the same rules whatever the page shows (``docs/admin.md``).
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from opencx.core.errors import NotFound
from opencx.core.permissions import Permission
from opencx.web.deps import ContextDep
from opencx.web.pages.rendering import render
from opencx.web.pages.staff import staff_member

__all__ = ["SECTIONS", "router"]

router = APIRouter()

#: The console's sections, in the order of its side navigation; the first is the default.
SECTIONS: Final = (
    "queues",
    "hours",
    "routing",
    "users",
    "teams",
    "sites",
    "skills",
    "reasons",
    "canned",
    "knowledge",
    "channels",
    "connectors",
    "audit",
)
#: What each section needs beyond opening the console; a section one may not open is not shown.
NEEDS: Final = {
    "users": Permission.USERS_READ,
    "connectors": Permission.CONNECTORS_MANAGE,
    "audit": Permission.AUDIT_READ,
}


@router.get("/admin")
async def admin(request: Request, ctx: ContextDep) -> Response:
    return await _console(request, ctx, SECTIONS[0])


@router.get("/admin/{section}")
async def admin_section(request: Request, ctx: ContextDep, section: str) -> Response:
    """The console opened on one section; a section that does not exist is not found."""
    if section not in SECTIONS:
        raise NotFound(f"the admin console has no section {section!r}")
    return await _console(request, ctx, section)


async def _console(request: Request, ctx: ContextDep, section: str) -> Response:
    staff = await staff_member(request, ctx, forbidden="admin/forbidden.html")
    if isinstance(staff, Response):
        return staff
    principal, me = staff.principal, staff.me
    sections = [s for s in SECTIONS if s not in NEEDS or principal.can(NEEDS[s])]
    return render(
        request,
        "admin/page.html",
        user_locale=me.locale,
        timezone=me.timezone,
        user=me,
        sections=sections,
        section=section if section in sections else sections[0],
        can={
            "directory": principal.can(Permission.DIRECTORY_WRITE),
            "users": principal.can(Permission.USERS_WRITE),
            "audit": principal.can(Permission.AUDIT_READ),
            "canned_any": principal.can(Permission.CANNED_WRITE_ANY),
            "canned_team": principal.can(Permission.CANNED_WRITE_TEAM),
            "knowledge": principal.can(Permission.KNOWLEDGE_WRITE),
            "connectors": principal.can(Permission.CONNECTORS_MANAGE),
        },
    )
