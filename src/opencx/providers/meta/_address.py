"""Our address at Meta, as an account stores it: the numeric id of a WhatsApp phone
number, a Facebook page or an Instagram account."""

from __future__ import annotations

import re

from opencx.core.errors import InvalidInput

__all__ = ["normalise_address"]

_DIGITS = re.compile(r"[0-9]{1,64}")


def normalise_address(raw: str) -> str:
    """The id, trimmed; ``InvalidInput`` unless it is digits only."""
    text = raw.strip()
    if _DIGITS.fullmatch(text) is None:
        raise InvalidInput(f"{text!r} is not a numeric id (digits only)", field="address")
    return text
