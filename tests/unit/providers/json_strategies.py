"""Hypothesis strategies for the adapters' property tests: arbitrary JSON, and recorded
payloads with one node, anywhere in them, replaced by arbitrary JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

__all__ = ["json_values", "mutated"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], tuple(rest), new)
    return copy


@st.composite
def mutated(draw: st.DrawFn, bodies: Sequence[bytes]) -> bytes:
    """One of ``bodies`` (JSON) with one node replaced by arbitrary JSON."""
    recorded = json.loads(draw(st.sampled_from(list(bodies))))
    path = draw(st.sampled_from(_paths(recorded)))
    return json.dumps(_replace(recorded, path, draw(json_values))).encode()
