"""Server-rendered pages: sign-in, sign-out, the home page, the agent desktop and the
supervisor cockpit, in the reader's language."""

from __future__ import annotations

from fastapi import APIRouter

from opencx.web.pages import auth, cockpit, desktop, home
from opencx.web.pages.rendering import STATIC_DIR, TEMPLATES_DIR

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "pages_router"]


def pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for module in (auth, home, desktop, cockpit):
        router.include_router(module.router)
    return router
