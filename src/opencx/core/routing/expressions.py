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

Here live the public names; the lexer, the parser and the closures they compile to are in
the private ``_expression_*`` modules beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, Literal

from opencx.core.routing._expression_closures import Data, Pred, always
from opencx.core.routing._expression_lexer import ExpressionError
from opencx.core.routing._expression_parser import ROOTS, Parser

__all__ = ["TRUE", "Expression", "ExpressionError", "compile_expression"]

_MAX_LENGTH: Final = 4000
_EMPTY: Final[Data] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled routing expression; ``evaluate`` is cheap and never raises.

    Two expressions are equal when they come from the same source read the same way.
    """

    source: str
    roots: frozenset[str]
    _default_root: str | None = field(repr=False)  # the root of unqualified paths, if any
    _fn: Pred = field(repr=False, compare=False)
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
    if default_root not in ROOTS:
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
    parser = Parser(source, default_root)
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


#: The expression that holds for everyone and everything (an empty source compiles to it).
TRUE: Final[Expression] = Expression(source="", roots=frozenset(), _default_root=None, _fn=always)
