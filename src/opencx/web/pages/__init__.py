"""Server-rendered pages: sign-in, sign-out, the home page, the agent desktop and the
supervisor cockpit and the admin console, in the reader's language."""

from __future__ import annotations

from fastapi import APIRouter

from opencx.web.pages import admin, auth, cockpit, desktop, home
from opencx.web.pages.rendering import STATIC_DIR, TEMPLATES_DIR

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "pages_router"]


def pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for module in (auth, home, desktop, cockpit, admin):
        router.include_router(module.router)
    return router
