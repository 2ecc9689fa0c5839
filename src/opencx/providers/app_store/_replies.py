"""Answering an App Store review, and reading Apple's refusals.

``POST {api}/v1/customerReviewResponses`` with ``{"data": {"type":
"customerReviewResponses", "attributes": {"responseBody"}, "relationships": {"review":
{"data": {"type": "customerReviews", "id"}}}}}`` answers ``201`` with the response
resource (``id``, ``attributes.responseBody``, ``lastModifiedDate``, ``state``:
``PENDING_PUBLISH`` until the App Store shows it). A review has at most one response:
posting again replaces it, so we keep ``{responseId}@{lastModifiedDate}`` (or the time
we sent it), distinct for each reply that replaced the one before.

Refusals are ``{"errors": [{"status", "code", "title", "detail"}]}``; a rate limit is a
``429`` with ``RATE_LIMITED`` and no reset time (the limit is per rolling hour).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from opencx.providers.app_store._reviews import API_BASE
from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import (
    ApiError,
    ApiRequest,
    Posted,
    is_retryable,
    iso_datetime,
    load_object,
    obj,
    objects,
    opt_obj,
    opt_text,
    retry_after,
    text,
)

__all__ = ["check_reply", "read_error", "read_reply", "reply_request"]

_LABEL = "App Store Connect"


def check_reply(text: str) -> str | None:
    """Why Apple would refuse this reply before sending it; ``None`` when it may go."""
    if not text.strip():
        return "an empty reply cannot be posted to a review"
    return None


def reply_request(
    *, review_id: str, text: str, token: str, api_base: str | None = None
) -> ApiRequest:
    base = (api_base or API_BASE).rstrip("/")
    body = {
        "data": {
            "type": "customerReviewResponses",
            "attributes": {"responseBody": text},
            "relationships": {"review": {"data": {"type": "customerReviews", "id": review_id}}},
        }
    }
    return ApiRequest(
        "POST",
        f"{base}/v1/customerReviewResponses",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )


def read_reply(body: bytes, *, now: datetime) -> Posted:
    document = load_object(body, "the review response")
    data = obj(document.get("data"), "'data'")
    response_id = text(data, "id")
    attributes = opt_obj(data, "attributes") or {}
    raw = attributes.get("lastModifiedDate")
    at = now if raw is None else iso_datetime(raw, "the response's lastModifiedDate")
    return Posted(f"{response_id}@{int(at.timestamp())}", at)


def read_error(
    status: int | None, headers: Mapping[str, str], body: bytes, *, now: datetime
) -> ApiError:
    message, code = _explain(body)
    return ApiError(
        provider=_LABEL,
        status=status,
        message=message or ("no answer" if status is None else "refused without an explanation"),
        code=code,
        retryable=is_retryable(status),
        retry_at=retry_after(headers, now=now),
    )


def _explain(body: bytes) -> tuple[str | None, str | None]:
    try:
        errors = objects(load_object(body, "the error"), "errors")
    except UnreadablePayload:
        raw = body.decode("utf-8", "replace").strip()
        return (raw[:300] or None), None
    if not errors:
        return None, None
    first = errors[0]
    try:
        title, detail = opt_text(first, "title"), opt_text(first, "detail")
        code = opt_text(first, "code")
    except UnreadablePayload:
        return None, None
    message = ": ".join(part for part in (title, detail) if part) or None
    return message, code
