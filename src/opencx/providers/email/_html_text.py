"""HTML bodies to the plain text a person would read in them.

Rules:
- paragraphs, headings and tables are separated by a blank line, ``<div>``, ``<tr>`` and
  ``<li>`` start a line, ``<br>`` breaks one; other whitespace collapses as in a browser;
- list items read ``- item`` (``1. item`` in ordered lists), indented when nested;
- a link reads ``text (url)`` unless its text already is the url; ``mailto:`` shows the
  address; anchors, ``cid:`` and ``javascript:`` links show their text only;
- nothing a browser would not show: ``<head>``, ``<script>``, ``<style>``, ``<template>``,
  comments (Outlook's conditional ones included) and ``display:none`` elements (the hidden
  "preheader" of newsletters);
- ``<blockquote>`` lines read ``> …``, so quoted replies strip like plain-text ones;
- entities are decoded; non-breaking spaces become spaces.

The standard library's tolerant ``html.parser`` reads the markup: mail HTML is rarely
well formed, and an unclosed element must not hide the rest of the message.
"""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_HIDDEN = frozenset({"head", "script", "style", "template", "title", "noscript", "svg"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip
_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre", "hr",
     "dl", "address", "figure"}
)  # fmt: skip
_LINE = frozenset(
    {"div", "tr", "li", "dt", "dd", "section", "article", "header", "footer", "center",
     "caption", "form", "fieldset", "main", "nav", "aside"}
)  # fmt: skip
_LINK_SCHEMES = ("http://", "https://", "ftp://")
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_MANY_BLANKS = re.compile(r"\n{3,}")
#: Open elements tracked at most: deeper ones are read as text in their parent, so that
#: unclosed tags cannot make the work quadratic.
MAX_DEPTH = 256


def html_to_text(html: str) -> str:
    """The readable text of an HTML document or fragment (see the module rules)."""
    parser = _TextParser()
    with contextlib.suppress(Exception):  # what was read until a parser crash is kept
        parser.feed(html)
        parser.close()
    return parser.text()


class _Element:
    __slots__ = ("hides", "href", "link_start", "list_index", "tag")

    def __init__(self, tag: str, *, hides: bool) -> None:
        self.tag = tag
        self.hides = hides
        self.href: str | None = None
        self.link_start = 0
        self.list_index: int | None = None  # the next number in an ``<ol>``


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._stack: list[_Element] = []
        self._hidden = 0
        self._pre = 0
        self._quote = 0
        self._breaks = 0  # newlines owed before the next text
        self._space = False  # a space owed before the next text (between table cells)
        self._trailing = 0  # newlines at the end of the output so far
        self._item_prefix = ""

    def text(self) -> str:
        lines = (line.rstrip() for line in "".join(self._out).split("\n"))
        return _MANY_BLANKS.sub("\n\n", "\n".join(lines)).strip("\n")

    # parser callbacks

    def parse_html_declaration(self, i: int) -> int:
        try:
            return super().parse_html_declaration(i)
        except AssertionError:  # "<![x" is no marked section: CPython < 3.11.13 asserts
            end = self.rawdata.find(">", i + 2)
            return -1 if end < 0 else end + 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            self._void(tag)
            return
        if len(self._stack) >= MAX_DEPTH:
            return
        attributes = dict(attrs)
        element = _Element(tag, hides=_hides(tag, attributes))
        self._stack.append(element)
        if element.hides:
            self._hidden += 1
        if not self._hidden:  # hidden elements leave no trace, not even a line break
            self._open(element, attributes)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            self._void(tag)

    def handle_endtag(self, tag: str) -> None:
        if not any(element.tag == tag for element in self._stack):
            return  # a stray end tag closes nothing
        while self._stack:
            element = self._stack.pop()
            if not self._hidden:
                self._close(element)
            if element.hides:
                self._hidden -= 1
            if element.tag == tag:
                return

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._pre:
            for index, line in enumerate(data.replace("\r\n", "\n").split("\n")):
                if index:
                    self._newline()
                if line:
                    self._write(line.replace("\u00a0", " "))
            return
        text = _SPACES.sub(" ", data)
        if self._breaks or self._at_line_start() or self._out[-1].endswith(" "):
            text = text.lstrip(" ")
        elif self._space and not text.startswith(" "):
            text = " " + text
        if text:
            self._write(text)

    # structure

    def _open(self, element: _Element, attributes: dict[str, str | None]) -> None:
        tag = element.tag
        self._block(tag)
        if tag == "a":
            element.href = (attributes.get("href") or "").strip()
            element.link_start = len(self._out)
        elif tag == "ol":
            element.list_index = _start(attributes.get("start"))
        elif tag == "li":
            self._item_prefix = self._list_marker()
        elif tag == "pre":
            self._pre += 1
        elif tag == "blockquote":
            self._quote += 1
        elif tag in ("td", "th"):
            self._space = True

    def _close(self, element: _Element) -> None:
        tag = element.tag
        self._block(tag)
        if tag == "a":
            self._end_link(element)
        elif tag == "pre":
            self._pre -= 1
        elif tag == "blockquote":
            self._quote -= 1

    def _void(self, tag: str) -> None:
        if self._hidden:
            return
        if tag == "br":
            self._newline()
        elif tag == "hr":
            self._block(tag)

    def _block(self, tag: str) -> None:
        if tag in ("ul", "ol") and any(element.tag == "li" for element in self._stack):
            self._breaks = max(self._breaks, 1)  # a nested list continues its item
        elif tag in _PARAGRAPH:
            self._breaks = max(self._breaks, 2)
        elif tag in _LINE:
            self._breaks = max(self._breaks, 1)

    def _list_marker(self) -> str:
        lists = [element for element in self._stack if element.tag in ("ul", "ol")]
        indent = "  " * max(len(lists) - 1, 0)
        if not lists or lists[-1].list_index is None:
            return f"{indent}- "
        number = lists[-1].list_index
        lists[-1].list_index = number + 1
        return f"{indent}{number}. "

    def _end_link(self, element: _Element) -> None:
        href = element.href or ""
        label = "".join(self._out[element.link_start :]).strip()
        shown = _shown_target(href)
        if label and shown and shown not in label and label != href:
            self._write(f" ({shown})")

    # output

    def _at_line_start(self) -> bool:
        return not self._out or self._trailing > 0

    def _newline(self) -> None:
        self._flush_breaks()
        if self._quote and self._at_line_start() and self._out:
            self._append(("> " * self._quote).rstrip())  # a blank line inside a quote
        self._append("\n")

    def _flush_breaks(self) -> None:
        if self._breaks and self._out:
            self._append("\n" * max(self._breaks - self._trailing, 0))
        self._breaks = 0

    def _write(self, text: str) -> None:
        self._flush_breaks()
        if self._at_line_start():
            text = "> " * self._quote + self._item_prefix + text
            self._item_prefix = ""
        self._space = False
        self._append(text)

    def _append(self, chunk: str) -> None:
        if not chunk:
            return
        self._out.append(chunk)
        content = chunk.rstrip("\n")
        self._trailing = len(chunk) - len(content) + (0 if content else self._trailing)


def _hides(tag: str, attributes: dict[str, str | None]) -> bool:
    if tag in _HIDDEN or "hidden" in attributes:
        return True
    return bool(_DISPLAY_NONE.search(attributes.get("style") or ""))


def _start(value: str | None) -> int:
    try:
        return int(value or "1")
    except ValueError:
        return 1


def _shown_target(href: str) -> str:
    """What a reader needs to see of a link target; empty for in-page or script links."""
    if href.lower().startswith("mailto:"):
        return href[len("mailto:") :].split("?", 1)[0]
    if href.lower().startswith(_LINK_SCHEMES):
        return href
    return ""
