"""Answering on X, and reading X's refusals.

``POST {api}/2/tweets`` with ``{"text", "reply": {"in_reply_to_tweet_id"}}`` answers
``201`` ``{"data": {"id", "text"}}``; X adds the @mentions of the thread itself, and
they do not count towards the limit. A post weighs at most 280 (``weighted_length``):
a longer one is refused here, before anything is sent.

Refusals come in two shapes: a problem document ``{"title", "detail", "type",
"status"}`` and ``{"errors": [{"code", "message"}]}``. A rate limit (``429``) says when
it ends in ``x-rate-limit-reset`` (Unix seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import (
    ApiError,
    ApiRequest,
    Json,
    Posted,
    header,
    is_retryable,
    load_object,
    obj,
    objects,
    opt_text,
    retry_after,
    text,
    unix_datetime,
)
from opencx.providers.x._length import MAX_WEIGHTED_LENGTH, weighted_length
from opencx.providers.x._mentions import API_BASE

__all__ = ["check_reply", "read_error", "read_reply", "reply_request"]

_LABEL = "X"
_MAX_RESET_DIGITS = 12


def check_reply(text: str) -> str | None:
    """Why X would refuse this post before sending it; ``None`` when it may go."""
    if not text.strip():
        return "an empty post cannot be sent to X"
    weight = weighted_length(text)
    if weight > MAX_WEIGHTED_LENGTH:
        return (
            f"X refuses posts longer than {MAX_WEIGHTED_LENGTH} characters as X counts them "
            f"(this one counts {weight}: links count 23, emoji and CJK characters 2)"
        )
    return None


def reply_request(
    *, text: str, in_reply_to: str, access_token: str, api_base: str | None = None
) -> ApiRequest:
    base = (api_base or API_BASE).rstrip("/")
    return ApiRequest(
        "POST",
        f"{base}/2/tweets",
        json={"text": text, "reply": {"in_reply_to_tweet_id": in_reply_to}},
        headers={"Authorization": f"Bearer {access_token}"},
    )


def read_reply(body: bytes) -> Posted:
    data = obj(load_object(body, "the post answer").get("data"), "'data'")
    post_id = text(data, "id")
    if not (post_id.isascii() and post_id.isdigit()):
        raise UnreadablePayload("the new post's id is not an X id")
    return Posted(post_id)


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
        retry_at=_reset(headers) if status == 429 else retry_after(headers, now=now),
    )


def _reset(headers: Mapping[str, str]) -> datetime | None:
    raw = (header(headers, "x-rate-limit-reset") or "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= _MAX_RESET_DIGITS):
        return None
    try:
        return unix_datetime(int(raw), "x-rate-limit-reset")
    except UnreadablePayload:
        return None


def _explain(body: bytes) -> tuple[str | None, str | None]:
    try:
        answer = load_object(body, "the error")
        return _problem(answer) or _errors(answer) or (None, None)
    except UnreadablePayload:
        raw = body.decode("utf-8", "replace").strip()
        return (raw[:300] or None), None


def _problem(answer: Json) -> tuple[str | None, str | None] | None:
    detail, title = opt_text(answer, "detail"), opt_text(answer, "title")
    if not (detail or title):
        return None
    message = f"{title}: {detail}" if title and detail and title not in detail else detail or title
    problem = opt_text(answer, "type")
    return message, None if problem in (None, "about:blank") else problem


def _errors(answer: Json) -> tuple[str | None, str | None] | None:
    errors = objects(answer, "errors")
    if not errors:
        return None
    first = errors[0]
    code = first.get("code")
    return (
        opt_text(first, "message") or opt_text(first, "detail"),
        None if code is None or isinstance(code, bool) else str(code)[:40],
    )
