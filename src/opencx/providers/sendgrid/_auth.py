"""Who may post to the Inbound Parse URL: whoever knows the shared token.

SendGrid signs Inbound Parse posts only when a security policy is attached to the parse
setting; without one a post carries nothing that proves where it came from. The URL
configured at SendGrid therefore carries a secret, in one of two places:

- the query: ``https://support.example.com/webhooks/sendgrid/inbound?token=SECRET``;
- basic auth in the URL (``https://sendgrid:SECRET@support.example.com/…``), which an
  HTTP client sends as ``Authorization: Basic …``: the password is the token, the user
  name is not checked. Access logs, which record query strings, never see it.

Rules: an empty expected token accepts nothing; the comparison takes the same time
whatever the guess (``same_signature``); a malformed header is a mismatch, never an error.
"""

from __future__ import annotations

import base64
import binascii

from opencx.providers.signatures import same_signature

__all__ = ["token_matches"]


def token_matches(expected: str, *, token: str | None, authorization: str | None) -> bool:
    """Whether the request carries ``expected``, as ``?token=`` or as basic auth's password."""
    if not expected:
        return False
    given = [value for value in (token, _basic_password(authorization)) if value is not None]
    # Both are compared when both are given, so the time taken tells nothing either.
    return sum(same_signature(expected, value) for value in given) > 0


def _basic_password(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _user, separator, password = decoded.partition(":")
    return password if separator else None
