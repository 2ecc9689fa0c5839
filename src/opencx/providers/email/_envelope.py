"""The SMTP envelope's addresses (``MAIL FROM``, ``RCPT TO``): which ones no retry can mend.

Rules:
- an address holding a control character (``NUL`` included: databases refuse it, and
  no mail system names a mailbox with one) or longer than ``MAX_PATH`` octets (RFC 5321,
  4.5.3.1.3) is malformed;
- a malformed address is refused for good (``553``): the sending server then returns the
  mail to its sender at once instead of retrying for days what cannot succeed; a
  temporary (``4xx``) answer is only for what a later try can mend.
"""

from __future__ import annotations

import re

__all__ = ["MAX_PATH", "envelope_address_problem"]

#: The longest reverse or forward path, in octets, angle brackets included.
MAX_PATH = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def envelope_address_problem(address: str) -> str | None:
    """Why ``address`` is malformed, in words for the SMTP reply; ``None`` when it is not."""
    if _CONTROL.search(address):
        return "the address holds a control character"
    if len(address.encode("utf-8", "surrogateescape")) + 2 > MAX_PATH:
        return f"the address is longer than {MAX_PATH - 2} octets"
    return None
