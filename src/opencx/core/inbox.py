"""The agent's inbox: its views, what a conversation shows in a list, and how long a
conversation may be snoozed.

Rules:
- a preview is a message's text on one line: its HTML read as text when it has no
  plain text, white space collapsed, at most ``PREVIEW_LENGTH`` characters, cut after
  a word with an ellipsis when longer;
- a conversation is snoozed until an aware instant strictly after now and at most
  ``MAX_SNOOZE`` ahead; snoozing it again moves that instant;
- a snooze is over once its instant is reached (``is_snoozed`` is false from then on,
  whether or not the wake-up job has run yet), when the customer writes, or when a
  person ends it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from html.parser import HTMLParser

from opencx.core.errors import InvalidInput

__all__ = [
    "MAX_SNOOZE",
    "PREVIEW_LENGTH",
    "InboxView",
    "check_snooze",
    "html_text",
    "is_snoozed",
    "preview",
]

PREVIEW_LENGTH = 160
MAX_SNOOZE = timedelta(days=90)
_ELLIPSIS = "…"
_SPACE = re.compile(r"\s+")
_BLOCKS = frozenset({"br", "p", "div", "li", "tr", "td", "h1", "h2", "h3", "blockquote"})
_HIDDEN = frozenset({"script", "style", "head", "title"})


class InboxView(StrEnum):
    """Which conversations an inbox list holds (``docs/inbox.md``)."""

    MINE = "mine"
    TEAM = "team"
    WAITING = "waiting"
    SNOOZED = "snoozed"
    ALL = "all"


def preview(text: str, html: str | None = None) -> str:
    """One line of at most ``PREVIEW_LENGTH`` characters from a message's text."""
    source = text if text.strip() or not html else html_text(html)
    # Only the start is shown: collapsing a 100 kB body whole would be wasted work.
    line = _SPACE.sub(" ", source[: PREVIEW_LENGTH * 8]).strip()
    if len(line) <= PREVIEW_LENGTH:
        return line
    cut = line[: PREVIEW_LENGTH - len(_ELLIPSIS) + 1]
    space = cut.rfind(" ")
    kept = cut[:space] if space > PREVIEW_LENGTH // 2 else cut[:-1]
    return kept.rstrip() + _ELLIPSIS


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The text a reader sees of ``html``: tags, scripts and styles left out."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def check_snooze(until: datetime, *, now: datetime) -> datetime:
    """``until`` in UTC, if a conversation may be snoozed until then; else
    ``InvalidInput`` naming the field ``until``."""
    if until.tzinfo is None:
        raise InvalidInput(
            "until needs a time zone offset, like 2026-01-05T09:00:00Z", field="until"
        )
    try:
        until = until.astimezone(UTC)
    except OverflowError:  # the first or last instant a datetime holds, moved past it
        raise InvalidInput(f"until is not within {MAX_SNOOZE.days} days", field="until") from None
    if until <= now:
        raise InvalidInput("until is not in the future", field="until")
    if until > now + MAX_SNOOZE:
        raise InvalidInput(f"until is more than {MAX_SNOOZE.days} days ahead", field="until")
    return until


def is_snoozed(snoozed_until: datetime | None, *, now: datetime) -> bool:
    """Whether a conversation snoozed until ``snoozed_until`` still sleeps at ``now``."""
    return snoozed_until is not None and snoozed_until > now
