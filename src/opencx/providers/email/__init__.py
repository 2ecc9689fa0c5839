"""The e-mail channel: raw RFC 5322 messages in, ``InboundMessage`` values out, and our
answers composed as ``EmailMessage`` values. Pure: the SMTP/IMAP transport and the
storage of the raw bytes live in the service layer.

- ``parse_email`` (``parsing``): one received message, its work bounded by
  ``ParseLimits`` (``_limits``);
- ``strip_quoted_reply`` (``quoted``): the new part of a reply;
- ``compose_reply``, ``compose_acknowledgement`` (``composing``): what we send;
- ``ticket_token``, ``find_ticket_token``: the ``[#id]`` subject token that threads
  replies whose client dropped the threading fields;
- ``html_to_text``: the readable text of an HTML body;
- ``trusted_results`` (``_auth``): what a trusted relay's ``Authentication-Results``
  field says of the sender; ``dkim_signatures`` (``_dkim``): our own DKIM check;
- ``envelope_address_problem`` (``_envelope``): an SMTP envelope address no retry mends;
- ``normalise_address`` (``_address``): a mailbox's address as its account stores it.
"""

from opencx.providers.email._address import normalise_address
from opencx.providers.email._auth import RelayResults, trusted_results
from opencx.providers.email._dkim import dkim_available, dkim_signatures
from opencx.providers.email._envelope import envelope_address_problem
from opencx.providers.email._html_text import html_to_text
from opencx.providers.email._limits import DEFAULT_LIMITS
from opencx.providers.email._tokens import find_ticket_token, ticket_token
from opencx.providers.email.composing import (
    ACKNOWLEDGEMENT_TEXTS,
    MAX_REFERENCES,
    Mailbox,
    OutboundAttachment,
    compose_acknowledgement,
    compose_reply,
    reply_subject,
)
from opencx.providers.email.parsing import PROVIDER, ParseLimits, parse_email
from opencx.providers.email.quoted import strip_quoted_reply

__all__ = [
    "ACKNOWLEDGEMENT_TEXTS",
    "DEFAULT_LIMITS",
    "MAX_REFERENCES",
    "PROVIDER",
    "Mailbox",
    "OutboundAttachment",
    "ParseLimits",
    "RelayResults",
    "compose_acknowledgement",
    "compose_reply",
    "dkim_available",
    "dkim_signatures",
    "envelope_address_problem",
    "find_ticket_token",
    "html_to_text",
    "normalise_address",
    "parse_email",
    "reply_subject",
    "strip_quoted_reply",
    "ticket_token",
    "trusted_results",
]
