"""WhatsApp templates' placeholders (``core.whatsapp_templates``): numbered without a
gap, one parameter each, filled in one pass."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.core.whatsapp_templates import (
    MAX_PARAMETERS,
    check_parameters,
    fill,
    placeholder_count,
)

WORDS = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=12)
VALUES = st.text(min_size=1, max_size=12).filter(str.strip)


@dataclass(frozen=True)
class Body:
    """A template body: ``words`` around the placeholders ``numbers``, which use each of
    1..``n`` at least once (some twice, in any order)."""

    words: list[str]
    numbers: list[int]
    n: int

    @property
    def text(self) -> str:
        pairs = zip(self.numbers, self.words[1:], strict=True)
        return self.words[0] + "".join(f"{{{{{k}}}}}{after}" for k, after in pairs)

    def filled(self, values: list[str]) -> str:
        pairs = zip(self.numbers, self.words[1:], strict=True)
        return self.words[0] + "".join(values[k - 1] + after for k, after in pairs)


@st.composite
def bodies(draw: st.DrawFn) -> Body:
    n = draw(st.integers(0, MAX_PARAMETERS))
    numbers = list(range(1, n + 1)) + draw(st.lists(st.integers(1, max(n, 1)), max_size=3))
    numbers = draw(st.permutations(numbers)) if n else []
    words = draw(st.lists(WORDS, min_size=len(numbers) + 1, max_size=len(numbers) + 1))
    return Body(words, list(numbers), n)


@given(bodies(), st.data())
def test_each_placeholder_takes_its_parameter_wherever_it_stands(
    body: Body, data: st.DataObject
) -> None:
    assert placeholder_count(body.text) == body.n
    values = data.draw(st.lists(VALUES, min_size=body.n, max_size=body.n))
    assert check_parameters(body.text, values) is None
    assert fill(body.text, values) == body.filled(values)


@given(bodies(), st.integers(0, MAX_PARAMETERS))
def test_a_wrong_number_of_parameters_is_refused(body: Body, count: int) -> None:
    refusal = check_parameters(body.text, ["x"] * count)
    assert (refusal is None) == (count == body.n)


def test_a_parameter_is_not_read_as_a_placeholder_again() -> None:
    assert fill("{{1}} and {{2}}", ["{{2}}", "b"]) == "{{2}} and b"
    assert fill("Hi {{ 1 }}!", ["Ada"]) == "Hi Ada!"
    assert fill("Hi {{2}}", ["Ada"]) == "Hi {{2}}"  # nothing to put there: kept


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("Hello {{2}}", "{{1}} is missing"),
        ("{{1}} {{3}}", "{{2}} is missing"),
        (f"{{{{{MAX_PARAMETERS + 1}}}}}", "at most"),
    ],
)
def test_placeholders_are_numbered_from_one_without_a_gap(body: str, why: str) -> None:
    with pytest.raises(ValueError, match=why.replace("{", r"\{").replace("}", r"\}")):
        placeholder_count(body)


def test_zero_is_no_placeholder_number() -> None:
    assert placeholder_count("{{0}} {{1}}") == 1
    assert fill("{{0}} {{1}}", ["Ada"]) == "{{0}} Ada"


def test_blank_parameters_are_refused() -> None:
    assert check_parameters("Hi {{1}}", [" "]) == "a template parameter cannot be blank"
