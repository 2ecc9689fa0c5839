"""What each indexed row says, as text for ``opencx.core.search.terms``: a message's
words, and the forms a person types an identity in."""

from __future__ import annotations

import phonenumbers

from opencx.core.enums import IdentityKind
from opencx.core.inbox import html_text

__all__ = ["identity_texts", "message_text"]

_PHONES = frozenset({IdentityKind.PHONE, IdentityKind.WHATSAPP})


def message_text(body_text: str, body_html: str | None, subject: str | None = None) -> str:
    """A message's words: its text (its HTML read as text when it has none) and its
    own subject (an e-mail's)."""
    text = body_text if body_text.strip() or not body_html else html_text(body_html)
    return f"{subject}\n{text}" if subject else text


def identity_texts(kind: IdentityKind, value: str) -> list[str]:
    """The forms of an identity a person may type: the stored value and, for a phone
    number, its digits in the international and in the national form
    (``+33612345678``: ``33612345678`` and ``0612345678``)."""
    if kind not in _PHONES or not value.startswith("+"):
        return [value]
    texts = [value[1:]]
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return texts
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits = "".join(ch for ch in national if ch.isdigit())
    if digits and digits != texts[0]:
        texts.append(digits)
    return texts
