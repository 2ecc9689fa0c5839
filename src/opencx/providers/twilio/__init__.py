"""Twilio messaging webhooks (SMS, MMS, WhatsApp through Twilio), as pure translators.

Form parameters, headers and the auth token in; ``opencx.providers.base`` values out. No
I/O, no clock, no Twilio SDK.

A handler checks ``verify_signature`` with the URL Twilio requested (behind a proxy,
rebuild it from the forwarded scheme and host) and every POST parameter, or
``verify_json_signature`` for a JSON body; then ``parse_message`` reads an incoming
message and ``parse_status`` a status callback. Both raise ``UnreadablePayload`` for
what they do not read, voice webhooks included: voice has its own adapter.

Sending (``_sending``): ``build_message_request`` makes the Messages API call for an
SMS or WhatsApp message, ``read_send_response`` tells what Twilio answered
(``Accepted`` with the message sid, or a ``SendError`` saying whether a retry may
succeed), ``network_error`` stands for no answer at all; ``template_refusal`` says
why a WhatsApp template cannot go through Twilio (checked when it is written, and again
when it is sent).

``normalise_address`` (``_address``) is our number as its account stores it: E.164.

Media (``_media``): ``media_request`` fetches a file an incoming MMS or WhatsApp
message names (``MediaUrl{N}``), with the account's credentials.
"""

from opencx.providers.twilio._address import normalise_address
from opencx.providers.twilio._media import media_request
from opencx.providers.twilio._messages import parse_message
from opencx.providers.twilio._params import PROVIDER, Params
from opencx.providers.twilio._sending import (
    Accepted,
    MessageRequest,
    SendError,
    build_message_request,
    network_error,
    read_send_response,
    template_refusal,
)
from opencx.providers.twilio._signature import verify_json_signature, verify_signature
from opencx.providers.twilio._status import STATUSES, parse_status

__all__ = [
    "PROVIDER",
    "STATUSES",
    "Accepted",
    "MessageRequest",
    "Params",
    "SendError",
    "build_message_request",
    "media_request",
    "network_error",
    "normalise_address",
    "parse_message",
    "parse_status",
    "read_send_response",
    "template_refusal",
    "verify_json_signature",
    "verify_signature",
]
