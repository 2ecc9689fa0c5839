"""Meta webhooks: WhatsApp Cloud API, Messenger and Instagram, as pure translators.

Bytes, headers and secrets in; ``opencx.providers.base`` values out. No I/O, no clock.

A handler (1) answers the subscription GET with ``answer_verification``; (2) on POST,
checks ``verify_signature`` over the raw body before anything else; (3) passes the same
bytes to ``parse_webhook``, which returns ``InboundMessage`` and ``DeliveryUpdate``
values (``WatermarkUpdate`` for Messenger receipts that name no message), skips what
we do not use and raises ``UnreadablePayload`` for a body Meta would not send.

``provider`` is ``"meta"`` on every value; the channel is WHATSAPP, MESSENGER or
INSTAGRAM. How each event maps is written in ``_whatsapp`` and ``_messenger``.
``care_window_open`` tells whether the 24-hour customer-care window allows a free reply,
``human_agent_window_open`` whether a person may still answer with the ``HUMAN_AGENT``
tag (Messenger, Instagram: 7 days).

Sending (``_sending``): ``whatsapp_text``, ``whatsapp_template``, ``whatsapp_file``,
``messaging_text`` and ``messaging_file`` (Messenger, Instagram) make the Graph API
call; ``read_send_response`` tells what Meta answered (``Accepted`` with the wamid or
mid, or a ``SendError`` saying whether a retry may succeed and whether the
customer-care window refused it); ``network_error`` stands for no answer at all.

``normalise_address`` (``_address``) is our id (a phone number's, a page's) as its
account stores it.

Media (``_media``): a WhatsApp media id is exchanged for its URL
(``media_lookup_request``, ``read_media_lookup``) and fetched with the access token
(``media_download_request``); a Messenger or Instagram ``payload.url`` is fetched as
it is (``messenger_media_request``).
"""

from opencx.providers.meta._address import normalise_address
from opencx.providers.meta._fields import PROVIDER
from opencx.providers.meta._media import (
    MediaLocation,
    media_download_request,
    media_lookup_request,
    messenger_media_request,
    read_media_lookup,
)
from opencx.providers.meta._sending import (
    Accepted,
    GraphRequest,
    HeaderFile,
    SendError,
    messaging_file,
    messaging_text,
    network_error,
    read_send_response,
    whatsapp_file,
    whatsapp_template,
    whatsapp_text,
)
from opencx.providers.meta._signature import answer_verification, verify_signature
from opencx.providers.meta._values import WatermarkUpdate
from opencx.providers.meta._webhook import parse_webhook
from opencx.providers.meta._window import (
    CARE_WINDOW,
    HUMAN_AGENT_TAG,
    HUMAN_AGENT_WINDOW,
    care_window_open,
    human_agent_window_open,
)

__all__ = [
    "CARE_WINDOW",
    "HUMAN_AGENT_TAG",
    "HUMAN_AGENT_WINDOW",
    "PROVIDER",
    "Accepted",
    "GraphRequest",
    "HeaderFile",
    "MediaLocation",
    "SendError",
    "WatermarkUpdate",
    "answer_verification",
    "care_window_open",
    "human_agent_window_open",
    "media_download_request",
    "media_lookup_request",
    "messaging_file",
    "messaging_text",
    "messenger_media_request",
    "network_error",
    "normalise_address",
    "parse_webhook",
    "read_media_lookup",
    "read_send_response",
    "verify_signature",
    "whatsapp_file",
    "whatsapp_template",
    "whatsapp_text",
]
