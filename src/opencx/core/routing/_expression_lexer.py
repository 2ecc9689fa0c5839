"""The tokens of a routing expression, and how a syntax error is reported (private).

Rules:
- a token's column is 1-based and counts every character of the source; the end token
  stands at ``len(source) + 1``;
- keywords are matched case-insensitively and carry their upper-cased spelling; names keep
  theirs;
- every error is an ``ExpressionError`` saying what was expected and what was found, with
  long source text shortened to 30 characters; a common slip (``=``, ``!``, ``&&``,
  ``||``) names the operator that was probably meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, NoReturn

from opencx.core.errors import InvalidInput

__all__ = ["LITERAL_WORDS", "ExpressionError", "Token", "describe", "raise_error", "tokenize"]


class ExpressionError(InvalidInput):
    """A routing expression that does not compile.

    The detail says what was expected and what was found and ends with ``at column N``
    (1-based); ``extra`` carries ``column`` and ``expression`` (the source).
    """

    # Raised from here, but public through ``expressions``: tracebacks and pickles name it
    # where callers import it from.
    __module__ = "opencx.core.routing.expressions"

    def __init__(self, detail: str, *, column: int, expression: str) -> None:
        super().__init__(f"{detail} at column {column}", column=column, expression=expression)
        self.column = column
        self.expression = expression


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "str", "num", "name", "kw", "op", "end", or the punctuation itself
    text: str  # as written
    column: int
    value: Any = None  # the literal, or the upper-cased keyword


_KEYWORDS: Final = frozenset({"AND", "OR", "NOT", "IN", "HAS", "CONTAINS", "TRUE", "FALSE", "NULL"})
LITERAL_WORDS: Final[dict[str, Any]] = {"TRUE": True, "FALSE": False, "NULL": None}
_ESCAPES: Final = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_TOKEN: Final = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*)"
    r"|(?P<op>[=!<>]=|[<>])"
    r"|(?P<punct>[()\[\],.])"
)
_WORD_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.")
_HINTS: Final = {"=": "'=='", "!": "'!='", "&": "AND", "|": "OR"}


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        if source[pos] in "'\"":
            token, pos = _read_string(source, pos)
            tokens.append(token)
            continue
        match = _TOKEN.match(source, pos)
        if match is None:
            _bad_character(source, pos)
        kind, text, end = match.lastgroup, match.group(), match.end()
        if kind == "num":
            tokens.append(Token("num", text, pos + 1, _number(source, pos, end)))
        elif kind == "name" and text.upper() in _KEYWORDS:
            tokens.append(Token("kw", text, pos + 1, text.upper()))
        elif kind != "ws":
            tokens.append(Token(kind if kind in ("name", "op") else text, text, pos + 1))
        pos = end
    tokens.append(Token("end", "", len(source) + 1))
    return tokens


def _number(source: str, start: int, end: int) -> int | float:
    stop = end
    while stop < len(source) and (source[stop] in _WORD_CHARS):
        stop += 1
    if stop > end:  # 1abc, 1.2.3: not a number, and not a number next to a name either
        raise_error(
            source, f"expected a number but found '{_shorten(source[start:stop])}'", start + 1
        )
    text = source[start:end]
    return float(text) if any(c in text for c in ".eE") else int(text)


def _read_string(source: str, start: int) -> tuple[Token, int]:
    quote, parts, pos = source[start], [], start + 1
    chunk = pos
    while pos < len(source):
        char = source[pos]
        if char == quote:
            parts.append(source[chunk:pos])
            return Token("str", source[start : pos + 1], start + 1, "".join(parts)), pos + 1
        if char == "\\" and pos + 1 < len(source):
            escape = source[pos + 1]
            if escape not in _ESCAPES:
                raise_error(
                    source,
                    f"expected one of the escapes \\\\ \\' \\\" \\n \\t but found \\{escape}",
                    pos + 1,
                )
            parts += [source[chunk:pos], _ESCAPES[escape]]
            pos = chunk = pos + 2
            continue
        pos += 1
    raise_error(
        source,
        f"expected a closing {quote} for the string that starts at column {start + 1} "
        "but found end of expression",
        len(source) + 1,
    )


def _bad_character(source: str, pos: int) -> NoReturn:
    char = source[pos]
    if char == "-":
        following = source[pos + 1 : pos + 2]
        found = repr(following) if following else "end of expression"
        raise_error(source, f"expected a number after '-' but found {found}", pos + 2)
    if char in _HINTS:
        found = source[pos : pos + 2] if source[pos : pos + 2] in ("&&", "||") else char
        raise_error(source, f"expected {_HINTS[char]} but found '{found}'", pos + 1)
    raise_error(
        source,
        f"expected a name, value, operator or bracket but found unknown character {char!r}",
        pos + 1,
    )


def raise_error(source: str, detail: str, column: int) -> NoReturn:
    raise ExpressionError(detail, column=column, expression=source)


def _shorten(text: str) -> str:
    return text if len(text) <= 30 else text[:27] + "..."


def describe(token: Token) -> str:
    if token.kind == "end":
        return "end of expression"
    if token.kind == "kw":
        return str(token.value)
    if token.kind == "str":
        return _shorten(token.text)
    return f"'{_shorten(token.text)}'"
