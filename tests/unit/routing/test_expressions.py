"""Routing expressions: what each operator means, where errors point, and that it never raises."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.core.enums import PresenceState
from opencx.core.errors import InvalidInput
from opencx.core.routing.expressions import (
    TRUE,
    Expression,
    ExpressionError,
    compile_expression,
)

Root = Literal["task", "worker"]
PROPERTIES = settings(max_examples=60, deadline=None, derandomize=True, database=None)


def holds(
    source: str,
    task: dict[str, Any] | None = None,
    worker: dict[str, Any] | None = None,
    *,
    root: Root = "task",
) -> bool:
    return compile_expression(source, default_root=root).evaluate(task, worker)


# --- operators --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "task", "expected"),
    [
        ("x == 1", {"x": 1}, True),
        ("x == 1", {"x": 1.0}, True),
        ("x == 1", {"x": True}, False),
        ("x == 1", {"x": "1"}, False),
        ("x == 1", {"x": None}, False),
        ("x == 1", {}, False),
        ("x == true", {"x": True}, True),
        ("x == true", {"x": 1}, False),
        ("x == false", {"x": 0}, False),
        ("x == null", {}, True),
        ("x == null", {"x": None}, True),
        ("x == null", {"x": 0}, False),
        ("x == null", {"x": False}, False),
        ("x == null", {"x": ""}, False),
        ('x == "a"', {"x": "a"}, True),
        ('x == "a"', {"x": "A"}, False),
        ('x == [1, "a"]', {"x": [1.0, "a"]}, True),
        ('x == [1, "a"]', {"x": (1, "a")}, True),
        ('x == [1, "a"]', {"x": [1]}, False),
        ('x == [1, "a"]', {"x": [True, "a"]}, False),
        ('x == [1, "a"]', {"x": {"1": "a"}}, False),
        ("x == y", {"x": {"a": [1]}, "y": {"a": [1.0]}}, True),
        ("x == y", {"x": {"a": 1}, "y": {"a": 1, "b": 2}}, False),
        ("x == y", {"x": {"a": 1}, "y": {"b": 1}}, False),
        ("x == y", {}, True),
        ("x == y", {"x": math.nan, "y": math.nan}, False),
        ("x != 1", {"x": "1"}, True),
        ("x != 1", {}, True),
        ("x != 1", {"x": 1.0}, False),
        ("1 == x", {"x": 1}, True),
    ],
)
def test_equality_compares_values_of_one_kind(
    source: str, task: dict[str, Any], expected: bool
) -> None:
    assert holds(source, task) is expected


@pytest.mark.parametrize(
    ("source", "task", "expected"),
    [
        ("x < 2", {"x": 1}, True),
        ("x < 2", {"x": 1.5}, True),
        ("x < 2", {"x": 2}, False),
        ("x <= 2", {"x": 2}, True),
        ("x > 2", {"x": 2}, False),
        ("x >= 2", {"x": 2.0}, True),
        ("x < 2", {"x": True}, False),
        ("x < 2", {"x": "1"}, False),
        ("x < 2", {"x": None}, False),
        ("x < 2", {}, False),
        ("x >= 2", {}, False),
        ("x < 2", {"x": math.nan}, False),
        ('x >= "m"', {"x": "z"}, True),
        ('x >= "m"', {"x": "a"}, False),
        ('x < "m"', {"x": 1}, False),
        ("x < null", {"x": 1}, False),
        ("x < true", {"x": False}, False),
        ("2 > x", {"x": 1}, True),
        ("2 <= x", {"x": 1}, False),
        ("x < y", {"x": 1, "y": 2}, True),
        ("x < y", {"x": "a", "y": "b"}, True),
        ("x < y", {"x": "a", "y": 2}, False),
        ("x < y", {"x": [1], "y": [2]}, False),
    ],
)
def test_ordering_compares_numbers_with_numbers_and_strings_with_strings(
    source: str, task: dict[str, Any], expected: bool
) -> None:
    assert holds(source, task) is expected


@pytest.mark.parametrize(
    ("source", "task", "expected"),
    [
        ("1 IN [1.0]", {}, True),
        ("true IN [1]", {}, False),
        ("1 IN [true]", {}, False),
        ("x IN [1, 'a', null]", {"x": 1.0}, True),
        ("x IN [1, 'a', null]", {"x": "a"}, True),
        ("x IN [1, 'a', null]", {}, True),
        ("x IN [1, 'a', null]", {"x": "1"}, False),
        ("x IN [1, 'a', null]", {"x": True}, False),
        ("x IN [true]", {"x": True}, True),
        ("x IN [true]", {"x": 1}, False),
        ("x IN []", {"x": 1}, False),
        ("x IN (1, 2)", {"x": 2}, True),
        ("x IN ('a')", {"x": "a"}, True),
        ("x IN ()", {"x": "a"}, False),
        ("x IN y", {"x": 1, "y": [0, 1.0]}, True),
        ("x IN y", {"x": [1], "y": [[1.0], 2]}, True),
        ("x IN y", {"x": True, "y": [1]}, False),
        ("x IN y", {"x": 1, "y": {"1": 1}}, False),
        ("x IN y", {"x": 1}, False),
        ('"ill" IN x', {"x": "billing"}, True),
        ('"ILL" IN x', {"x": "billing"}, False),
        ('x IN "billing"', {"x": "bill"}, True),
        ('x IN "billing"', {"x": 1}, False),
        ("x IN 5", {"x": 5}, False),
        ("x IN null", {}, False),
    ],
)
def test_in_looks_into_lists_and_strings(source: str, task: dict[str, Any], expected: bool) -> None:
    assert holds(source, task) is expected
    assert holds(source.replace(" IN ", " NOT IN "), task) is not expected


@pytest.mark.parametrize(
    ("source", "task", "expected"),
    [
        ('x HAS "billing"', {"x": ["sales", "billing"]}, True),
        ('x HAS "billing"', {"x": ["sales"]}, False),
        ("x HAS 1", {"x": [1.0]}, True),
        ("x HAS 1", {"x": [True]}, False),
        ("x HAS [1]", {"x": [[1], 2]}, True),
        ('x HAS "tier"', {"x": {"tier": "gold"}}, True),
        ('x HAS "gold"', {"x": {"tier": "gold"}}, False),
        ("x HAS 1", {"x": {1: "one"}}, False),
        ('x HAS "b"', {"x": "abc"}, False),
        ('x HAS "b"', {}, False),
        ("x HAS y", {"x": ["fr", "en"], "y": "en"}, True),
        ("x HAS y", {"x": {"en": 1}, "y": "en"}, True),
        ("x HAS y", {"x": {"en": 1}, "y": ["en"]}, False),
        ('["fr", "en"] HAS x', {"x": "en"}, True),
        ('"fr" HAS x', {"x": "fr"}, False),
        ('x CONTAINS "ill"', {"x": "billing"}, True),
        ('x CONTAINS "ILL"', {"x": "billing"}, False),
        ('x CONTAINS "ill"', {"x": ["billing"]}, False),
        ('x CONTAINS "billing"', {"x": ["billing"]}, True),
        ('x CONTAINS "tier"', {"x": {"tier": 1}}, False),
        ("x CONTAINS 1", {"x": "1"}, False),
        ("x CONTAINS y", {"x": "billing", "y": "bill"}, True),
        ('"billing" CONTAINS x', {"x": "ill"}, True),
        ("[1, 2] CONTAINS x", {"x": 2.0}, True),
        ("1 CONTAINS x", {"x": 1}, False),
    ],
)
def test_has_and_contains(source: str, task: dict[str, Any], expected: bool) -> None:
    assert holds(source, task) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (1, False), ("yes", False), ([True], False), (None, False)],
)
def test_a_bare_value_holds_only_when_exactly_true(value: Any, expected: bool) -> None:
    assert holds("is_vip", {"is_vip": value}) is expected
    assert holds("NOT is_vip", {"is_vip": value}) is not expected


def test_a_missing_flag_is_false_and_literals_fold() -> None:
    assert holds("is_vip", {}) is False
    assert holds("true") is True
    assert holds("false OR null OR 1 OR 'x' OR [true]") is False


def test_str_enums_in_the_data_compare_as_their_strings() -> None:
    worker = {"state": PresenceState.AVAILABLE, "states": [PresenceState.NOT_READY]}
    assert holds('state == "available"', worker=worker, root="worker")
    assert holds('state IN ["offline", "available"]', worker=worker, root="worker")
    assert holds('states HAS "not_ready"', worker=worker, root="worker")
    assert holds('state CONTAINS "avail"', worker=worker, root="worker")


def test_strings_and_numbers_read_as_written() -> None:
    assert holds(r"x == 'it\'s'", {"x": "it's"})
    assert holds(r'x == "say \"hi\""', {"x": 'say "hi"'})
    assert holds(r'x == "a\\b\n\t"', {"x": "a\\b\n\t"})
    assert holds("x == 'two\nlines'", {"x": "two\nlines"})
    assert holds("x == -1.5 AND y == 1e3 AND z == -2", {"x": -1.5, "y": 1000, "z": -2.0})
    assert holds("x==-1", {"x": -1})


# --- paths and roots -----------------------------------------------------------------------


def test_paths_read_nested_mappings_and_missing_steps_are_null() -> None:
    task = {"meta": {"tier": "gold", "list": [1], "text": "abc"}}
    assert holds('meta.tier == "gold"', task)
    assert holds("meta.missing == null", task)
    assert holds("missing.deeper.still == null", task)
    assert holds("meta.list.x == null AND meta.text.x == null", task)
    assert holds("meta.tier.x.y == null", task)


def test_first_segment_task_or_worker_names_the_root() -> None:
    task, worker = {"language": "fr"}, {"languages": ["fr"], "language": "en"}
    assert holds("languages HAS task.language", task, worker, root="worker")
    assert holds("task.language == 'fr' AND language == 'en'", task, worker, root="worker")
    assert holds("worker.language == 'en' AND language == 'fr'", task, worker, root="task")
    assert holds("task HAS 'language' AND NOT worker HAS 'x'", task, worker)
    assert holds("task == worker", {"a": [1]}, {"a": [1.0]})


def test_names_may_hold_dashes_and_keywords_may_follow_a_dot() -> None:
    worker = {"first-name": "Ana", "in": True, "and": {"or": 1}}
    assert holds("first-name == 'Ana'", worker=worker, root="worker")
    assert holds("worker.in AND worker.and.or == 1", worker=worker, root="worker")


def test_names_are_case_sensitive() -> None:
    assert holds("Tier == 'gold'", {"tier": "gold"}) is False
    assert holds("Task.tier == 'gold'", {"Task": {"tier": "gold"}})


def test_a_missing_root_reads_as_empty() -> None:
    expression = compile_expression("x == null AND task.y == null", default_root="worker")
    assert expression.evaluate()
    assert expression.evaluate(None, None)
    assert not compile_expression("skills HAS 'a'", default_root="worker").evaluate()


@pytest.mark.parametrize(
    ("source", "default_root", "roots"),
    [
        ('skills HAS "billing"', "worker", {"worker"}),
        ('skills HAS "billing"', "task", {"task"}),
        ("languages HAS task.language", "worker", {"worker", "task"}),
        ("task.priority > 3", "worker", {"task"}),
        ("worker.level > 3 OR true", "task", {"worker"}),
        ("1 IN [1]", "task", set()),
        ("", "task", set()),
    ],
)
def test_roots_names_the_roots_read(source: str, default_root: Root, roots: set[str]) -> None:
    expression = compile_expression(source, default_root=default_root)
    assert expression.roots == frozenset(roots)


def test_expressions_are_values_and_the_default_root_is_part_of_them() -> None:
    def compiled(source: str, root: Root) -> Expression:
        return compile_expression(source, default_root=root)

    both = "x == task.a AND y == worker.b"
    assert compiled("x == 1", "task") == compiled("x == 1", "task")
    assert hash(compiled("x == 1", "task")) == hash(compiled("x == 1", "task"))
    assert compiled(both, "task") != compiled(both, "worker")
    assert compiled("task.x == 1", "task") == compiled("task.x == 1", "worker")
    assert "x == 1" in repr(compiled("x == 1", "task"))


def test_an_unknown_default_root_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="default_root"):
        compile_expression("x", default_root="agent")  # type: ignore[arg-type]


# --- structure ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a OR b AND c", True),  # a OR (b AND c)
        ("(a OR b) AND c", False),
        ("c AND b OR a", True),
        ("NOT c AND a", True),  # (NOT c) AND a
        ("NOT (c AND a)", True),
        ("NOT a OR a", True),
        ("NOT n == 1", True),  # NOT (n == 1)
        ("NOT NOT a", True),
        ("NOT NOT NOT a", False),
        ("(((a)))", True),
        ("(a) == true", True),
        ("(c OR a) == (a AND b)", True),
        ("(a AND c) IN [false]", True),
        ("a AND b AND NOT c AND (c OR b)", True),
        ("c OR c OR c OR a", True),
    ],
)
def test_precedence_is_or_then_and_then_not_then_comparison(source: str, expected: bool) -> None:
    flags = {"a": True, "b": True, "c": False, "n": 2}
    assert holds(source, flags) is expected


def test_keywords_are_case_insensitive() -> None:
    task = {"x": 1, "y": False, "tags": ["a"], "name": "billing"}
    assert holds("x in [1] And NOT y oR false", task)
    assert holds("x Not In [2] AND tags has 'a' and name CONTAINS 'ill' AND y == FALSE", task)
    assert holds("x == 1 AND nULL == Null AND True", task)


def test_blank_sources_mean_everyone() -> None:
    assert compile_expression("", default_root="task") is TRUE
    assert compile_expression(" \t\n", default_root="worker") is TRUE
    assert TRUE.evaluate()
    assert TRUE.evaluate({"x": 1}, {"y": 2})
    assert TRUE.source == ""
    assert TRUE.roots == frozenset()


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ("priority ==", 12, "expected a value after '==' but found end of expression"),
        ("priority == AND", 13, "expected a value after '==' but found AND"),
        ("x IN", 5, "expected a list or value after IN"),
        ("a $ b", 3, "unknown character '$'"),
        ('x == "abc', 10, 'expected a closing " for the string that starts at column 6'),
        (r"x == 'a\q'", 8, "escapes"),
        ("(a == 1", 8, "')' to close the '(' at column 1 but found end of expression"),
        ("(a == 1 b)", 9, "expected AND, OR or ')' to close the '(' at column 1 but found 'b'"),
        ("a b", 3, "expected an operator, AND, OR or end of expression but found 'b'"),
        ("a == 1 2", 8, "expected AND, OR or end of expression but found '2'"),
        ("a == b == c", 8, "expected AND, OR or end of expression but found '=='"),
        ("a NOT HAS b", 7, "expected IN after NOT but found HAS"),
        ("a NOT", 6, "expected IN after NOT but found end of expression"),
        ("x IN [1,,2]", 9, "expected a list item (string, number, true, false or null) after ','"),
        ("x IN [1,]", 9, "after ',' but found ']'"),
        ("x IN [,]", 7, "expected a literal (string, number, true, false or null) or ']'"),
        ("x IN [1 2]", 9, "expected ',' or ']' to close the list opened at column 6"),
        ("x IN [1, 2", 11, "found end of expression"),
        ("x IN [[1]]", 7, "but found '['"),
        ("x IN (y)", 7, "expected a literal (string, number, true, false or null) or ')'"),
        ("()", 2, "expected a value after '(' but found ')'"),
        ("a = 1", 3, "expected '==' but found '='"),
        ("a ! 1", 3, "expected '!=' but found '!'"),
        ("a && b", 3, "expected AND but found '&&'"),
        ("a || b", 3, "expected OR but found '||'"),
        ("x == 1abc", 6, "expected a number but found '1abc'"),
        ("x == 1.2.3", 6, "expected a number but found '1.2.3'"),
        ("x == -y", 7, "expected a number after '-' but found 'y'"),
        ("a.", 3, "expected a name after '.' but found end of expression"),
        ("a.1", 3, "expected a name after '.' but found '1'"),
        ("and", 1, "expected a value but found AND"),
        ("x AND", 6, "expected a value after AND but found end of expression"),
        ("x OR OR", 6, "expected a value after OR but found OR"),
        ("NOT", 4, "expected a value after NOT but found end of expression"),
        ("é == 1", 1, "unknown character 'é'"),
    ],
)
def test_errors_say_what_was_expected_and_where(source: str, column: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source, default_root="task")
    error = caught.value
    assert fragment in error.detail
    assert error.detail.endswith(f" at column {column}")
    assert error.column == column
    assert error.extra == {"column": column, "expression": source}
    assert isinstance(error, InvalidInput)
    assert error.code == "opencx.invalid_input"


def test_sources_over_4000_characters_are_refused() -> None:
    fits = "x == 1" + " " * 3994
    assert compile_expression(fits, default_root="task").evaluate({"x": 1})
    with pytest.raises(ExpressionError, match="at most 4000 characters but found 4001") as caught:
        compile_expression(fits + " ", default_root="task")
    assert caught.value.column == 4001


def test_parentheses_nest_at_most_50_deep() -> None:
    assert holds("(" * 50 + "a" + ")" * 50, {"a": True})
    with pytest.raises(ExpressionError, match="at most 50 nested parentheses") as caught:
        compile_expression("x AND " + "(" * 51 + "a" + ")" * 51, default_root="task")
    assert caught.value.column == 7 + 50


def test_long_chains_do_not_blow_the_stack() -> None:
    assert holds("NOT " * 999 + "a", {"a": False})  # an odd number of NOTs
    many = " OR ".join(f"x == {n}" for n in range(250))
    assert holds(many, {"x": 249})
    assert not holds(many, {"x": 250})
    assert holds(" AND ".join(["a"] * 600), {"a": True})


# --- properties ----------------------------------------------------------------------------

KEYS = ["x", "y", "tags", "meta", "in"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=4)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=2), children, max_size=4)
    ),
    max_leaves=8,
)
documents = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5)

ROOTS: tuple[Root, ...] = ("task", "worker")
VALID = [
    compile_expression(source, default_root=root)
    for root in ROOTS
    for source in [
        "x == y",
        "x != task.y",
        "x < y OR x <= 1 OR x > 'a' OR x >= worker.y",
        "x IN y AND x NOT IN [1, 'a', true, null, 2.5]",
        "x IN 'abc' OR 'a' IN x OR x IN ('a', 1)",
        "tags HAS x OR tags HAS 'a' OR meta HAS 'in' OR meta.in HAS 1",
        "tags CONTAINS y OR x CONTAINS 'a' OR tags CONTAINS [1]",
        "meta.x.y.in == meta.tags OR NOT meta",
        "(x) == (y) OR x",
        "task == worker OR task.meta == worker.meta",
        "[1, 2] HAS x OR 'abc' CONTAINS x OR 1 < x",
    ]
]


@PROPERTIES
@given(task=documents, worker=documents)
def test_evaluation_never_raises_and_always_answers_a_bool(
    task: dict[str, Any], worker: dict[str, Any]
) -> None:
    for expression in VALID:
        assert type(expression.evaluate(task, worker)) is bool


EQUALS = compile_expression("x == y", default_root="task")
DIFFERS = compile_expression("x != y", default_root="task")
IS_IN = compile_expression("x IN y", default_root="task")
NOT_IN = compile_expression("x NOT IN y", default_root="task")


@PROPERTIES
@given(a=json_values, b=json_values)
def test_not_equal_is_the_negation_of_equal(a: Any, b: Any) -> None:
    task = {"x": a, "y": b}
    assert DIFFERS.evaluate(task) is not EQUALS.evaluate(task)
    assert EQUALS.evaluate({"x": a, "y": a}) is _equal(a, a)


@PROPERTIES
@given(a=json_values, b=json_values | st.lists(scalars, max_size=4))
def test_not_in_is_the_negation_of_in(a: Any, b: Any) -> None:
    task = {"x": a, "y": b}
    assert NOT_IN.evaluate(task) is not IS_IN.evaluate(task)


# A reference reading of the rules, written the plain way, to check the compiled one against.


KINDS: list[tuple[str, type | tuple[type, ...]]] = [
    ("null", type(None)),
    ("bool", bool),
    ("number", (int, float)),
    ("string", str),
    ("list", (list, tuple)),
    ("map", dict),
]


def _kind(value: Any) -> str:
    return next((kind for kind, types in KINDS if isinstance(value, types)), "other")


def _equal(a: Any, b: Any) -> bool:
    kind = _kind(a)
    if kind != _kind(b) or kind == "other":
        return False
    if kind == "list":
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if kind == "map":
        return a.keys() == b.keys() and all(_equal(a[key], b[key]) for key in a)
    return bool(a == b)


def _reference(op: str, a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if op in ("<", "<=", ">", ">="):
        if ka != kb or ka not in ("number", "string"):
            return False
        return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])
    if op == "IN":
        if kb == "list":
            return any(_equal(a, item) for item in b)
        return ka == kb == "string" and a in b
    if op == "NOT IN":
        return not _reference("IN", a, b)
    if op == "HAS" or (op == "CONTAINS" and ka == "list"):
        if ka == "list":
            return any(_equal(item, b) for item in a)
        return ka == "map" and kb == "string" and b in a
    return ka == kb == "string" and b in a  # CONTAINS


OPERATORS = ["==", "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "HAS", "CONTAINS"]
literal_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4)
)
literals = literal_scalars | st.lists(literal_scalars, max_size=4)


def _literal(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    return repr(value)


@PROPERTIES
@given(a=literals, b=literals, op=st.sampled_from(OPERATORS))
def test_every_way_of_writing_a_comparison_agrees_with_the_rules(a: Any, b: Any, op: str) -> None:
    task = {"x": a, "y": b}
    expected = _reference(op, a, b)
    written = [("x", "y"), ("x", _literal(b)), (_literal(a), "y"), (_literal(a), _literal(b))]
    for left, right in written:
        assert holds(f"{left} {op} {right}", task) is expected, (left, op, right)


@PROPERTIES
@given(a=json_values, b=json_values, op=st.sampled_from(OPERATORS))
def test_comparisons_of_any_data_agree_with_the_rules(a: Any, b: Any, op: str) -> None:
    assert holds(f"task.x {op} worker.y", {"x": a}, {"y": b}) is _reference(op, a, b)


# Random whole expressions: a tree, written out with as few parentheses as precedence allows
# and keywords in random case, must evaluate as the tree does.


@dataclass(frozen=True)
class Atom:
    left: str
    op: str | None
    right: str


@dataclass(frozen=True)
class Node:
    op: str  # "OR", "AND" or "NOT"
    children: tuple[Any, ...]


FLAGS = {"p": True, "q": False, "n": 2, "s": "billing", "tags": ["a", "b"]}
atoms = st.sampled_from(
    [
        Atom("p", None, ""),
        Atom("q", None, ""),
        Atom("missing", None, ""),
        Atom("n", "==", "2"),
        Atom("n", ">", "2.5"),
        Atom("s", "CONTAINS", "'ill'"),
        Atom("tags", "HAS", "'c'"),
        Atom("n", "IN", "[1, 2]"),
        Atom("s", "NOT IN", "['billing']"),
        Atom("n", "!=", "null"),
    ]
)
trees = st.recursive(
    atoms,
    lambda children: (
        st.builds(Node, st.sampled_from(["OR", "AND"]), st.tuples(children, children))
        | st.builds(Node, st.just("NOT"), st.tuples(children))
    ),
    max_leaves=10,
)
PRECEDENCE = {"OR": 1, "AND": 2, "NOT": 3}


def _truth(tree: Atom | Node) -> bool:
    if isinstance(tree, Atom):
        if tree.op is None:
            return FLAGS.get(tree.left) is True
        return _reference(tree.op, FLAGS.get(tree.left), _constant(tree.right))
    values = [_truth(child) for child in tree.children]
    return {"OR": any, "AND": all}[tree.op](values) if tree.op != "NOT" else not values[0]


def _constant(text: str) -> Any:
    return {"2": 2, "2.5": 2.5, "'ill'": "ill", "'c'": "c", "[1, 2]": [1, 2], "null": None}.get(
        text, ["billing"]
    )


def _write(tree: Atom | Node, case: st.DataObject, needed: int = 0) -> str:
    if isinstance(tree, Atom):
        op = "" if tree.op is None else f" {_cased(tree.op, case)} {tree.right}"
        return tree.left + op
    level = PRECEDENCE[tree.op]
    word = _cased(tree.op, case)
    if tree.op == "NOT":
        text = f"{word} {_write(tree.children[0], case, level)}"
    else:
        text = f" {word} ".join(_write(child, case, level) for child in tree.children)
    return f"({text})" if level < needed or case.draw(st.integers(0, 9)) == 0 else text


def _cased(word: str, case: st.DataObject) -> str:
    return case.draw(st.sampled_from([word, word.lower(), word.title()]))


@PROPERTIES
@given(tree=trees, case=st.data())
def test_random_expressions_evaluate_as_their_tree(tree: Atom | Node, case: st.DataObject) -> None:
    source = _write(tree, case)
    assert holds(source, FLAGS) is _truth(tree), source
