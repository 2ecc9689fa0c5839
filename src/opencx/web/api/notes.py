"""/api/v1/conversations/{id}/notes and /api/v1/notes/{id}: internal notes, with
@mentions, that customers never see."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from opencx.features.common import Page
from opencx.features.conversations import notes
from opencx.web.deps import ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(tags=["notes"])


@router.post(
    "/conversations/{conversation_id}/notes", status_code=201, response_model=notes.NoteOut
)
async def post_note(
    request: Request,
    ctx: ContextDep,
    principal: PrincipalDep,
    conversation_id: EntityId,
    body: notes.NoteCreate,
) -> JSONResponse:
    """Note on the conversation for agents and supervisors; everyone in ``mentions``
    must be able to read it (422 names those who cannot) and hears of it live."""
    return await created(
        request, ctx, principal, lambda: notes.post_note(ctx, principal, conversation_id, body)
    )


@router.get("/conversations/{conversation_id}/notes", response_model=Page[notes.NoteOut])
async def list_notes(
    ctx: ContextDep,
    principal: PrincipalDep,
    conversation_id: EntityId,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[notes.NoteOut]:
    """The conversation's notes, oldest first (transfers' notes among them)."""
    return await notes.list_notes(ctx, principal, conversation_id, cursor=cursor, limit=limit)


@router.get("/notes/{note_id}", response_model=notes.NoteOut)
async def get_note(ctx: ContextDep, principal: PrincipalDep, note_id: EntityId) -> notes.NoteOut:
    """One note (``note.created`` names it)."""
    return await notes.get_note(ctx, principal, note_id)
