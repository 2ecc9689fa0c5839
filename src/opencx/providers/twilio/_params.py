"""Twilio's form parameters, as a mapping or as the pairs of a form that repeats names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from opencx.providers.base import UnreadablePayload

__all__ = ["PROVIDER", "Params", "first_values", "pairs", "required"]

PROVIDER = "twilio"

#: A ``Mapping`` keeps one value per name; pass the form's pairs (for example
#: Starlette's ``form.multi_items()``) to keep repeated parameters for the signature.
Params = Mapping[str, str] | Iterable[tuple[str, str]]


def pairs(params: Params) -> list[tuple[str, str]]:
    if isinstance(params, Mapping):
        return list(params.items())
    return list(params)


def first_values(params: Params) -> dict[str, str]:
    """One value per name: the first one sent."""
    values: dict[str, str] = {}
    for name, value in pairs(params):
        values.setdefault(name, value)
    return values


def required(values: Mapping[str, str], name: str) -> str:
    value = values.get(name, "").strip()
    if not value:
        raise UnreadablePayload(f"the {name} parameter is missing")
    return value
