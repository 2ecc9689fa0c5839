"""Bytes and header strings to clean text: the charset a part declares is a hint, not a fact.

Rules:
- the declared charset is tried first, strictly; ``us-ascii`` and ``iso-8859-1`` are read
  as their supersets (UTF-8, windows-1252), as browsers do, since clients mislabel them;
- an unknown or wrong charset falls back to UTF-8, then windows-1252, then UTF-8 with
  replacement characters: some text always comes out, never an exception;
- every string leaving the adapter is clean: no NUL (databases refuse it) and no lone
  surrogates (the ``email`` package keeps undecodable header bytes as surrogates).
"""

from __future__ import annotations

import codecs
import re

__all__ = ["clean", "decode_bytes", "unflow"]

_FALLBACKS = ("utf-8", "windows-1252")
_SUPERSETS = {"ascii": "utf-8", "latin-1": "windows-1252", "iso8859-1": "windows-1252"}
_SURROGATES = re.compile("[\ud800-\udfff]")


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, bool]:
    """``data`` as text, and whether the declared charset (or its superset) read it."""
    declared_codec = _codec_name(declared)
    for name in dict.fromkeys(n for n in (declared_codec, *_FALLBACKS) if n):
        text = _strict_decode(data, name)
        if text is not None:
            return clean(text), name == declared_codec or declared is None
    return clean(data.decode("utf-8", errors="replace")), False


def _strict_decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (ValueError, LookupError):  # undecodable, or not a text codec (base64, zlib…)
        return None


def _codec_name(declared: str | None) -> str | None:
    if not declared:
        return None
    try:
        name = codecs.lookup(declared.strip().strip('"').lower()).name
    except (LookupError, ValueError):
        return None
    return _SUPERSETS.get(name, name)


def clean(value: str) -> str:
    """``value`` without NUL characters, its stray surrogate bytes read as UTF-8 or cp1252."""
    if _SURROGATES.search(value):
        try:
            raw = value.encode("utf-8", errors="surrogateescape")
        except UnicodeEncodeError:
            raw = value.encode("utf-8", errors="replace")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("windows-1252", errors="replace")
    return value.replace("\x00", "")


def unflow(text: str, *, delsp: bool) -> str:
    """Join the soft line breaks of a ``format=flowed`` body (RFC 3676, section 4)."""
    lines: list[str] = []
    joining, joining_depth = False, 0
    for line in text.split("\n"):
        content = line.lstrip(">")
        depth = len(line) - len(content)
        content = content.removeprefix(" ")  # space-stuffing
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        if joining and depth == joining_depth:
            lines[-1] += content
        else:
            lines.append(f"{'>' * depth} {content}".rstrip(" ") if depth else content)
        joining, joining_depth = flowed, depth
    return "\n".join(lines)
