"""Formatted e-mail answers: the light markup agents write, and the HTML we accept.

Rules:
- the composer sends light markup (a small part of Markdown), never HTML: ``**bold**``,
  ``*italic*``, lines starting ``- `` (or ``* ``) for a bulleted list and ``1. `` for a
  numbered one, ``[words](https://…)`` for a link; a blank line starts a paragraph, a
  single line break stays one; everything else is text, escaped;
- ``markup_html`` turns it into the HTML part of the e-mail and ``markup_text`` into its
  text part, which reads as the agent wrote it without the markers: bold and italic
  lose their stars, a link becomes ``words (https://…)``, lists keep their ``- `` and
  ``1. ``;
- a link goes only to ``http``, ``https`` or ``mailto`` addresses; any other one stays
  the text it was;
- HTML that a client sends (``body_html``) is rebuilt by ``sanitize_html`` (ammonia,
  through nh3, parsing as a browser does) from an allow-list before it is stored or
  sent: the tags of formatted text (paragraphs,
  emphasis, lists, quotes, headings, links, code), links to ``http``, ``https`` and
  ``mailto`` only, images only from the message's own parts (``cid:``); every other
  tag is dropped but its text kept, and the text of scripts, styles and the like is
  dropped whole; attributes other than ``href``, ``src``, ``alt`` and ``title`` are
  dropped, all text and attribute values are escaped anew, and every tag left open is
  closed, so the result is well-formed whatever came in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

import nh3

__all__ = ["markup_html", "markup_text", "safe_link", "sanitize_html"]

_BULLET = re.compile(r"^[-*] +(.*)$")
_NUMBERED = re.compile(r"^\d{1,9}[.)] +(.*)$")
# A link first (its words may hold stars), then bold, then italic.
_INLINE = re.compile(
    r"\[(?P<words>[^\]\n]+)\]\((?P<href>[^()\s]+)\)"
    r"|\*\*(?P<bold>[^*\n]+?)\*\*"
    r"|(?<![*\w])\*(?P<italic>[^*\s](?:[^*\n]*?[^*\s])?)\*(?![*\w])"
)
_SCHEMES = ("http://", "https://", "mailto:")


@dataclass(frozen=True, slots=True)
class _Block:
    """A paragraph (``kind`` ``p``) or a list (``ul``, ``ol``): its lines or items."""

    kind: str
    lines: tuple[str, ...]


def markup_html(markup: str) -> str:
    """The HTML of ``markup`` (see the module rules)."""
    parts: list[str] = []
    for block in _blocks(markup):
        if block.kind == "p":
            parts.append("<p>" + "<br>\n".join(_inline_html(line) for line in block.lines) + "</p>")
        else:
            items = "".join(f"<li>{_inline_html(item)}</li>" for item in block.lines)
            parts.append(f"<{block.kind}>{items}</{block.kind}>")
    return "\n".join(parts)


def markup_text(markup: str) -> str:
    """The plain text of ``markup``: as written, without the markers."""
    parts: list[str] = []
    for block in _blocks(markup):
        if block.kind == "p":
            parts.append("\n".join(_inline_text(line) for line in block.lines))
        elif block.kind == "ul":
            parts.append("\n".join(f"- {_inline_text(item)}" for item in block.lines))
        else:
            parts.append(
                "\n".join(f"{n}. {_inline_text(item)}" for n, item in enumerate(block.lines, 1))
            )
    return "\n\n".join(parts)


def safe_link(href: str) -> str | None:
    """``href`` when it leads to a web page or an address, else ``None``."""
    cleaned = href.strip()
    if any(ord(ch) < 33 for ch in cleaned):
        return None
    return cleaned if cleaned.lower().startswith(_SCHEMES) else None


def _blocks(markup: str) -> list[_Block]:
    blocks: list[_Block] = []
    kind = ""
    lines: list[str] = []
    for raw in markup.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        bullet, numbered = _BULLET.match(line.lstrip()), _NUMBERED.match(line.lstrip())
        this, content = (
            ("ul", bullet.group(1))
            if bullet
            else ("ol", numbered.group(1))
            if numbered
            else ("p", line)
            if line.strip()
            else ("", "")
        )
        if this != kind or not this:
            if lines:
                blocks.append(_Block(kind, tuple(lines)))
            kind, lines = this, []
        if this:
            lines.append(content)
    if lines:
        blocks.append(_Block(kind, tuple(lines)))
    return blocks


def _inline_html(line: str) -> str:
    out: list[str] = []
    at = 0
    for match in _INLINE.finditer(line):
        out.append(escape(line[at : match.start()], quote=False))
        at = match.end()
        if match["words"] is not None:
            href = safe_link(match["href"])
            words = _inline_html(match["words"])
            out.append(
                f'<a href="{escape(href)}">{words}</a>'
                if href
                else escape(match.group(0), quote=False)
            )
        elif match["bold"] is not None:
            out.append(f"<strong>{_inline_html(match['bold'])}</strong>")
        else:
            out.append(f"<em>{escape(match['italic'], quote=False)}</em>")
    out.append(escape(line[at:], quote=False))
    return "".join(out)


def _inline_text(line: str) -> str:
    def plain(match: re.Match[str]) -> str:
        if match["words"] is not None:
            href, words = safe_link(match["href"]), _inline_text(match["words"])
            if href is None:
                return match.group(0)
            return words if words == href.removeprefix("mailto:") else f"{words} ({href})"
        if match["bold"] is not None:
            return _inline_text(match["bold"])
        return str(match["italic"])

    return _INLINE.sub(plain, line)


# --- HTML from a client ------------------------------------------------------------------

#: Tags kept, with the attributes each may keep.
_FORMATTING = (
    "p",
    "br",
    "div",
    "span",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "code",
    "h1",
    "h2",
    "h3",
    "h4",
    "hr",
    "sub",
    "sup",
)
_ALLOWED: dict[str, frozenset[str]] = {
    **{tag: frozenset({"title"}) for tag in _FORMATTING},
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title"}),
}
#: Tags whose text is no text of the message: dropped with them.
_DROPPED_WHOLE = frozenset(
    (
        "script",
        "style",
        "head",
        "title",
        "template",
        "noscript",
        "iframe",
        "object",
        "embed",
        "textarea",
        "select",
        "svg",
        "math",
        "frame",
        "frameset",
        "applet",
    )
)


def sanitize_html(html: str) -> str:
    """``html`` rebuilt from the allow-list (see the module rules), by ammonia."""
    clean = nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags=set(_DROPPED_WHOLE),
        attributes=_ATTRIBUTES,
        attribute_filter=_kept_value,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel=None,
    )
    # An image whose source was not one of the message's parts shows nothing: gone.
    return _SOURCELESS_IMAGE.sub("", clean)


_TAGS = set(_ALLOWED)
#: ammonia writes attributes double-quoted with their quotes escaped.
_SOURCELESS_IMAGE = re.compile(r'<img(?: (?:alt|title)="[^"]*")*>')
_ATTRIBUTES = {tag: set(names) for tag, names in _ALLOWED.items()}


def _kept_value(tag: str, name: str, value: str) -> str | None:
    """A link only to the schemes we send, an image only from the message's own parts."""
    if name == "href":
        return safe_link(value)
    if name == "src":
        source = value.strip()
        return source if tag == "img" and source.lower().startswith("cid:") else None
    return value
