"""Paths into a business system's JSON answer: ``contract.items[0].price``.

Rules:
- a path is names separated by dots, each optionally followed by indexes in brackets
  (``a.b[0].c``, ``items[-1]``, ``[0].id`` for an answer that is a list); a negative
  index counts from the end;
- a name is any run of characters other than ``.``, ``[``, ``]`` and spaces; at most
  ``MAX_STEPS`` steps and ``MAX_PATH`` characters;
- resolving never fails: a missing key, an index out of range, or a step into
  something that is not an object or a list gives ``MISSING``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from opencx.core.errors import InvalidInput

__all__ = ["MAX_PATH", "MAX_STEPS", "MISSING", "FieldPath", "parse_path"]

MAX_PATH = 200
MAX_STEPS = 32

_NAME = re.compile(r"[^.\[\]\s]+")
_INDEX = re.compile(r"\[(-?\d{1,9})\]")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: What a path resolves to when the answer holds nothing there.
MISSING: Final = _Missing()


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A parsed path: keys (``str``) and list indexes (``int``) in order."""

    text: str
    steps: tuple[str | int, ...]

    def resolve(self, data: Any) -> Any:
        """The value at this path in ``data`` (parsed JSON), or ``MISSING``."""
        current = data
        for step in self.steps:
            current = _step(current, step)
            if current is MISSING:
                return MISSING
        return current


def parse_path(text: str, *, field: str = "path") -> FieldPath:
    """The path, or ``InvalidInput`` naming ``field``."""
    if not text or len(text) > MAX_PATH:
        raise InvalidInput(f"a path has 1 to {MAX_PATH} characters", field=field)
    steps: list[str | int] = []
    position = 0
    while position < len(text):
        found = _next_step(text, position, first=not steps)
        if found is None:
            raise InvalidInput(
                f"{text!r} is not a path like 'a.b[0].c' (at character {position + 1})",
                field=field,
            )
        steps.append(int(found[1]) if found.re is _INDEX else found[0])
        position = found.end()
    if len(steps) > MAX_STEPS:
        raise InvalidInput(f"a path has at most {MAX_STEPS} steps", field=field)
    return FieldPath(text=text, steps=tuple(steps))


def _next_step(text: str, position: int, *, first: bool) -> re.Match[str] | None:
    """An index (``[0]``), or a name: the first step's alone, a later one after a dot."""
    if text[position] == "[":
        return _INDEX.match(text, position)
    if not first:
        if text[position] != ".":
            return None
        position += 1
    return _NAME.match(text, position)


def _step(current: Any, step: str | int) -> Any:
    if isinstance(step, str):
        if isinstance(current, Mapping):
            return current.get(step, MISSING)
        return MISSING
    is_list = isinstance(current, Sequence) and not isinstance(current, str | bytes)
    if is_list and -len(current) <= step < len(current):
        return current[step]
    return MISSING
