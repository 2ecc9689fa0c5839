"""App Store customer reviews (App Store Connect API), as pure translators.

Requests as values and answers read; no I/O, no clock (``now`` is a parameter).

The service (1) signs a short-lived API token with the account's ``.p8`` key:
``api_token``; (2) lists reviews newest first, page by page: ``reviews_request``,
``parse_reviews`` (the mapping is written in ``_reviews``); (3) answers one:
``check_reply``, ``reply_request``, ``read_reply``; ``read_error`` reads any refusal.

``PROVIDER`` is ``"app_store"``, the channel ``REVIEW``.
"""

from opencx.providers.app_store._auth import AUDIENCE, TOKEN_LIFETIME, api_token
from opencx.providers.app_store._replies import check_reply, read_error, read_reply, reply_request
from opencx.providers.app_store._reviews import (
    API_BASE,
    PAGE_SIZE,
    PROVIDER,
    parse_reviews,
    reviews_request,
)

__all__ = [
    "API_BASE",
    "AUDIENCE",
    "PAGE_SIZE",
    "PROVIDER",
    "TOKEN_LIFETIME",
    "api_token",
    "check_reply",
    "parse_reviews",
    "read_error",
    "read_reply",
    "reply_request",
    "reviews_request",
]
