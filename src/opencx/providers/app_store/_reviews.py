"""App Store customer reviews (App Store Connect API) in our terms.

``GET {api}/v1/apps/{id}/customerReviews?sort=-createdDate&limit=…`` answers a JSON:API
document: ``data[]`` of ``{type: customerReviews, id, attributes: {rating, title, body,
reviewerNickname, createdDate, territory}}``, and ``links.next``, the full URL of the
next page, while there is one.

Mapping:
- one review is one message: ``body`` is the text, ``title`` the subject, sent at
  ``createdDate``; ``provider_message_id`` is the review's ``id``;
- Apple gives no reviewer id: the sender is ``IdentityKind.EXTERNAL``
  ``app_store:{id}``, named by ``reviewerNickname``;
- ``metadata`` (strings): ``review_id``, ``rating`` (1 to 5), ``territory`` (ISO 3166-1
  alpha-3, the store the review was written in);
- the API tells neither when a review was edited nor its app version, so an edited
  review is not seen again;
- ``since`` (the newest ``createdDate`` an earlier poll saw): older reviews are left
  out, and a page reaching one ends the list;
- ``links.next`` is followed only on the API's own origin: the bearer token never goes
  anywhere else.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from opencx.core.enums import Channel, IdentityKind
from opencx.providers.base import InboundMessage, Sender, UnreadablePayload
from opencx.providers.rest import (
    ApiRequest,
    Json,
    Page,
    iso_datetime,
    load_object,
    not_older_than,
    objects,
    opt_int,
    opt_obj,
    opt_text,
    text,
)

__all__ = ["API_BASE", "PAGE_SIZE", "PROVIDER", "parse_reviews", "reviews_request"]

PROVIDER = "app_store"
API_BASE = "https://api.appstoreconnect.apple.com"
PAGE_SIZE = 100
_TYPE = "customerReviews"
_MAX_ID = 255
_MAX_META = 2000


def reviews_request(
    *,
    app_id: str,
    token: str,
    next_url: str | None = None,
    api_base: str | None = None,
) -> ApiRequest:
    """The first page (newest first), or the page ``links.next`` named."""
    headers = {"Authorization": f"Bearer {token}"}
    if next_url:
        return ApiRequest("GET", next_url, headers=headers)
    base = (api_base or API_BASE).rstrip("/")
    return ApiRequest(
        "GET",
        f"{base}/v1/apps/{quote(app_id, safe='')}/customerReviews",
        params={"sort": "-createdDate", "limit": str(PAGE_SIZE)},
        headers=headers,
    )


def parse_reviews(
    body: bytes, *, recipient: str, since: str | None, api_base: str | None = None
) -> Page:
    document = load_object(body, "the customer reviews page")
    dated = not_older_than(
        (
            _review(resource, recipient)
            for resource in objects(document, "data")
            if resource.get("type") == _TYPE
        ),
        since,
    )
    next_url = None if dated.reached else _next(document, api_base or API_BASE)
    return Page(dated.items, next_url, dated.newest)


def _review(resource: Json, recipient: str) -> InboundMessage:
    review_id = text(resource, "id")
    if len(review_id) > _MAX_ID:
        raise UnreadablePayload("a review id is too long")
    attributes = opt_obj(resource, "attributes") or {}
    nickname = opt_text(attributes, "reviewerNickname") or ""
    title = (opt_text(attributes, "title") or "").strip()
    found = {
        "review_id": review_id,
        "rating": opt_int(attributes, "rating"),
        "territory": opt_text(attributes, "territory"),
    }
    return InboundMessage(
        channel=Channel.REVIEW,
        provider=PROVIDER,
        provider_message_id=review_id,
        sender=Sender(IdentityKind.EXTERNAL, f"{PROVIDER}:{review_id}", nickname.strip()[:200]),
        recipient=recipient,
        text=(opt_text(attributes, "body") or "").strip(),
        subject=title or None,
        sent_at=iso_datetime(attributes.get("createdDate"), "a review's createdDate"),
        metadata={k: str(v)[:_MAX_META] for k, v in found.items() if v not in (None, "")},
    )


def _next(document: Json, api_base: str) -> str | None:
    links = opt_obj(document, "links") or {}
    next_url = opt_text(links, "next")
    if not next_url:
        return None
    if _origin(next_url) != _origin(api_base):
        raise UnreadablePayload("links.next leaves the App Store Connect API")
    return next_url


def _origin(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UnreadablePayload("links.next is not a URL") from None
    return parts.scheme.lower(), parts.netloc.lower()
