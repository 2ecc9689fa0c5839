"""/api/v1/conversations/{id}/messages, /api/v1/messages and attachments."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from opencx.core.enums import Channel
from opencx.core.permissions import Principal
from opencx.features import conversations
from opencx.features.common import Page
from opencx.features.context import AppContext
from opencx.web.deps import ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.errors import PROBLEM_TYPE, Problem
from opencx.web.idempotent import created, created_or_found

router = APIRouter(tags=["messages"])

_TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "content": {PROBLEM_TYPE: {}}, "description": "Payload too large"}
}


@router.get(
    "/conversations/{conversation_id}/messages", response_model=Page[conversations.MessageOut]
)
async def list_messages(
    ctx: ContextDep,
    principal: PrincipalDep,
    conversation_id: EntityId,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[conversations.MessageOut]:
    return await conversations.list_messages(
        ctx, principal, conversation_id, cursor=cursor, limit=limit
    )


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=201,
    response_model=conversations.MessageOut,
    responses={200: {"model": conversations.MessageOut, "description": "Already stored"}},
)
async def post_message(
    request: Request,
    ctx: ContextDep,
    principal: PrincipalDep,
    conversation_id: EntityId,
    body: conversations.MessageCreate,
) -> JSONResponse:
    """201 when stored; 200 with the stored message when ``(channel,
    provider_message_id)`` was posted before."""
    return await created_or_found(
        request,
        ctx,
        principal,
        lambda: conversations.post_message(ctx, principal, conversation_id, body),
    )


@router.get("/messages", response_model=Page[conversations.MessageOut])
async def find_messages(
    ctx: ContextDep,
    principal: PrincipalDep,
    provider_message_id: Annotated[str, Query(min_length=1, max_length=257)],
    channel: Channel | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[conversations.MessageOut]:
    """The messages stored under a provider's id: an e-mail's Message-ID (angle brackets
    optional), a Twilio SID, a WhatsApp wamid, a Messenger mid; one per channel at most."""
    return await conversations.find_messages(
        ctx,
        principal,
        provider_message_id=provider_message_id,
        channel=channel,
        cursor=cursor,
        limit=limit,
    )


@router.get("/messages/{message_id}", response_model=conversations.MessageOut)
async def get_message(
    ctx: ContextDep, principal: PrincipalDep, message_id: EntityId
) -> conversations.MessageOut:
    return await conversations.get_message(ctx, principal, message_id)


@router.post(
    "/messages/{message_id}/attachments",
    status_code=201,
    response_model=conversations.AttachmentOut,
    responses=_TOO_LARGE,
)
async def upload_attachment(
    request: Request,
    ctx: ContextDep,
    principal: PrincipalDep,
    message_id: EntityId,
    file: Annotated[UploadFile, File()],
    inline: Annotated[bool, Form()] = False,
) -> JSONResponse:
    """A file added to a stored message: an inbound one, or one nobody is sent."""
    return await _store_upload(
        request, ctx, principal, file, inline, conversations.add_attachment, message_id
    )


@router.post(
    "/conversations/{conversation_id}/attachments",
    status_code=201,
    response_model=conversations.AttachmentOut,
    responses=_TOO_LARGE,
)
async def upload_file(
    request: Request,
    ctx: ContextDep,
    principal: PrincipalDep,
    conversation_id: EntityId,
    file: Annotated[UploadFile, File()],
    inline: Annotated[bool, Form()] = False,
) -> JSONResponse:
    """A file for an answer not yet written: name its id in the answer's
    ``attachment_ids`` to send it."""
    return await _store_upload(
        request, ctx, principal, file, inline, conversations.upload_file, conversation_id
    )


async def _store_upload(
    request: Request,
    ctx: AppContext,
    principal: Principal,
    file: UploadFile,
    inline: bool,
    store: Callable[..., Awaitable[conversations.AttachmentOut]],
    owner_id: int,
) -> JSONResponse:
    """201 with the stored file; a retried ``Idempotency-Key`` answers the first one."""
    fingerprint = f"{file.filename}\n{file.content_type}\n{file.size}\n{inline}".encode()
    return await created(
        request,
        ctx,
        principal,
        lambda: store(
            ctx,
            principal,
            owner_id,
            filename=file.filename,
            content_type=file.content_type,
            read=file.read,
            inline=inline,
        ),
        fingerprint=fingerprint,
    )


@router.get(
    "/attachments/{attachment_id}/content",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file"}},
)
async def download_attachment(
    ctx: ContextDep, principal: PrincipalDep, attachment_id: EntityId
) -> Response:
    content = await conversations.read_attachment(ctx, principal, attachment_id)
    return Response(
        content=content.data,
        media_type=content.content_type,
        headers={
            "Content-Disposition": content_disposition(content.filename),
            "X-Content-Type-Options": "nosniff",
        },
    )


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name (RFC 6266, 8187)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
