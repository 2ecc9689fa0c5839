"""What the routing expression operators mean on plain JSON-like values (private).

Rules:
- ``BINARY`` is the meaning of each operator on two values; ``right_constant_test`` and
  ``left_constant_test`` give the same answers with one side known at compile time, only
  faster, so a comparison means the same whichever sides are literals;
- nothing here raises, whatever it is given: a value of a kind an operator does not cover
  makes the comparison false;
- deep equality walks containers with an explicit stack, so deep data cannot recurse.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

__all__ = ["BINARY", "ValueTest", "left_constant_test", "never_test", "right_constant_test"]

#: A test of one value, the other side of the comparison being a constant.
ValueTest = Callable[[Any], bool]

_LISTS: Final = (list, tuple)


# --- the operators on plain values -----------------------------------------------------------


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
BINARY: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "==": _eq,
    "IN": _in,
    "HAS": _has,
    "CONTAINS": _contains,
    **{op: _ordering(compare) for op, compare in _COMPARE.items()},
}


# --- tests against a constant, chosen at compile time -----------------------------------


def never_test(value: Any) -> bool:
    return False


def right_constant_test(op: str, constant: Any) -> ValueTest:
    """The test of ``value op constant``."""
    if op == "==":
        return _equals_test(constant)
    if op in _COMPARE:
        return _order_test(op, constant)
    if op == "IN":
        if isinstance(constant, tuple):
            return _member_test(constant)
        return _substring_of_test(constant) if isinstance(constant, str) else never_test
    return _has_test(constant) if op == "HAS" else _contains_test(constant)


def left_constant_test(op: str, constant: Any) -> ValueTest:
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
    return never_test


def _equals_test(constant: Any) -> ValueTest:
    if constant is None or isinstance(constant, bool):
        return lambda value: value is constant
    if isinstance(constant, str):
        text: str = constant
        return lambda value: isinstance(value, str) and text == value
    if isinstance(constant, (int, float)):
        number: float = constant
        return lambda value: _is_number(value) and number == value
    return lambda value: _eq(value, constant)


def _order_test(op: str, constant: Any) -> ValueTest:
    compare = _COMPARE[op]
    if isinstance(constant, str):
        return lambda value: isinstance(value, str) and bool(compare(value, constant))
    if _is_number(constant):
        return lambda value: _is_number(value) and bool(compare(value, constant))
    return never_test


def _member_test(items: tuple[Any, ...]) -> ValueTest:
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


def _substring_of_test(text: str) -> ValueTest:
    return lambda value: isinstance(value, str) and value in text


def _has_test(constant: Any) -> ValueTest:
    is_key = isinstance(constant, str)

    def has(value: Any) -> bool:
        if isinstance(value, _LISTS):
            return _in_list(constant, value)
        return is_key and isinstance(value, Mapping) and constant in value

    return has


def _contains_test(constant: Any) -> ValueTest:
    is_text = isinstance(constant, str)

    def contains(value: Any) -> bool:
        if isinstance(value, str):
            return is_text and constant in value
        return isinstance(value, _LISTS) and _in_list(constant, value)

    return contains
