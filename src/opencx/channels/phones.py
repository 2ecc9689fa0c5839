"""Phone numbers as providers send them, to E.164 for identities.

``phonenumbers`` canonicalises what it can parse; a number it does not know (short
codes, test numbers, numbering plans newer than its metadata) is kept as sent, so a
message is never lost to an outdated numbering table.
"""

from __future__ import annotations

import phonenumbers

from opencx.channels.base import UnreadablePayload

__all__ = ["to_e164"]


def to_e164(raw: str) -> str:
    """``+33612345678`` from ``+33 6 12 34 56 78``; the trimmed text when unknown."""
    text = raw.strip()
    if not text:
        raise UnreadablePayload("a phone number is empty")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(number):
        return text
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
