"""``/media/{token}/{name}``: the files of an answer, for the providers that download
them (see ``opencx.features.conversations.media_links``). The signed token is the
authorisation, so the route is outside the API and its OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from opencx.features.conversations.media_links import MEDIA_PATH, read_media
from opencx.web.api.messages import content_disposition
from opencx.web.deps import ContextDep

__all__ = ["router"]

router = APIRouter(prefix=MEDIA_PATH, include_in_schema=False)


@router.api_route("/{token}/{name}", methods=["GET", "HEAD"])
async def media(ctx: ContextDep, token: str, name: str) -> Response:
    content = await read_media(ctx, token)
    return Response(
        content=content.data,
        media_type=content.content_type,
        headers={
            "Content-Disposition": content_disposition(content.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )
