"""Reading providers' JSON: typed accessors that turn any surprise into
``UnreadablePayload``, so that a field of the wrong type is refused with a message
naming it, never a ``KeyError`` or ``TypeError``. Every adapter reads JSON through
these."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opencx.providers.base import UnreadablePayload

__all__ = ["Json", "load_object", "obj", "objects", "opt_obj", "opt_text", "text"]

Json = Mapping[str, Any]


def load_object(raw: bytes, what: str) -> Json:
    """``raw`` as a JSON object; ``UnreadablePayload`` when it is anything else."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise UnreadablePayload(f"{what} is not JSON") from None
    return obj(data, what)


def obj(value: Any, what: str) -> Json:
    if not isinstance(value, dict):
        raise UnreadablePayload(f"{what} is not a JSON object")
    return value


def opt_obj(parent: Json, key: str) -> Json | None:
    value = parent.get(key)
    return None if value is None else obj(value, repr(key))


def objects(parent: Json, key: str) -> list[Json]:
    """The objects listed under ``key``; none when the key is absent."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise UnreadablePayload(f"{key!r} is not a list")
    return [obj(item, f"an item of {key!r}") for item in value]


def text(parent: Json, key: str) -> str:
    """A required, non-empty string."""
    value = parent.get(key)
    if not isinstance(value, str) or not value:
        raise UnreadablePayload(f"{key!r} is missing or not a string")
    return value


def opt_text(parent: Json, key: str) -> str | None:
    value = parent.get(key)
    if value is None or isinstance(value, str):
        return value
    raise UnreadablePayload(f"{key!r} is not a string")
