"""Google Play reviews (androidpublisher v3), as pure translators.

Requests as values and answers read; no I/O, no clock (``now`` is a parameter).

The service (1) turns the account's service-account key into an access token:
``read_service_account``, ``token_request``, ``read_token`` (an ``AccessToken``, with
its lifetime); (2) lists reviews page by page: ``reviews_request``, ``parse_reviews``
(how a review maps, and how an edit is stored, is written in ``_reviews``); (3)
answers one: ``check_reply`` first, then ``reply_request`` and ``read_reply``;
``read_error`` reads any refusal.

``PROVIDER`` is ``"google_play"``, the channel ``REVIEW``.
"""

from opencx.providers.google_play._auth import (
    SCOPE,
    TOKEN_URL,
    AccessToken,
    ServiceAccount,
    read_service_account,
    read_token,
    token_request,
)
from opencx.providers.google_play._replies import (
    MAX_REPLY_LENGTH,
    check_reply,
    read_error,
    read_reply,
    reply_request,
    review_id_of,
)
from opencx.providers.google_play._reviews import (
    API_BASE,
    PAGE_SIZE,
    PROVIDER,
    parse_reviews,
    reviews_request,
)

__all__ = [
    "API_BASE",
    "MAX_REPLY_LENGTH",
    "PAGE_SIZE",
    "PROVIDER",
    "SCOPE",
    "TOKEN_URL",
    "AccessToken",
    "ServiceAccount",
    "check_reply",
    "parse_reviews",
    "read_error",
    "read_reply",
    "read_service_account",
    "read_token",
    "reply_request",
    "review_id_of",
    "reviews_request",
    "token_request",
]
