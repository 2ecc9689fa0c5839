"""The parser of routing expressions: recursive descent straight to closures (private).

Rules:
- precedence, loosest first: OR, AND, NOT, then one comparison or a value alone, which
  holds only when it is exactly ``true``;
- NOT is read in a loop and parentheses nest at most 50 deep, so no source can exhaust
  the stack;
- while parsing, the roots that paths name are recorded, and for each top-level AND the
  text and roots of its operands, so that ``Expression.split`` can separate them later.
"""

from __future__ import annotations

from typing import Any, Final, NoReturn

from opencx.core.routing._expression_closures import (
    Pred,
    Value,
    all_of,
    any_of,
    compare,
    constant,
    grouped,
    negate,
    path_getter,
    truthy,
)
from opencx.core.routing._expression_lexer import (
    LITERAL_WORDS,
    Token,
    describe,
    raise_error,
    tokenize,
)

__all__ = ["ROOTS", "Parser"]

_MAX_DEPTH: Final = 50
ROOTS: Final = frozenset({"task", "worker"})


class Parser:
    """Recursive descent straight to closures; records the roots that paths name."""

    def __init__(self, source: str, default_root: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0
        self.default_root = default_root
        self.roots: set[str] = set()
        self.uses_default = False
        self.depth = 0
        self.bare = False  # whether the last comparison parsed was a value alone
        self.top_conjunctions: list[list[tuple[str, frozenset[str]]]] = []

    def parse(self) -> Pred:
        pred = self.expression(None)
        if self.peek().kind != "end":
            self.fail(self.expected_after_comparison("end of expression"), self.peek())
        return pred

    def expression(self, after: str | None) -> Pred:
        preds = [self.conjunction(after)]
        while self.at_keyword("OR"):
            self.take()
            preds.append(self.conjunction("OR"))
        return any_of(preds)

    def conjunction(self, after: str | None) -> Pred:
        top = self.depth == 0
        preds: list[Pred] = []
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
        return all_of(preds)

    def negation(self, after: str | None) -> Pred:
        negated = False
        while self.at_keyword("NOT"):  # a loop, not recursion: NOT NOT ... cannot blow the stack
            self.take()
            negated, after = not negated, "NOT"
        pred = self.comparison(after)
        return negate(pred) if negated else pred

    def comparison(self, after: str | None) -> Pred:
        left = self.value(after)
        op = self.operator()
        self.bare = op is None
        if op is None:
            return truthy(left)
        shown = op if op[0].isalpha() else f"'{op}'"
        if op in ("IN", "NOT IN"):
            if self.peek().kind == "(":
                return compare(op, left, self.literal_list(self.take(), ")"))
            return compare(op, left, self.value(shown, "a list or value"))
        return compare(op, left, self.value(shown))

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

    def value(self, after: str | None, expected: str = "a value") -> Value:
        token = self.take()
        if token.kind in ("str", "num"):
            return constant(token.value)
        if token.kind == "kw" and token.value in LITERAL_WORDS:
            return constant(LITERAL_WORDS[token.value])
        if token.kind == "name":
            return self.path(token)
        if token.kind == "[":
            return self.literal_list(token, "]")
        if token.kind == "(":
            return self.group(token)
        self.fail(f"{expected} after {after}" if after else expected, token)

    def path(self, first: Token) -> Value:
        segments = [first.text]
        while self.peek().kind == ".":
            self.take()
            segment = self.take()
            if segment.kind not in ("name", "kw"):
                self.fail("a name after '.'", segment)
            segments.append(segment.text)
        if segments[0] in ROOTS:
            root, path = segments[0], segments[1:]
        else:
            root, path = self.default_root, segments
            self.uses_default = True
        self.roots.add(root)
        return Value(get=path_getter(root == "task", tuple(path)))

    def literal_list(self, opening: Token, closing: str) -> Value:
        items: list[Any] = []
        token = self.take()
        if token.kind == closing:
            return constant(())
        kinds = "(string, number, true, false or null)"
        expected = f"a literal {kinds} or '{closing}' after '{opening.text}'"
        while True:
            if not _is_literal(token):
                self.fail(expected, token)
            items.append(LITERAL_WORDS[token.value] if token.kind == "kw" else token.value)
            token = self.take()
            if token.kind == closing:
                return constant(tuple(items))
            if token.kind != ",":
                where = f"the list opened at column {opening.column}"
                self.fail(f"',' or '{closing}' to close {where}", token)
            token = self.take()
            expected = f"a list item {kinds} after ','"

    def group(self, opening: Token) -> Value:
        if self.depth >= _MAX_DEPTH:
            raise_error(
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
        return grouped(pred)

    def expected_after_comparison(self, closer: str) -> str:
        return ("an operator, " if self.bare else "") + f"AND, OR or {closer}"

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "end":
            self.pos += 1
        return token

    def at_keyword(self, word: str) -> bool:
        token = self.tokens[self.pos]
        return token.kind == "kw" and token.value == word

    def fail(self, expected: str, token: Token) -> NoReturn:
        raise_error(self.source, f"expected {expected} but found {describe(token)}", token.column)


def _is_literal(token: Token) -> bool:
    return token.kind in ("str", "num") or (token.kind == "kw" and token.value in LITERAL_WORDS)
