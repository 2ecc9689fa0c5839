"""Meta webhooks: WhatsApp Cloud API, Messenger and Instagram, as pure translators.

Bytes, headers and secrets in; ``opencx.channels.base`` values out. No I/O, no clock.

A handler (1) answers the subscription GET with ``answer_verification``; (2) on POST,
checks ``verify_signature`` over the raw body before anything else; (3) passes the same
bytes to ``parse_webhook``, which returns ``InboundMessage`` and ``DeliveryUpdate``
values (``WatermarkUpdate`` for Messenger receipts that name no message), skips what
we do not use and raises ``UnreadablePayload`` for a body Meta would not send.

``provider`` is ``"meta"`` on every value; the channel is WHATSAPP, MESSENGER or
INSTAGRAM. How each event maps is written in ``_whatsapp`` and ``_messenger``.
``care_window_open`` tells whether the 24-hour customer-care window allows a free reply.
"""

from opencx.channels.meta._fields import PROVIDER
from opencx.channels.meta._signature import answer_verification, verify_signature
from opencx.channels.meta._values import WatermarkUpdate
from opencx.channels.meta._webhook import parse_webhook
from opencx.channels.meta._window import CARE_WINDOW, care_window_open

__all__ = [
    "CARE_WINDOW",
    "PROVIDER",
    "WatermarkUpdate",
    "answer_verification",
    "care_window_open",
    "parse_webhook",
    "verify_signature",
]
