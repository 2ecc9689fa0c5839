"""The closures that a compiled routing expression is made of (private).

A predicate takes ``(task, worker)`` and says whether something holds; a value reads an
operand. The parser builds them bottom-up; ``Expression.evaluate`` only calls them.

Rules:
- ``always`` and ``never`` are the only constant predicates, and are recognised by identity:
  combinators fold them away, so a literal-only comparison costs nothing at run time;
- AND and OR become a balanced tree of two-way closures: short-circuiting, shallow, fast;
- a path that steps into something that is not a mapping reads null; nothing here raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opencx.core.routing._expression_semantics import (
    BINARY,
    ValueTest,
    left_constant_test,
    never_test,
    right_constant_test,
)

__all__ = [
    "Data",
    "Pred",
    "Value",
    "all_of",
    "always",
    "any_of",
    "compare",
    "constant",
    "grouped",
    "negate",
    "never",
    "path_getter",
    "truthy",
]

Data = Mapping[str, Any]
Pred = Callable[[Data, Data], bool]
_Getter = Callable[[Data, Data], Any]


# --- predicates -----------------------------------------------------------------------------


def always(task: Data, worker: Data) -> bool:
    return True


def never(task: Data, worker: Data) -> bool:
    return False


def any_of(preds: list[Pred]) -> Pred:
    if any(pred is always for pred in preds):
        return always
    kept = [pred for pred in preds if pred is not never]
    return _joined(kept, is_or=True) if kept else never


def all_of(preds: list[Pred]) -> Pred:
    if any(pred is never for pred in preds):
        return never
    kept = [pred for pred in preds if pred is not always]
    return _joined(kept, is_or=False) if kept else always


def _joined(preds: list[Pred], *, is_or: bool) -> Pred:
    """A balanced tree of two-way ``or``/``and``: fast, short-circuiting, shallow."""
    if len(preds) == 1:
        return preds[0]
    middle = len(preds) // 2
    first = _joined(preds[:middle], is_or=is_or)
    second = _joined(preds[middle:], is_or=is_or)
    if is_or:

        def either(task: Data, worker: Data) -> bool:
            return first(task, worker) or second(task, worker)

        return either

    def both(task: Data, worker: Data) -> bool:
        return first(task, worker) and second(task, worker)

    return both


def negate(pred: Pred) -> Pred:
    if pred is always:
        return never
    if pred is never:
        return always

    def negated(task: Data, worker: Data) -> bool:
        return not pred(task, worker)

    return negated


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Value:
    """One operand: a getter, plus its value when known at compile time."""

    get: _Getter
    constant: bool = False
    literal: Any = None
    predicate: Pred | None = None  # set when the operand is a parenthesised expression


def constant(literal: Any) -> Value:
    def get(task: Data, worker: Data) -> Any:
        return literal

    return Value(get=get, constant=True, literal=literal)


def grouped(pred: Pred) -> Value:
    if pred is always or pred is never:
        return constant(pred is always)
    return Value(get=pred, predicate=pred)


def truthy(value: Value) -> Pred:
    if value.constant:
        return always if value.literal is True else never
    if value.predicate is not None:
        return value.predicate
    get = value.get

    def is_true(task: Data, worker: Data) -> bool:
        return get(task, worker) is True

    return is_true


def path_getter(is_task: bool, path: tuple[str, ...]) -> _Getter:
    if not path:
        return _task_root if is_task else _worker_root
    first, rest = path[0], path[1:]
    if not rest:

        def get_one(task: Data, worker: Data) -> Any:
            return (task if is_task else worker).get(first)

        return get_one

    def get_deep(task: Data, worker: Data) -> Any:
        value = (task if is_task else worker).get(first)
        for key in rest:
            if type(value) is dict or isinstance(value, Mapping):
                value = value.get(key)
            else:
                return None
        return value

    return get_deep


def _task_root(task: Data, worker: Data) -> Any:
    return task


def _worker_root(task: Data, worker: Data) -> Any:
    return worker


# --- comparisons, specialised at compile time -----------------------------------------------


def compare(op: str, left: Value, right: Value) -> Pred:
    if op == "!=":
        return negate(compare("==", left, right))
    if op == "NOT IN":
        return negate(compare("IN", left, right))
    if left.constant and right.constant:
        return always if BINARY[op](left.literal, right.literal) else never
    if right.constant:
        return _applied(right_constant_test(op, right.literal), left.get)
    if left.constant:
        return _applied(left_constant_test(op, left.literal), right.get)
    fn, get_left, get_right = BINARY[op], left.get, right.get

    def compared(task: Data, worker: Data) -> bool:
        return fn(get_left(task, worker), get_right(task, worker))

    return compared


def _applied(test: ValueTest, get: _Getter) -> Pred:
    if test is never_test:
        return never

    def applied(task: Data, worker: Data) -> bool:
        return test(get(task, worker))

    return applied
