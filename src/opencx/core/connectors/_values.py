"""The values a customer gives a connector's URL template.

Rules:
- ``customer.id`` is the customer's id; ``customer.email``, ``customer.phone`` and
  ``customer.external_id`` are the customer's identity of that kind (``external`` for
  the id another system knows them by): the first verified one, else the first one;
- ``customer.attributes.NAME`` is the attribute ``NAME``: text as it is, a number or
  a boolean as JSON writes it; an attribute that is absent or null has no value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from opencx.core.connectors._templates import ATTRIBUTE_PREFIX
from opencx.core.enums import IdentityKind

__all__ = ["IDENTITY_PLACEHOLDERS", "customer_values"]

IDENTITY_PLACEHOLDERS: Mapping[IdentityKind, str] = {
    IdentityKind.EMAIL: "customer.email",
    IdentityKind.PHONE: "customer.phone",
    IdentityKind.EXTERNAL: "customer.external_id",
}


def customer_values(
    customer_id: int,
    identities: Iterable[tuple[IdentityKind, str, bool]],
    attributes: Mapping[str, Any],
) -> dict[str, str]:
    """Placeholder name → value; ``identities`` as ``(kind, value, verified)`` in the
    order they were added."""
    values = {"customer.id": str(customer_id)}
    verified_found: set[str] = set()
    for kind, value, verified in identities:
        name = IDENTITY_PLACEHOLDERS.get(kind)
        if name is None or name in verified_found:
            continue
        if verified or name not in values:
            values[name] = value
        if verified:
            verified_found.add(name)
    for key, raw in attributes.items():
        text = _attribute_text(raw)
        if text is not None:
            values[ATTRIBUTE_PREFIX + key] = text
    return values


def _attribute_text(raw: Any) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool | int | float):
        return json.dumps(raw)
    return None
