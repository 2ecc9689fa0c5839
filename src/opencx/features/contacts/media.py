"""Fetching the files customers send through providers (an MMS's images and PDFs, a
WhatsApp photo, a Messenger picture), which webhooks name but do not carry.

Rules:
- intake stores such a file with its message as a ``pending`` attachment; after the
  commit a job (``FETCH_MEDIA_JOB``, one per file) fetches it, and a sweep every minute
  takes any pending file that is due (its job lost, or a retry). Jobs run at least
  once: a file ``stored`` or ``failed`` is never fetched again, and one attempt at a
  time holds a file (``next_fetch_at`` moved past the longest attempt, committed
  before the provider is called);
- each provider's way (the pure requests of ``opencx.providers``): Twilio's
  ``MediaUrl`` with the account SID and auth token (basic auth); a WhatsApp media id
  exchanged for its URL through the Graph API, then fetched, both with the access
  token; a Messenger or Instagram ``payload.url`` as it is. Only ``http`` and
  ``https`` URLs are followed, with at most ``MAX_REDIRECTS`` redirects;
- at most ``intake.media_max_bytes`` are read (a larger file is refused as soon as its
  ``Content-Length`` or its bytes say so); its type is the one its bytes show
  (``filetype``), checked against ``intake.media_types`` (``opencx.core.media``), and a
  file that is not the type it claims is refused;
- a refusal another attempt cannot change (``404``, ``403``, too large, a type not
  accepted) fails the file at once, with its reason; no answer, ``401``, ``408``,
  ``429``, a ``5xx`` or a provider not configured yet is tried again with backoff
  (``opencx.core.retry``), up to ``intake.media_max_attempts`` attempts, then fails;
- every end (``stored``, ``failed``) appends ``message.attachment_changed`` for the
  conversation and is counted (``opencx_inbound_media_total``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import filetype
import httpx
import structlog
from sqlalchemy import select

from opencx.core.errors import InvalidInput, Unavailable
from opencx.core.events import EventType
from opencx.core.media import AttachmentStatus, judge_media
from opencx.core.retry import get_retry_decision
from opencx.db.models import Attachment, Conversation, Message
from opencx.features.contacts.metrics import intake_metrics
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.access import record_conversation_event
from opencx.features.conversations.attachments import safe_filename
from opencx.features.ports import HttpTransport
from opencx.features.transports import http_client
from opencx.providers import meta, twilio
from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import ApiRequest, is_retryable
from opencx.settings import Settings

__all__ = ["FETCH_MEDIA_JOB", "defer_media_fetches", "due_media_ids", "fetch_media"]

log = structlog.get_logger(__name__)

FETCH_MEDIA_JOB = "fetch_inbound_media"
MAX_REDIRECTS = 5
#: The Graph API's answer to a media id is a small JSON object.
MAX_LOOKUP_BYTES = 64 * 1024
_BASE_SECONDS = 30.0
_CAP_SECONDS = 3600.0
#: Types whose signature ``filetype`` knows: a file claiming one must show it.
_RECOGNISABLE = frozenset(kind.mime for kind in filetype.types) - {"application/octet-stream"}


@dataclass(frozen=True, slots=True)
class _Source:
    provider: str
    url: str | None
    media_id: str | None
    declared: str
    filename: str
    attempts: int


@dataclass(frozen=True, slots=True)
class _Fetched:
    data: bytes
    content_type: str | None


@dataclass(frozen=True, slots=True)
class _Refused:
    reason: str
    retryable: bool = False


async def defer_media_fetches(ctx: AppContext, message_id: int) -> None:
    """Defer one fetch per pending file of a message just committed."""
    async with transaction(ctx) as session:
        ids = list(
            await session.scalars(
                select(Attachment.id).where(
                    Attachment.message_id == message_id,
                    Attachment.status == AttachmentStatus.PENDING,
                )
            )
        )
    for attachment_id in ids:
        await ctx.jobs.defer(
            FETCH_MEDIA_JOB,
            {"attachment_id": attachment_id},
            queueing_lock=f"media:{attachment_id}",
        )


async def due_media_ids(ctx: AppContext, *, limit: int = 100) -> list[int]:
    """Pending files whose next attempt is due (the sweep fetches them)."""
    async with transaction(ctx) as session:
        rows = await session.scalars(
            select(Attachment.id)
            .where(
                Attachment.status == AttachmentStatus.PENDING,
                Attachment.next_fetch_at <= ctx.clock.now(),
            )
            .order_by(Attachment.id)
            .limit(limit)
        )
        return list(rows)


async def fetch_media(ctx: AppContext, attachment_id: int) -> AttachmentStatus | None:
    """Make one attempt at fetching a pending file; its status after it (``None``: not
    attempted, because it is not pending, not due, or held by another attempt)."""
    source = await _claim(ctx, attachment_id)
    if source is None:
        return None
    outcome = await _download(ctx.settings, ctx.http, source)
    if isinstance(outcome, _Fetched):
        return await _keep(ctx, attachment_id, source, outcome)
    return await _settle_refusal(ctx, attachment_id, source, outcome)


# --- one attempt at a time ------------------------------------------------------------


async def _claim(ctx: AppContext, attachment_id: int) -> _Source | None:
    now = ctx.clock.now()
    async with transaction(ctx) as session:
        row = await session.get(Attachment, attachment_id, with_for_update=True)
        if row is None or row.status is not AttachmentStatus.PENDING or row.message_id is None:
            return None
        due = row.next_fetch_at is None or row.next_fetch_at <= now
        if row.fetch_attempts > 0 and not due:
            return None
        message = await session.get(Message, row.message_id)
        assert message is not None
        row.fetch_attempts += 1
        row.next_fetch_at = now + _hold(ctx.settings)
        return _Source(
            provider=message.metadata_.get("provider", ""),
            url=row.source_url,
            media_id=row.media_id,
            declared=row.content_type,
            filename=row.filename,
            attempts=row.fetch_attempts,
        )


def _hold(settings: Settings) -> timedelta:
    """Longer than any attempt: two requests, each bounded by the timeout."""
    return timedelta(seconds=4 * settings.intake.media_timeout_seconds + 60)


# --- the provider ---------------------------------------------------------------------


async def _download(
    settings: Settings, http: HttpTransport, source: _Source
) -> _Fetched | _Refused:
    try:
        if source.media_id is not None and source.url is None:
            return await _whatsapp(settings, http, source.media_id)
        assert source.url is not None
        return await _get(settings, http, _request(settings, source.url, source.provider))
    except UnreadablePayload as exc:
        return _Refused(f"{source.provider}: {exc.detail}")


def _request(settings: Settings, url: str, provider: str) -> ApiRequest:
    if provider == twilio.PROVIDER:
        token = settings.twilio.auth_token
        return twilio.media_request(
            url,
            account_sid=settings.twilio.account_sid,
            auth_token=token.get_secret_value() if token is not None else None,
        )
    return meta.messenger_media_request(url)


async def _whatsapp(settings: Settings, http: HttpTransport, media_id: str) -> _Fetched | _Refused:
    """The media id exchanged for its URL, then the file, both with the access token."""
    if settings.meta.access_token is None:
        return _Refused(
            "Meta is not configured to fetch WhatsApp media: set OPENCX_META__ACCESS_TOKEN",
            retryable=True,
        )
    token = settings.meta.access_token.get_secret_value()
    lookup = meta.media_lookup_request(
        media_id,
        graph_base=settings.meta.graph_base,
        graph_version=settings.meta.graph_version,
        access_token=token,
    )
    found = await _get(settings, http, lookup, MAX_LOOKUP_BYTES)
    if isinstance(found, _Refused):
        return found
    location = meta.read_media_lookup(found.data)
    max_bytes = settings.intake.media_max_bytes
    if location.file_size is not None and location.file_size > max_bytes:
        return _Refused(f"the file is larger than {max_bytes} bytes")
    download = meta.media_download_request(location.url, access_token=token)
    fetched = await _get(settings, http, download)
    if isinstance(fetched, _Fetched) and location.mime_type:
        return _Fetched(fetched.data, location.mime_type)
    return fetched


async def _get(
    settings: Settings, http: HttpTransport, request: ApiRequest, max_bytes: int | None = None
) -> _Fetched | _Refused:
    """GET ``request``, reading at most ``max_bytes`` (the media limit by default)."""
    if max_bytes is None:
        max_bytes = settings.intake.media_max_bytes
    if urlsplit(request.url).scheme not in ("http", "https"):
        return _Refused("the provider named a file that is not at an http(s) URL")
    try:
        async with (
            http_client(
                http,
                timeout=settings.intake.media_timeout_seconds,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
            ) as client,
            client.stream("GET", request.url, headers=dict(request.headers)) as response,
        ):
            if response.status_code != 200:
                status = response.status_code
                return _Refused(f"the provider answered HTTP {status}", is_retryable(status))
            return await _read(response, max_bytes)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return _Refused(f"no answer from the provider ({type(exc).__name__})", retryable=True)


async def _read(response: httpx.Response, max_bytes: int) -> _Fetched | _Refused:
    too_large = _Refused(f"the file is larger than {max_bytes} bytes")
    length = response.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and int(length) > max_bytes:
        return too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            return too_large
        chunks.append(chunk)
    return _Fetched(b"".join(chunks), response.headers.get("content-type"))


# --- the outcome ----------------------------------------------------------------------


async def _keep(
    ctx: AppContext, attachment_id: int, source: _Source, fetched: _Fetched
) -> AttachmentStatus | None:
    kind = filetype.guess(fetched.data)
    verdict = judge_media(
        size=len(fetched.data),
        declared=fetched.content_type or source.declared,
        detected=kind.mime if kind is not None else None,
        recognisable=_RECOGNISABLE,
        allowed=ctx.settings.intake.media_types,
        max_bytes=ctx.settings.intake.media_max_bytes,
    )
    if verdict.content_type is None:
        return await _end(ctx, attachment_id, source, failed=verdict.reason or "refused")
    key = await ctx.blobs.put(fetched.data, content_type=verdict.content_type)
    filename = source.filename
    if kind is not None and "." not in filename:
        filename = safe_filename(f"{filename}.{kind.extension}")
    return await _end(
        ctx,
        attachment_id,
        source,
        stored=(key, fetched.data, verdict.content_type, filename),
    )


async def _settle_refusal(
    ctx: AppContext, attachment_id: int, source: _Source, refused: _Refused
) -> AttachmentStatus | None:
    error = Unavailable(refused.reason) if refused.retryable else InvalidInput(refused.reason)
    decision = get_retry_decision(
        source.attempts,
        error,
        max_attempts=ctx.settings.intake.media_max_attempts,
        base_seconds=_BASE_SECONDS,
        cap_seconds=_CAP_SECONDS,
    )
    if not decision.retry:
        return await _end(ctx, attachment_id, source, failed=refused.reason)
    log.info("inbound_media_retry", attachment_id=attachment_id, reason=refused.reason)
    intake_metrics(ctx).media.labels(source.provider, "retried").inc()
    async with transaction(ctx) as session:
        row = await session.get(Attachment, attachment_id, with_for_update=True)
        if row is not None and row.status is AttachmentStatus.PENDING:
            row.next_fetch_at = ctx.clock.now() + timedelta(seconds=decision.delay_seconds)
            row.failure_reason = refused.reason[:500]
    return AttachmentStatus.PENDING


async def _end(
    ctx: AppContext,
    attachment_id: int,
    source: _Source,
    *,
    stored: tuple[str, bytes, str, str] | None = None,
    failed: str | None = None,
) -> AttachmentStatus | None:
    async with transaction(ctx) as session:
        row = await session.get(Attachment, attachment_id, with_for_update=True)
        if row is None or row.status is not AttachmentStatus.PENDING:
            return None  # another attempt ended it first
        if stored is not None:
            key, data, content_type, filename = stored
            _fill(row, key, data, content_type, filename)
        else:
            row.status = AttachmentStatus.FAILED
            row.failure_reason = (failed or "")[:500]
        row.next_fetch_at = None
        conversation = await session.get(Conversation, row.conversation_id)
        assert conversation is not None
        assert row.message_id is not None
        await record_conversation_event(
            session,
            ctx,
            EventType.MESSAGE_ATTACHMENT_CHANGED,
            conversation,
            actor_user_id=None,
            payload={
                "attachment_id": row.id,
                "status": row.status.value,
                "reason": row.failure_reason,
                "filename": row.filename,
                "content_type": row.content_type,
                "size": row.size,
            },
            entity_kind="message",
            entity_id=row.message_id,
        )
        status = row.status
    intake_metrics(ctx).media.labels(source.provider, status.value).inc()
    if status is AttachmentStatus.FAILED:
        log.warning("inbound_media_failed", attachment_id=attachment_id, reason=failed)
    return status


def _fill(row: Attachment, key: str, data: bytes, content_type: str, filename: str) -> None:
    row.status = AttachmentStatus.STORED
    row.storage_key = key
    row.size = len(data)
    row.sha256 = hashlib.sha256(data).hexdigest()
    row.content_type = content_type
    row.filename = filename
    row.failure_reason = None
