"""/: the signed-in home page, with the way to the agent desktop."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from opencx.features.users.service import get_me
from opencx.web.deps import ContextDep
from opencx.web.pages.rendering import render
from opencx.web.pages.session import signed_in_user

__all__ = ["router"]

router = APIRouter()


@router.get("/")
async def home(request: Request, ctx: ContextDep) -> Response:
    signed_in = await signed_in_user(request, ctx)
    if signed_in is None:
        return RedirectResponse("/login", status_code=303)
    me = await get_me(ctx, signed_in.principal)
    return render(
        request,
        "home.html",
        user_locale=me.locale,
        timezone=me.timezone,
        user=me,
        role=me.role.value,
        now=ctx.clock.now(),
    )
