"""Public channels: Google Play and App Store reviews, and X mentions, polled and
answered through the providers' APIs.

``polling`` turns what the accounts receive into conversations (``poll_public_channels``,
run every five minutes by the ``poll_public_channels`` job); ``replies`` posts agents'
answers (``send_public_reply``, the outbound queue's ``PUBLIC_SENDER`` for the ``review``
and ``twitter`` channels). The requests and the reading of the answers are the pure
translators ``opencx.providers.google_play``, ``app_store`` and ``x``.
"""

from opencx.features.public_channels._sources import FIRST_POLL_WINDOW, PUBLIC_PROVIDERS
from opencx.features.public_channels.polling import (
    MAX_PAGES,
    RATE_LIMIT_BACKOFF,
    PollResult,
    poll_public_account,
    poll_public_channels,
)
from opencx.features.public_channels.replies import (
    PUBLIC_CHANNELS,
    PUBLIC_SENDER,
    send_public_reply,
)

__all__ = [
    "FIRST_POLL_WINDOW",
    "MAX_PAGES",
    "PUBLIC_CHANNELS",
    "PUBLIC_PROVIDERS",
    "PUBLIC_SENDER",
    "RATE_LIMIT_BACKOFF",
    "PollResult",
    "poll_public_account",
    "poll_public_channels",
    "send_public_reply",
]
