"""The entry point: what is refused, what is skipped, and that nothing else escapes."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.channels.base import UnreadablePayload
from opencx.channels.meta import parse_webhook

from .recorded import SIGNED, body


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1, 2]", b'"page"', b"\xff\xfe{", b"[" * 100_000, b'{"object":'],
)
def test_a_body_that_is_not_a_json_object_is_unreadable(raw: bytes) -> None:
    with pytest.raises(UnreadablePayload):
        parse_webhook(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"{}",
        b'{"object":"user","entry":[{"id":"1","changes":[{"field":"email"}]}]}',
        b'{"object":"permissions","entry":[]}',
        b'{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{}}]}]}',
        b'{"object":"page","entry":[{"id":"1","standby":[{"sender":{"id":"2"}}]}]}',
        b'{"object":"whatsapp_business_account","entry":[]}',
        b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":'
        b'[{"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}}]}]}',
        b'{"object":["page"]}',
    ],
)
def test_what_we_do_not_use_gives_nothing(raw: bytes) -> None:
    assert parse_webhook(raw) == []


def test_an_entry_that_is_not_a_list_is_unreadable() -> None:
    with pytest.raises(UnreadablePayload):
        parse_webhook(b'{"object":"page","entry":{"id":"1"}}')


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _parse_or_refuse(raw: bytes) -> None:
    with contextlib.suppress(UnreadablePayload):
        parse_webhook(raw)


@given(json_values)
def test_arbitrary_json_gives_items_or_unreadable(value: Any) -> None:
    _parse_or_refuse(json.dumps(value).encode())


@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_items_or_unreadable(raw: bytes) -> None:
    _parse_or_refuse(raw)


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
def mutated_payloads(draw: st.DrawFn) -> bytes:
    """A recorded payload with one node, anywhere in it, replaced by arbitrary JSON."""
    recorded = json.loads(body(draw(st.sampled_from(SIGNED))))
    path = draw(st.sampled_from(_paths(recorded)))
    return json.dumps(_replace(recorded, path, draw(json_values))).encode()


@settings(max_examples=300)
@given(mutated_payloads())
def test_mutated_recorded_payloads_give_items_or_unreadable(raw: bytes) -> None:
    _parse_or_refuse(raw)
