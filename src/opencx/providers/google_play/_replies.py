"""Answering a Google Play review, and reading Google's refusals.

``POST {api}/androidpublisher/v3/applications/{packageName}/reviews/{reviewId}:reply``
with ``{"replyText": ...}`` answers ``{"result": {"replyText", "lastEdited"}}``. A
review has at most one developer reply: posting again replaces it. Google refuses a
reply longer than about 350 characters (and strips HTML), so a longer one is refused
here, before anything is sent.

A reply has no id of its own: we keep ``{reviewId}#reply@{lastEdited}`` (seconds and
nanoseconds), distinct for each reply that replaced the one before.

Refusals: the API answers ``{"error": {"code", "message", "status"}}``; the token
endpoint ``{"error": "invalid_grant", "error_description": ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote

from opencx.providers.base import UnreadablePayload
from opencx.providers.google_play._reviews import reviews_url
from opencx.providers.rest import (
    ApiError,
    ApiRequest,
    Posted,
    is_retryable,
    load_object,
    obj,
    opt_int,
    opt_obj,
    opt_text,
    retry_after,
    unix_datetime,
)

__all__ = [
    "MAX_REPLY_LENGTH",
    "check_reply",
    "read_error",
    "read_reply",
    "reply_request",
    "review_id_of",
]

#: Google's limit on a reply's length.
MAX_REPLY_LENGTH = 350
_LABEL = "Google Play"


def review_id_of(provider_message_id: str) -> str:
    """The ``reviewId`` of a stored review (``{reviewId}@{seconds}``)."""
    review_id, _, _ = provider_message_id.rpartition("@")
    return review_id or provider_message_id


def check_reply(text: str) -> str | None:
    """Why Google would refuse this reply, if it would; ``None`` when it may go."""
    if not text.strip():
        return "an empty reply cannot be posted to a review"
    if len(text) > MAX_REPLY_LENGTH:
        return (
            f"Google Play refuses replies longer than {MAX_REPLY_LENGTH} characters "
            f"(this one has {len(text)})"
        )
    return None


def reply_request(
    *,
    package_name: str,
    review_id: str,
    text: str,
    access_token: str,
    api_base: str | None = None,
) -> ApiRequest:
    url = f"{reviews_url(api_base, package_name)}/{quote(review_id, safe=':')}:reply"
    return ApiRequest(
        "POST",
        url,
        json={"replyText": text},
        headers={"Authorization": f"Bearer {access_token}"},
    )


def read_reply(body: bytes, *, review_id: str) -> Posted:
    """The reply Google applied; the id we keep for it names the review and its time."""
    answer = load_object(body, "the reply answer")
    result = opt_obj(answer, "result") or {}
    edited = opt_obj(result, "lastEdited")
    if edited is None:
        return Posted(f"{review_id}#reply")
    seconds = opt_int(edited, "seconds")
    if seconds is None:
        raise UnreadablePayload("the reply's lastEdited has no seconds")
    nanos = opt_int(edited, "nanos") or 0
    return Posted(f"{review_id}#reply@{seconds}.{nanos:09d}", unix_datetime(seconds, "lastEdited"))


def read_error(
    status: int | None, headers: Mapping[str, str], body: bytes, *, now: datetime
) -> ApiError:
    """What Google's refusal says, from the API or from the token endpoint."""
    message, code = _explain(body)
    return ApiError(
        provider=_LABEL,
        status=status,
        message=message or _fallback(status),
        code=code,
        retryable=is_retryable(status),
        retry_at=retry_after(headers, now=now),
    )


def _explain(body: bytes) -> tuple[str | None, str | None]:
    try:
        answer = load_object(body, "the error")
        error = answer.get("error")
        if isinstance(error, str):  # the token endpoint (OAuth 2.0)
            return opt_text(answer, "error_description") or error, error
        details = obj(error, "'error'")
        return opt_text(details, "message"), opt_text(details, "status")
    except UnreadablePayload:
        text = body.decode("utf-8", "replace").strip()
        return (text[:300] or None), None


def _fallback(status: int | None) -> str:
    return "no answer" if status is None else "refused without an explanation"
