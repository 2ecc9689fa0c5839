"""Twilio messaging webhooks (SMS, MMS, WhatsApp through Twilio), as pure translators.

Form parameters, headers and the auth token in; ``opencx.channels.base`` values out. No
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

Media (``_media``): ``media_request`` fetches a file an incoming MMS or WhatsApp
message names (``MediaUrl{N}``), with the account's credentials.
"""

from opencx.channels.twilio._media import media_request
from opencx.channels.twilio._messages import parse_message
from opencx.channels.twilio._params import PROVIDER, Params
from opencx.channels.twilio._sending import (
    Accepted,
    MessageRequest,
    SendError,
    build_message_request,
    network_error,
    read_send_response,
    template_refusal,
)
from opencx.channels.twilio._signature import verify_json_signature, verify_signature
from opencx.channels.twilio._status import STATUSES, parse_status

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
    "parse_message",
    "parse_status",
    "read_send_response",
    "template_refusal",
    "verify_json_signature",
    "verify_signature",
]
