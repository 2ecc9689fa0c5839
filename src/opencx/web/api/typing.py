"""/api/v1/conversations/{id}/typing: an agent tells a chat visitor they are typing."""

from __future__ import annotations

from fastapi import APIRouter, Response

from opencx.features.chat.agents import signal_typing
from opencx.web.deps import ContextDep, EntityId, PrincipalDep

router = APIRouter(tags=["conversations"])


@router.post("/conversations/{conversation_id}/typing", status_code=204)
async def typing(ctx: ContextDep, principal: PrincipalDep, conversation_id: EntityId) -> Response:
    """Show "… is typing" to the chat's visitor for a few seconds (nothing is stored)."""
    await signal_typing(ctx, principal, conversation_id)
    return Response(status_code=204)
