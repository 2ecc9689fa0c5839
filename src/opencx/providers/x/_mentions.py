"""X (Twitter) mentions (API v2 ``GET /2/users/:id/mentions``) in our terms.

The answer is ``{"data": [posts], "includes": {"users": [...]}, "meta": {newest_id,
oldest_id, result_count, next_token}}``, newest first; asked with ``since_id``, it holds
only posts newer than that id, ``next_token`` leading to older pages of the same set.

Mapping:
- one post is one message; ``provider_message_id`` is its id; the text is X's, its
  HTML entities (``&amp;``, ``&lt;``, ``&gt;``) decoded;
- the sender is ``IdentityKind.TWITTER``, the author's numeric user id (a username can
  change, the id cannot), named from ``includes.users``;
- ``thread_refs``: the post it replies to, its ``conversation_id`` (the thread's first
  post) and the earlier versions of an edited post, so a thread is one conversation;
- ``metadata`` (strings): ``username``, ``conversation_id``, ``in_reply_to`` (the post
  answered), ``in_reply_to_user_id``, ``lang`` and ``url`` (the post on x.com);
- our own posts and reposts (retweets) give nothing: nobody is asking us anything;
- partial ``errors`` X adds beside the data (a deleted author) are ignored.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from urllib.parse import quote

from opencx.core.enums import Channel, IdentityKind
from opencx.providers.base import InboundMessage, Sender, UnreadablePayload
from opencx.providers.rest import (
    ApiRequest,
    Json,
    Page,
    iso_datetime,
    load_object,
    objects,
    opt_obj,
    opt_text,
    text,
)

__all__ = ["API_BASE", "PAGE_SIZE", "PROVIDER", "mentions_request", "parse_mentions"]

PROVIDER = "twitter"
API_BASE = "https://api.x.com"
PAGE_SIZE = 100
TWEET_FIELDS = (
    "created_at,author_id,conversation_id,in_reply_to_user_id,lang,referenced_tweets,"
    "edit_history_tweet_ids"
)
_MAX_ID = 64


def mentions_request(
    *,
    user_id: str,
    access_token: str,
    since_id: str | None = None,
    pagination_token: str | None = None,
    start_time: datetime | None = None,
    api_base: str | None = None,
) -> ApiRequest:
    """One page of mentions: newer than ``since_id``, or, for an account polled for the
    first time, written from ``start_time`` on."""
    base = (api_base or API_BASE).rstrip("/")
    params = {
        "max_results": str(PAGE_SIZE),
        "tweet.fields": TWEET_FIELDS,
        "expansions": "author_id",
        "user.fields": "name,username",
    }
    if since_id:
        params["since_id"] = since_id
    elif start_time is not None:
        params["start_time"] = start_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if pagination_token:
        params["pagination_token"] = pagination_token
    return ApiRequest(
        "GET",
        f"{base}/2/users/{quote(user_id, safe='')}/mentions",
        params=params,
        headers={"Authorization": f"Bearer {access_token}"},
    )


def parse_mentions(body: bytes, *, user_id: str, recipient: str) -> Page:
    """The mentions on one page (``since_id`` was applied by X), and where to go on."""
    page = load_object(body, "the mentions page")
    users = _users(opt_obj(page, "includes") or {})
    items = [
        item
        for post in objects(page, "data")
        if (item := _post(post, users, user_id, recipient)) is not None
    ]
    meta = opt_obj(page, "meta") or {}
    newest = (
        _newest(objects(page, "data")) if meta.get("newest_id") is None else _id(meta, "newest_id")
    )
    return Page(tuple(items), opt_text(meta, "next_token") or None, newest)


def _users(includes: Json) -> dict[str, Json]:
    return {text(user, "id"): user for user in objects(includes, "users")}


def _post(
    post: Json, users: dict[str, Json], user_id: str, recipient: str
) -> InboundMessage | None:
    post_id = _id(post, "id")
    author_id = _id(post, "author_id")
    references = dict(_references(post))
    if author_id == user_id or "retweeted" in references:
        return None
    author = users.get(author_id, {})
    conversation_id = opt_text(post, "conversation_id")
    earlier = [ref for ref in _strings(post, "edit_history_tweet_ids") if ref != post_id]
    replied_to = references.get("replied_to")
    refs = [ref for ref in (conversation_id, *earlier, replied_to) if ref and ref != post_id]
    return InboundMessage(
        channel=Channel.TWITTER,
        provider=PROVIDER,
        provider_message_id=post_id,
        sender=Sender(IdentityKind.TWITTER, author_id, (opt_text(author, "name") or "")[:200]),
        recipient=recipient,
        text=html.unescape(opt_text(post, "text") or ""),
        sent_at=_created(post),
        thread_refs=tuple(dict.fromkeys(refs)),
        metadata=_details(post, post_id, opt_text(author, "username"), replied_to),
    )


def _created(post: Json) -> datetime | None:
    raw = post.get("created_at")
    return None if raw is None else iso_datetime(raw, "a post's created_at")


def _details(
    post: Json, post_id: str, username: str | None, replied_to: str | None
) -> dict[str, str]:
    found = {
        "username": username,
        "conversation_id": opt_text(post, "conversation_id"),
        "in_reply_to": replied_to,
        "in_reply_to_user_id": opt_text(post, "in_reply_to_user_id"),
        "lang": opt_text(post, "lang"),
        "url": f"https://x.com/{username}/status/{post_id}" if username else None,
    }
    return {key: value for key, value in found.items() if value}


def _id(post: Json, key: str) -> str:
    value = text(post, key)
    if len(value) > _MAX_ID or not (value.isascii() and value.isdigit()):
        raise UnreadablePayload(f"{key!r} is not an X id")
    return value


def _references(post: Json) -> list[tuple[str, str]]:
    return [(text(ref, "type"), _id(ref, "id")) for ref in objects(post, "referenced_tweets")]


def _strings(post: Json, key: str) -> list[str]:
    value = post.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UnreadablePayload(f"{key!r} is not a list of ids")
    return value


def _newest(posts: list[Json]) -> str | None:
    ids = [_id(post, "id") for post in posts]
    return max(ids, key=lambda value: (len(value), value)) if ids else None
