"""Normalising customer identities so that one person's address always reads the same.

Rules:
- an identity is a ``(kind, value)`` pair; the pair is unique across all customers;
- emails are trimmed and lowercased, then checked for a plausible shape (a local part,
  one ``@``, a domain of dotted labels); internationalised domains are kept in Unicode;
- phone numbers need a numbering-plan library, so their rule lives in the service layer
  (``opencx.features.customers.identities``), not here;
- every other kind (Messenger PSID, WhatsApp id, web visitor id…) is an opaque handle:
  trimmed, non-empty, at most ``MAX_IDENTITY_LENGTH`` characters, no control characters;
- ``kind:value`` is the textual reference used by lookups (``?identity=email:a@b.c``);
- a customer is named by their display name, else by their best identity
  (``customer_label``): a confirmed one before an unconfirmed one, then by kind as
  people recognise them (``LABEL_ORDER``), then the oldest.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from opencx.core.enums import IdentityKind
from opencx.core.errors import InvalidInput

__all__ = [
    "LABEL_ORDER",
    "MAX_IDENTITY_LENGTH",
    "customer_label",
    "normalise_email",
    "normalise_handle",
    "parse_identity_kind",
    "split_identity_ref",
]

MAX_IDENTITY_LENGTH = 320
_MAX_LOCAL = 64
_MAX_DOMAIN = 253
_MAX_LABEL = 63
_LOCAL_FORBIDDEN = frozenset(' "(),:;<>@[\\]')
#: Which identity names a customer who has no display name, best first.
LABEL_ORDER = (
    IdentityKind.EMAIL,
    IdentityKind.PHONE,
    IdentityKind.WHATSAPP,
    IdentityKind.MESSENGER,
    IdentityKind.INSTAGRAM,
    IdentityKind.TWITTER,
    IdentityKind.WEB,
    IdentityKind.EXTERNAL,
)


def customer_label(
    display_name: str, identities: Iterable[tuple[IdentityKind, str, bool]]
) -> str | None:
    """The customer's display name, else the value of their best identity, given as
    ``(kind, value, confirmed)`` oldest first; ``None`` when they have neither."""
    if display_name.strip():
        return display_name
    ranked = sorted(
        enumerate(identities),
        key=lambda item: (not item[1][2], LABEL_ORDER.index(item[1][0]), item[0]),
    )
    return ranked[0][1][1] if ranked else None


def parse_identity_kind(raw: str) -> IdentityKind:
    """The ``IdentityKind`` named by ``raw``; ``InvalidInput`` listing the known kinds."""
    try:
        return IdentityKind(raw.strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in IdentityKind)
        raise InvalidInput(
            f"unknown identity kind {raw!r} (use one of: {known})", field="kind"
        ) from None


def split_identity_ref(ref: str) -> tuple[IdentityKind, str]:
    """Split ``kind:value`` (only the first colon separates; values may contain colons)."""
    kind, sep, value = ref.partition(":")
    if not sep or not value.strip():
        raise InvalidInput("an identity reference reads 'kind:value'", field="identity")
    return parse_identity_kind(kind), value


def normalise_handle(raw: str) -> str:
    """An opaque identifier: trimmed, bounded, printable."""
    value = raw.strip()
    if not value:
        raise InvalidInput("the identity value is empty", field="value")
    if len(value) > MAX_IDENTITY_LENGTH:
        raise InvalidInput(
            f"the identity value is longer than {MAX_IDENTITY_LENGTH} characters", field="value"
        )
    if any(_is_control(ch) for ch in value):
        raise InvalidInput("the identity value contains control characters", field="value")
    return value


def normalise_email(raw: str) -> str:
    """``' Jane.Doe@Example.COM '`` -> ``'jane.doe@example.com'``; ``InvalidInput`` if malformed."""
    value = normalise_handle(raw).lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise InvalidInput(f"{raw.strip()!r} is not an email address", field="value")
    if len(local) > _MAX_LOCAL or any(ch in _LOCAL_FORBIDDEN or ch.isspace() for ch in local):
        raise InvalidInput(f"{raw.strip()!r} has an invalid local part", field="value")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidInput(f"{raw.strip()!r} has an invalid local part", field="value")
    if not _valid_domain(domain):
        raise InvalidInput(f"{raw.strip()!r} has an invalid domain", field="value")
    return value


def _valid_domain(domain: str) -> bool:
    if len(domain) > _MAX_DOMAIN or "." not in domain:
        return False
    labels = domain.split(".")
    return all(_valid_label(label) for label in labels) and not labels[-1].isdigit()


def _valid_label(label: str) -> bool:
    if not label or len(label) > _MAX_LABEL:
        return False
    if label.startswith("-") or label.endswith("-"):
        return False
    return all(ch.isalnum() or ch == "-" for ch in label)


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"}
