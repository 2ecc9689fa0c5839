"""Twilio messaging webhooks (SMS, MMS, WhatsApp through Twilio), as pure translators.

Form parameters, headers and the auth token in; ``opencx.channels.base`` values out. No
I/O, no clock, no Twilio SDK.

A handler checks ``verify_signature`` with the URL Twilio requested (behind a proxy,
rebuild it from the forwarded scheme and host) and every POST parameter, or
``verify_json_signature`` for a JSON body; then ``parse_message`` reads an incoming
message and ``parse_status`` a status callback. Both raise ``UnreadablePayload`` for
what they do not read, voice webhooks included: voice has its own adapter.
"""

from opencx.channels.twilio._messages import parse_message
from opencx.channels.twilio._params import PROVIDER, Params
from opencx.channels.twilio._signature import verify_json_signature, verify_signature
from opencx.channels.twilio._status import STATUSES, parse_status

__all__ = [
    "PROVIDER",
    "STATUSES",
    "Params",
    "parse_message",
    "parse_status",
    "verify_json_signature",
    "verify_signature",
]
