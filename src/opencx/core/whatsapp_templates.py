"""WhatsApp templates: the approved messages a business may send outside the 24-hour
window, and the filling of their placeholders.

Rules:
- a template's body numbers its placeholders ``{{1}}``, ``{{2}}``… as WhatsApp does:
  each number from 1 to the highest appears at least once (a gap is refused), and a
  number may appear several times; spaces inside the braces are allowed (``{{ 1 }}``);
- sending a template needs exactly one parameter per number, none blank;
- ``fill`` puts parameter *n* in place of every ``{{n}}``, in one pass (a parameter
  that itself reads ``{{2}}`` stays as it is);
- a category is Meta's: marketing, utility or authentication.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

__all__ = ["MAX_PARAMETERS", "TemplateCategory", "check_parameters", "fill", "placeholder_count"]

#: The most placeholders a body may number (what ``TemplateIn.parameters`` accepts).
MAX_PARAMETERS = 20
_PLACEHOLDER = re.compile(r"\{\{\s*(\d{1,3})\s*\}\}")


class TemplateCategory(StrEnum):
    MARKETING = "marketing"
    UTILITY = "utility"
    AUTHENTICATION = "authentication"


def placeholder_count(body: str) -> int:
    """How many parameters ``body`` takes; ``ValueError`` when its numbers have a gap,
    start elsewhere than 1 or go past ``MAX_PARAMETERS``."""
    numbers = {int(n) for n in _PLACEHOLDER.findall(body)}
    if not numbers:
        return 0
    highest = max(numbers)
    if highest > MAX_PARAMETERS:
        raise ValueError(f"a template takes at most {MAX_PARAMETERS} parameters")
    missing = sorted(set(range(1, highest + 1)) - numbers)
    if missing:
        raise ValueError(
            f"the placeholders are numbered from {{{{1}}}} without a gap: {{{{{missing[0]}}}}} "
            "is missing"
        )
    return highest


def check_parameters(body: str, parameters: Sequence[str]) -> str | None:
    """Why ``parameters`` cannot fill ``body``, or ``None`` when they can."""
    wanted = placeholder_count(body)
    if len(parameters) != wanted:
        return f"this template takes {wanted} parameters, not {len(parameters)}"
    if any(not value.strip() for value in parameters):
        return "a template parameter cannot be blank"
    return None


def fill(body: str, parameters: Sequence[str]) -> str:
    """``body`` with each ``{{n}}`` replaced by ``parameters[n - 1]`` (kept when there is
    no such parameter)."""

    def value(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return parameters[n - 1] if 1 <= n <= len(parameters) else match.group(0)

    return _PLACEHOLDER.sub(value, body)
