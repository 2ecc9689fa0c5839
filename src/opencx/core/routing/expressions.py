"""Routing expressions: a small, safe language for routing targets and filters.

``compile_expression(source, default_root=...)`` parses a source once into closures (never
``eval``); ``Expression.evaluate(task, worker)`` then runs in the routing hot path.

Rules:
- syntax, loosest first: ``a OR b``, ``a AND b``, ``NOT a``, then one comparison
  ``value op value`` with ``op`` one of ``== != < <= > >= IN NOT IN HAS CONTAINS``
  (comparisons do not chain); parentheses group; keywords are case-insensitive, names are not;
- literals: ``'text'`` or ``"text"`` (escapes ``\\\\ \\' \\" \\n \\t``), numbers (``42``,
  ``-1.5``, ``1e3``), ``true``, ``false``, ``null``, and lists of literals ``[1, "a"]``
  (also ``(1, "a")`` right after ``IN`` / ``NOT IN``); lists hold literals only;
- a path ``a.b.c`` reads ``default_root["a"]["b"]["c"]``; a first segment ``task`` or
  ``worker`` names that root instead (``task`` alone is the whole task). Names are letters,
  digits, ``_`` and ``-``, starting with a letter or ``_``; any name may follow a dot,
  keywords included (``worker.in``). A missing key, or a step into something that is not
  a mapping, gives null; a root passed as None is empty. ``roots`` lists the roots that the
  paths of the source name;
- ``==``: numbers (int or float, never bool) compare numerically, a bool equals only a bool,
  a string only a string, null only null, lists (list or tuple) element by element, mappings
  key by key; values of different kinds, or of any other type, are never equal.
  ``!=`` is ``NOT ==``;
- ``< <= > >=``: number with number or string with string (code point order); anything else,
  null and NaN included, is false;
- ``a IN b``: b a list → some element ``==`` a; a and b strings → a is a substring of b;
  anything else is false. ``a NOT IN b`` is ``NOT (a IN b)``;
- ``a HAS b``: a a list → some element ``==`` b; a a mapping → b is a string key of a;
  anything else is false;
- ``a CONTAINS b``: a and b strings → b is a substring of a (case-sensitive); a a list →
  ``a HAS b``; anything else is false;
- a value alone is true only when it is exactly ``true``: a missing flag is false;
- AND and OR short-circuit; evaluation never raises, whatever JSON-like data it reads;
- an empty or blank source compiles to ``TRUE``; a source longer than 4,000 characters or
  with parentheses nested deeper than 50 is refused. Every ``ExpressionError`` names what was
  expected and what was found and ends with ``at column N``: 1-based, counting every
  character of the source, ``len(source) + 1`` for its end.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, Literal, NoReturn

from opencx.core.errors import InvalidInput

__all__ = ["TRUE", "Expression", "ExpressionError", "compile_expression"]

_Data = Mapping[str, Any]
_Pred = Callable[[_Data, _Data], bool]
_Getter = Callable[[_Data, _Data], Any]
_Test = Callable[[Any], bool]

_MAX_LENGTH: Final = 4000
_MAX_DEPTH: Final = 50
_ROOTS: Final = frozenset({"task", "worker"})
_EMPTY: Final[_Data] = MappingProxyType({})
_LISTS: Final = (list, tuple)


class ExpressionError(InvalidInput):
    """A routing expression that does not compile.

    The detail says what was expected and what was found and ends with ``at column N``
    (1-based); ``extra`` carries ``column`` and ``expression`` (the source).
    """

    def __init__(self, detail: str, *, column: int, expression: str) -> None:
        super().__init__(f"{detail} at column {column}", column=column, expression=expression)
        self.column = column
        self.expression = expression


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled routing expression; ``evaluate`` is cheap and never raises.

    Two expressions are equal when they come from the same source read the same way.
    """

    source: str
    roots: frozenset[str]
    _default_root: str | None = field(repr=False)  # the root of unqualified paths, if any
    _fn: _Pred = field(repr=False, compare=False)
    # The operands of a top-level AND, with the roots each reads (empty when there is none).
    _operands: tuple[tuple[str, frozenset[str]], ...] = field(default=(), repr=False, compare=False)

    def evaluate(
        self, task: Mapping[str, Any] | None = None, worker: Mapping[str, Any] | None = None
    ) -> bool:
        """Whether the expression holds for this task and worker (None reads as empty)."""
        return self._fn(_EMPTY if task is None else task, _EMPTY if worker is None else worker)

    def split(self, root: Literal["task", "worker"]) -> tuple[Expression, Expression]:
        """``(free, bound)``: the operands of a top-level AND that do not read ``root``,
        and those that do, each AND-ed again; ``free and bound`` holds exactly when this
        expression does. Lets the router check the worker-only part of a queue target
        once per worker instead of once per task."""
        if root not in self.roots:
            return self, TRUE
        if not self._operands:
            return TRUE, self
        default = self._default_root or root
        free = [text for text, roots in self._operands if root not in roots]
        bound = [text for text, roots in self._operands if root in roots]
        return (
            compile_expression(" AND ".join(free), default_root=default),  # type: ignore[arg-type]
            compile_expression(" AND ".join(bound), default_root=default),  # type: ignore[arg-type]
        )


def compile_expression(source: str, *, default_root: Literal["task", "worker"]) -> Expression:
    """Parse ``source`` once, or raise ``ExpressionError`` saying where it goes wrong."""
    if default_root not in _ROOTS:
        raise ValueError(f"default_root must be 'task' or 'worker', not {default_root!r}")
    return _compile(source, default_root)


@lru_cache(maxsize=1024)
def _compile(source: str, default_root: str) -> Expression:
    if len(source) > _MAX_LENGTH:
        raise ExpressionError(
            f"expected at most {_MAX_LENGTH} characters but found {len(source)}",
            column=_MAX_LENGTH + 1,
            expression=source,
        )
    if not source or source.isspace():
        return TRUE
    parser = _Parser(source, default_root)
    fn = parser.parse()
    # One top-level conjunction means no top-level OR: its operands may be split.
    operands = parser.top_conjunctions[0] if len(parser.top_conjunctions) == 1 else []
    return Expression(
        source=source,
        roots=frozenset(parser.roots),
        _default_root=default_root if parser.uses_default else None,
        _fn=fn,
        _operands=tuple(operands) if len(operands) > 1 else (),
    )


# --- predicates -----------------------------------------------------------------------------


def _always(task: _Data, worker: _Data) -> bool:
    return True


def _never(task: _Data, worker: _Data) -> bool:
    return False


#: The expression that holds for everyone and everything (an empty source compiles to it).
TRUE: Final[Expression] = Expression(source="", roots=frozenset(), _default_root=None, _fn=_always)


def _any_of(preds: list[_Pred]) -> _Pred:
    if any(pred is _always for pred in preds):
        return _always
    kept = [pred for pred in preds if pred is not _never]
    return _joined(kept, is_or=True) if kept else _never


def _all_of(preds: list[_Pred]) -> _Pred:
    if any(pred is _never for pred in preds):
        return _never
    kept = [pred for pred in preds if pred is not _always]
    return _joined(kept, is_or=False) if kept else _always


def _joined(preds: list[_Pred], *, is_or: bool) -> _Pred:
    """A balanced tree of two-way ``or``/``and``: fast, short-circuiting, shallow."""
    if len(preds) == 1:
        return preds[0]
    middle = len(preds) // 2
    first = _joined(preds[:middle], is_or=is_or)
    second = _joined(preds[middle:], is_or=is_or)
    if is_or:

        def either(task: _Data, worker: _Data) -> bool:
            return first(task, worker) or second(task, worker)

        return either

    def both(task: _Data, worker: _Data) -> bool:
        return first(task, worker) and second(task, worker)

    return both


def _negate(pred: _Pred) -> _Pred:
    if pred is _always:
        return _never
    if pred is _never:
        return _always

    def negated(task: _Data, worker: _Data) -> bool:
        return not pred(task, worker)

    return negated


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Value:
    """One operand: a getter, plus its value when known at compile time."""

    get: _Getter
    constant: bool = False
    literal: Any = None
    predicate: _Pred | None = None  # set when the operand is a parenthesised expression


def _constant(literal: Any) -> _Value:
    def get(task: _Data, worker: _Data) -> Any:
        return literal

    return _Value(get=get, constant=True, literal=literal)


def _grouped(pred: _Pred) -> _Value:
    if pred is _always or pred is _never:
        return _constant(pred is _always)
    return _Value(get=pred, predicate=pred)


def _truthy(value: _Value) -> _Pred:
    if value.constant:
        return _always if value.literal is True else _never
    if value.predicate is not None:
        return value.predicate
    get = value.get

    def truthy(task: _Data, worker: _Data) -> bool:
        return get(task, worker) is True

    return truthy


def _path_getter(is_task: bool, path: tuple[str, ...]) -> _Getter:
    if not path:
        return _task_root if is_task else _worker_root
    first, rest = path[0], path[1:]
    if not rest:

        def get_one(task: _Data, worker: _Data) -> Any:
            return (task if is_task else worker).get(first)

        return get_one

    def get_deep(task: _Data, worker: _Data) -> Any:
        value = (task if is_task else worker).get(first)
        for key in rest:
            if type(value) is dict or isinstance(value, Mapping):
                value = value.get(key)
            else:
                return None
        return value

    return get_deep


def _task_root(task: _Data, worker: _Data) -> Any:
    return task


def _worker_root(task: _Data, worker: _Data) -> Any:
    return worker


# --- semantics on plain values --------------------------------------------------------------


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float or (kind is not bool and isinstance(value, (int, float)))


def _eq(a: Any, b: Any) -> bool:
    if a is None or b is None or a is True or a is False or b is True or b is False:
        return a is b
    if isinstance(a, str):
        return isinstance(b, str) and a == b
    if isinstance(a, (int, float)):
        return isinstance(b, (int, float)) and a == b
    if isinstance(a, (*_LISTS, Mapping)):
        return _eq_deep(a, b)
    return False


def _eq_deep(a: Any, b: Any) -> bool:
    """``_eq`` on containers, with an explicit stack so that deep data cannot recurse."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if isinstance(x, _LISTS):
            if not isinstance(y, _LISTS) or len(x) != len(y):
                return False
            pending.extend(zip(x, y, strict=True))
        elif isinstance(x, Mapping):
            if not isinstance(y, Mapping) or len(x) != len(y):
                return False
            for key, value in x.items():
                if key not in y:
                    return False
                pending.append((value, y[key]))
        elif not _eq(x, y):
            return False
    return True


def _in_list(item: Any, items: Sequence[Any]) -> bool:
    kind = type(item)
    if kind is str or item is None:
        return item in items  # exact: among JSON values only an equal string equals a string
    if kind is bool:
        return any(element is item for element in items)
    return any(_eq(item, element) for element in items)


def _ordering(compare: Callable[[Any, Any], Any]) -> Callable[[Any, Any], bool]:
    def ordered(a: Any, b: Any) -> bool:
        if isinstance(a, str):
            return isinstance(b, str) and bool(compare(a, b))
        return _is_number(a) and _is_number(b) and bool(compare(a, b))

    return ordered


def _in(a: Any, b: Any) -> bool:
    if isinstance(b, _LISTS):
        return _in_list(a, b)
    return isinstance(a, str) and isinstance(b, str) and a in b


def _has(a: Any, b: Any) -> bool:
    if isinstance(a, _LISTS):
        return _in_list(b, a)
    return isinstance(a, Mapping) and isinstance(b, str) and b in a


def _contains(a: Any, b: Any) -> bool:
    if isinstance(a, str):
        return isinstance(b, str) and b in a
    return isinstance(a, _LISTS) and _in_list(b, a)


_COMPARE: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_MIRROR: Final = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_BINARY: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "==": _eq,
    "IN": _in,
    "HAS": _has,
    "CONTAINS": _contains,
    **{op: _ordering(compare) for op, compare in _COMPARE.items()},
}


# --- comparisons, specialised at compile time -----------------------------------------------


def _compare(op: str, left: _Value, right: _Value) -> _Pred:
    if op == "!=":
        return _negate(_compare("==", left, right))
    if op == "NOT IN":
        return _negate(_compare("IN", left, right))
    if left.constant and right.constant:
        return _always if _BINARY[op](left.literal, right.literal) else _never
    if right.constant:
        return _applied(_right_constant_test(op, right.literal), left.get)
    if left.constant:
        return _applied(_left_constant_test(op, left.literal), right.get)
    fn, get_left, get_right = _BINARY[op], left.get, right.get

    def compared(task: _Data, worker: _Data) -> bool:
        return fn(get_left(task, worker), get_right(task, worker))

    return compared


def _applied(test: _Test, get: _Getter) -> _Pred:
    if test is _never_test:
        return _never

    def applied(task: _Data, worker: _Data) -> bool:
        return test(get(task, worker))

    return applied


def _never_test(value: Any) -> bool:
    return False


def _right_constant_test(op: str, constant: Any) -> _Test:
    """The test of ``value op constant``."""
    if op == "==":
        return _equals_test(constant)
    if op in _COMPARE:
        return _order_test(op, constant)
    if op == "IN":
        if isinstance(constant, tuple):
            return _member_test(constant)
        return _substring_of_test(constant) if isinstance(constant, str) else _never_test
    return _has_test(constant) if op == "HAS" else _contains_test(constant)


def _left_constant_test(op: str, constant: Any) -> _Test:
    """The test of ``constant op value``."""
    if op == "==":
        return _equals_test(constant)
    if op in _COMPARE:
        return _order_test(_MIRROR[op], constant)
    if op == "IN":
        return lambda value: _in(constant, value)
    if isinstance(constant, tuple):  # a literal list HAS or CONTAINS x: x IN the list
        return _member_test(constant)
    if op == "CONTAINS" and isinstance(constant, str):
        return _substring_of_test(constant)
    return _never_test


def _equals_test(constant: Any) -> _Test:
    if constant is None or isinstance(constant, bool):
        return lambda value: value is constant
    if isinstance(constant, str):
        text: str = constant
        return lambda value: isinstance(value, str) and text == value
    if isinstance(constant, (int, float)):
        number: float = constant
        return lambda value: _is_number(value) and number == value
    return lambda value: _eq(value, constant)


def _order_test(op: str, constant: Any) -> _Test:
    compare = _COMPARE[op]
    if isinstance(constant, str):
        return lambda value: isinstance(value, str) and bool(compare(value, constant))
    if _is_number(constant):
        return lambda value: _is_number(value) and bool(compare(value, constant))
    return _never_test


def _member_test(items: tuple[Any, ...]) -> _Test:
    """``value IN [literals]`` with set lookups; bools apart, so that true IN [1] is false."""
    scalars = frozenset(item for item in items if not isinstance(item, bool))
    flags = frozenset(item for item in items if isinstance(item, bool))

    def member(value: Any) -> bool:
        kind = type(value)
        if kind is str or kind is int or kind is float or value is None:
            return value in scalars
        if kind is bool:
            return value in flags
        return _in_list(value, items)  # subclasses (str enums...) and containers

    return member


def _substring_of_test(text: str) -> _Test:
    return lambda value: isinstance(value, str) and value in text


def _has_test(constant: Any) -> _Test:
    is_key = isinstance(constant, str)

    def has(value: Any) -> bool:
        if isinstance(value, _LISTS):
            return _in_list(constant, value)
        return is_key and isinstance(value, Mapping) and constant in value

    return has


def _contains_test(constant: Any) -> _Test:
    is_text = isinstance(constant, str)

    def contains(value: Any) -> bool:
        if isinstance(value, str):
            return is_text and constant in value
        return isinstance(value, _LISTS) and _in_list(constant, value)

    return contains


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "str", "num", "name", "kw", "op", "end", or the punctuation itself
    text: str  # as written
    column: int
    value: Any = None  # the literal, or the upper-cased keyword


_KEYWORDS: Final = frozenset({"AND", "OR", "NOT", "IN", "HAS", "CONTAINS", "TRUE", "FALSE", "NULL"})
_LITERAL_WORDS: Final[dict[str, Any]] = {"TRUE": True, "FALSE": False, "NULL": None}
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


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
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
            tokens.append(_Token("num", text, pos + 1, _number(source, pos, end)))
        elif kind == "name" and text.upper() in _KEYWORDS:
            tokens.append(_Token("kw", text, pos + 1, text.upper()))
        elif kind != "ws":
            tokens.append(_Token(kind if kind in ("name", "op") else text, text, pos + 1))
        pos = end
    tokens.append(_Token("end", "", len(source) + 1))
    return tokens


def _number(source: str, start: int, end: int) -> int | float:
    stop = end
    while stop < len(source) and (source[stop] in _WORD_CHARS):
        stop += 1
    if stop > end:  # 1abc, 1.2.3: not a number, and not a number next to a name either
        _raise(source, f"expected a number but found '{_shorten(source[start:stop])}'", start + 1)
    text = source[start:end]
    return float(text) if any(c in text for c in ".eE") else int(text)


def _read_string(source: str, start: int) -> tuple[_Token, int]:
    quote, parts, pos = source[start], [], start + 1
    chunk = pos
    while pos < len(source):
        char = source[pos]
        if char == quote:
            parts.append(source[chunk:pos])
            return _Token("str", source[start : pos + 1], start + 1, "".join(parts)), pos + 1
        if char == "\\" and pos + 1 < len(source):
            escape = source[pos + 1]
            if escape not in _ESCAPES:
                _raise(
                    source,
                    f"expected one of the escapes \\\\ \\' \\\" \\n \\t but found \\{escape}",
                    pos + 1,
                )
            parts += [source[chunk:pos], _ESCAPES[escape]]
            pos = chunk = pos + 2
            continue
        pos += 1
    _raise(
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
        _raise(source, f"expected a number after '-' but found {found}", pos + 2)
    if char in _HINTS:
        found = source[pos : pos + 2] if source[pos : pos + 2] in ("&&", "||") else char
        _raise(source, f"expected {_HINTS[char]} but found '{found}'", pos + 1)
    _raise(
        source,
        f"expected a name, value, operator or bracket but found unknown character {char!r}",
        pos + 1,
    )


def _raise(source: str, detail: str, column: int) -> NoReturn:
    raise ExpressionError(detail, column=column, expression=source)


def _shorten(text: str) -> str:
    return text if len(text) <= 30 else text[:27] + "..."


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "end of expression"
    if token.kind == "kw":
        return str(token.value)
    if token.kind == "str":
        return _shorten(token.text)
    return f"'{_shorten(token.text)}'"


# --- parser ---------------------------------------------------------------------------------


class _Parser:
    """Recursive descent straight to closures; records the roots that paths name."""

    def __init__(self, source: str, default_root: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.pos = 0
        self.default_root = default_root
        self.roots: set[str] = set()
        self.uses_default = False
        self.depth = 0
        self.bare = False  # whether the last comparison parsed was a value alone
        self.top_conjunctions: list[list[tuple[str, frozenset[str]]]] = []

    def parse(self) -> _Pred:
        pred = self.expression(None)
        if self.peek().kind != "end":
            self.fail(self.expected_after_comparison("end of expression"), self.peek())
        return pred

    def expression(self, after: str | None) -> _Pred:
        preds = [self.conjunction(after)]
        while self.at_keyword("OR"):
            self.take()
            preds.append(self.conjunction("OR"))
        return _any_of(preds)

    def conjunction(self, after: str | None) -> _Pred:
        top = self.depth == 0
        preds: list[_Pred] = []
        spans: list[tuple[str, frozenset[str]]] = []
        while True:
            # Each operand's text and roots, so a top-level AND can be split by root.
            start, outer = self.peek().column - 1, self.roots
            self.roots = set()
            preds.append(self.negation(after))
            end = self.peek().column - 1
            spans.append((self.source[start:end].strip(), frozenset(self.roots)))
            self.roots = outer | self.roots
            if not self.at_keyword("AND"):
                break
            self.take()
            after = "AND"
        if top:
            self.top_conjunctions.append(spans)
        return _all_of(preds)

    def negation(self, after: str | None) -> _Pred:
        negated = False
        while self.at_keyword("NOT"):  # a loop, not recursion: NOT NOT ... cannot blow the stack
            self.take()
            negated, after = not negated, "NOT"
        pred = self.comparison(after)
        return _negate(pred) if negated else pred

    def comparison(self, after: str | None) -> _Pred:
        left = self.value(after)
        op = self.operator()
        self.bare = op is None
        if op is None:
            return _truthy(left)
        shown = op if op[0].isalpha() else f"'{op}'"
        if op in ("IN", "NOT IN"):
            if self.peek().kind == "(":
                return _compare(op, left, self.literal_list(self.take(), ")"))
            return _compare(op, left, self.value(shown, "a list or value"))
        return _compare(op, left, self.value(shown))

    def operator(self) -> str | None:
        token = self.peek()
        if token.kind == "op":
            self.take()
            return token.text
        if token.kind != "kw" or token.value not in ("IN", "HAS", "CONTAINS", "NOT"):
            return None
        self.take()
        if token.value != "NOT":
            return str(token.value)
        if not self.at_keyword("IN"):
            self.fail("IN after NOT", self.peek())
        self.take()
        return "NOT IN"

    def value(self, after: str | None, expected: str = "a value") -> _Value:
        token = self.take()
        if token.kind in ("str", "num"):
            return _constant(token.value)
        if token.kind == "kw" and token.value in _LITERAL_WORDS:
            return _constant(_LITERAL_WORDS[token.value])
        if token.kind == "name":
            return self.path(token)
        if token.kind == "[":
            return self.literal_list(token, "]")
        if token.kind == "(":
            return self.group(token)
        self.fail(f"{expected} after {after}" if after else expected, token)

    def path(self, first: _Token) -> _Value:
        segments = [first.text]
        while self.peek().kind == ".":
            self.take()
            segment = self.take()
            if segment.kind not in ("name", "kw"):
                self.fail("a name after '.'", segment)
            segments.append(segment.text)
        if segments[0] in _ROOTS:
            root, path = segments[0], segments[1:]
        else:
            root, path = self.default_root, segments
            self.uses_default = True
        self.roots.add(root)
        return _Value(get=_path_getter(root == "task", tuple(path)))

    def literal_list(self, opening: _Token, closing: str) -> _Value:
        items: list[Any] = []
        token = self.take()
        if token.kind == closing:
            return _constant(())
        kinds = "(string, number, true, false or null)"
        expected = f"a literal {kinds} or '{closing}' after '{opening.text}'"
        while True:
            if not _is_literal(token):
                self.fail(expected, token)
            items.append(_LITERAL_WORDS[token.value] if token.kind == "kw" else token.value)
            token = self.take()
            if token.kind == closing:
                return _constant(tuple(items))
            if token.kind != ",":
                where = f"the list opened at column {opening.column}"
                self.fail(f"',' or '{closing}' to close {where}", token)
            token = self.take()
            expected = f"a list item {kinds} after ','"

    def group(self, opening: _Token) -> _Value:
        if self.depth >= _MAX_DEPTH:
            _raise(
                self.source,
                f"expected at most {_MAX_DEPTH} nested parentheses but found deeper nesting",
                opening.column,
            )
        self.depth += 1
        pred = self.expression("'('")
        if self.peek().kind != ")":
            closer = f"')' to close the '(' at column {opening.column}"
            self.fail(self.expected_after_comparison(closer), self.peek())
        self.take()
        self.depth -= 1
        return _grouped(pred)

    def expected_after_comparison(self, closer: str) -> str:
        return ("an operator, " if self.bare else "") + f"AND, OR or {closer}"

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        if token.kind != "end":
            self.pos += 1
        return token

    def at_keyword(self, word: str) -> bool:
        token = self.tokens[self.pos]
        return token.kind == "kw" and token.value == word

    def fail(self, expected: str, token: _Token) -> NoReturn:
        _raise(self.source, f"expected {expected} but found {_describe(token)}", token.column)


def _is_literal(token: _Token) -> bool:
    return token.kind in ("str", "num") or (token.kind == "kw" and token.value in _LITERAL_WORDS)
