"""Phone numbers: the one rule that turns a number into its stored form, wherever it
comes from (a provider's webhook, an agent's entry, a channel account, a lookup).

Rules:
- ``phonenumbers`` canonicalises what it can parse into a possible number: E.164
  (``+33 6 12 34 56 78`` and ``+33612345678`` are one identity); a national form needs
  ``region`` (an ISO country code) to parse;
- a number it cannot parse (short codes such as ``12345``, test numbers, an unknown
  country code such as ``+999…``, plans newer than its metadata) is kept as given,
  trimmed: it is still an address of its own, never merged with another and never
  refused, so a message is never lost to an outdated numbering table;
- only what is no address at all is refused (``InvalidInput``): empty, longer than an
  identity may be, or with control characters; and an unknown ``region``.
"""

from __future__ import annotations

import phonenumbers

from opencx.core.errors import InvalidInput
from opencx.core.identities import normalise_handle

__all__ = ["is_valid_phone", "normalise_phone", "normalise_whatsapp_id"]


def normalise_phone(raw: str, *, region: str | None = None) -> str:
    """``+33612345678`` from ``+33 6 12 34 56 78`` (or ``06 12 34 56 78`` in ``FR``);
    the trimmed text when it does not parse."""
    text = normalise_handle(raw)
    number = _parse(text, _region(region))
    if number is None or not phonenumbers.is_possible_number(number):
        return text
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalise_whatsapp_id(raw: str) -> str:
    """A WhatsApp id: one that is a number (``+…``) by the phone rule, as the channels
    write it; one that is not (a business-scoped user id) as an opaque handle."""
    if raw.strip().startswith("+"):
        return normalise_phone(raw)
    return normalise_handle(raw)


def is_valid_phone(raw: str, *, region: str | None = None) -> bool:
    """Whether ``raw`` is a number the numbering plan assigns (stricter than possible)."""
    number = _parse(raw.strip(), _region(region))
    return number is not None and bool(phonenumbers.is_valid_number(number))


def _region(region: str | None) -> str | None:
    code = region.strip().upper() if region else None
    if code is not None and code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"unknown phone region {region!r}", field="region")
    return code


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
