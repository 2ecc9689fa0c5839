"""SendGrid Inbound Parse: e-mail that SendGrid received for us, posted to a webhook.

Bytes, headers and the shared token in; ``opencx.providers.base`` values out. No I/O, no
clock, no SendGrid SDK.

A handler (1) checks ``token_matches`` (the token in the URL's query, or basic auth's
password) before reading anything: Inbound Parse posts carry no signature unless a
security policy is attached at SendGrid; (2) passes the raw body and its Content-Type to
``parse_inbound``, which reads the ``multipart/form-data`` as bytes (the fields come in
several charsets, named by the ``charsets`` field) and returns an ``InboundParse``: the
``InboundMessage``, the envelope's recipients (our mailboxes) and, in raw mode, the
original message's bytes. Both SendGrid modes, raw MIME and parsed fields, end in
``opencx.providers.email.parse_email``, so mail reads the same however it arrived.
"""

from opencx.providers.sendgrid._auth import token_matches
from opencx.providers.sendgrid._inbound import PROVIDER, InboundParse, parse_inbound

__all__ = ["PROVIDER", "InboundParse", "parse_inbound", "token_matches"]
