"""How much of one message the parser reads: the bounds that keep a huge or hostile
message from costing far more than an ordinary one.

Rules:
- at most ``max_parts`` MIME parts are read, containers and the message itself
  included; the parser is fed the message piece by piece and stops where the parts
  read so far pass the bound, so the parsing work is bounded, not only its result;
- multiparts nested deeper than ``max_depth`` are not opened;
- an HTML body of more than ``max_html_chars`` characters is too large to show: it is
  not kept as the message's HTML, and when the message has no plain text, its text is
  that of the HTML's first ``max_html_chars`` characters, cut before a tag;
- a message past a bound is read as far as the bound and recorded with its defect
  (``TooManyParts``, ``TooDeeplyNested``, ``HtmlTooLarge``), which flags it
  ``unparsed``: the service keeps its raw bytes, so nothing of it is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.feedparser import BytesFeedParser
from email.message import Message
from email.policy import Policy
from typing import Any

__all__ = ["DEFAULT_LIMITS", "FEED_CHUNK", "ParseLimits", "html_to_read", "read_message"]

#: Bytes fed to the parser at a time: the parts it may read past ``max_parts`` are at
#: most those that fit in one piece.
FEED_CHUNK = 8192


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """The bounds of one message's parsing (see the module rules)."""

    max_parts: int = 1000
    max_depth: int = 32
    max_html_chars: int = 2_000_000


DEFAULT_LIMITS = ParseLimits()


class _Counted:
    """A message factory that counts the parts the parser makes."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.made = 0

    def __call__(self, **options: Any) -> Message:  # the parser passes its policy
        self.made += 1
        made: Message = self.factory(**options)
        return made


def read_message(raw: bytes, policy: Policy, limits: ParseLimits, defects: list[str]) -> Message:
    """``raw`` parsed with ``policy``, up to about ``limits.max_parts`` parts."""
    counted = _Counted(policy.message_factory)
    parser = BytesFeedParser(_factory=counted, policy=policy)
    counted.made = 0  # the parser made one to try the factory
    for start in range(0, len(raw), FEED_CHUNK):
        if counted.made > limits.max_parts:
            defects.append("TooManyParts")
            break
        parser.feed(raw[start : start + FEED_CHUNK])
    message: Message = parser.close()
    return message


def html_to_read(html: str, limits: ParseLimits, defects: list[str]) -> str:
    """What of the HTML body ``html`` is read: all of it within the bound, else its
    beginning up to the last tag that starts within the bound."""
    if len(html) <= limits.max_html_chars:
        return html
    defects.append("HtmlTooLarge")
    cut = html.rfind("<", 0, limits.max_html_chars)
    return html[: cut if cut > 0 else limits.max_html_chars]
