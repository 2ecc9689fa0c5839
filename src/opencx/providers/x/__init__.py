"""X (Twitter) mentions and replies (API v2), as pure translators.

Requests as values and answers read; no I/O, no clock (``now`` is a parameter).

The account's secret is an OAuth 2.0 user access token (``tweet.read``,
``users.read``, ``tweet.write``) sent as a bearer token, bare or with the refresh token
that renews it (``offline.access``): ``read_credential``, ``write_credential``; when
``needs_refresh`` says so, the service trades it for new tokens (``refresh_request``,
``read_refresh``, ``read_refresh_error``; the rules are in ``_tokens``). It (1) lists the
account's mentions since the newest it saw: ``mentions_request``, ``parse_mentions``
(the mapping is written in ``_mentions``); (2) answers a post: ``check_reply`` (the
280 limit, counted as X counts: ``weighted_length``), ``reply_request``,
``read_reply``; ``read_error`` reads any refusal, with the end of a rate limit.

``PROVIDER`` is ``"twitter"`` (the channel accounts' name), the channel ``TWITTER``.
"""

from opencx.providers.x._length import MAX_WEIGHTED_LENGTH, weighted_length
from opencx.providers.x._mentions import (
    API_BASE,
    PAGE_SIZE,
    PROVIDER,
    mentions_request,
    parse_mentions,
)
from opencx.providers.x._replies import check_reply, read_error, read_reply, reply_request
from opencx.providers.x._tokens import (
    REFRESH_MARGIN,
    XCredential,
    needs_refresh,
    read_credential,
    read_refresh,
    read_refresh_error,
    refresh_request,
    write_credential,
)

__all__ = [
    "API_BASE",
    "MAX_WEIGHTED_LENGTH",
    "PAGE_SIZE",
    "PROVIDER",
    "REFRESH_MARGIN",
    "XCredential",
    "check_reply",
    "mentions_request",
    "needs_refresh",
    "parse_mentions",
    "read_credential",
    "read_error",
    "read_refresh",
    "read_refresh_error",
    "read_reply",
    "refresh_request",
    "reply_request",
    "weighted_length",
    "write_credential",
]
