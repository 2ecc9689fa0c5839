"""The entry point: what is refused, what is skipped, and that nothing else escapes."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.providers.base import UnreadablePayload
from opencx.providers.meta import parse_webhook
from tests.unit.providers.json_strategies import json_values, mutated

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


def _parse_or_refuse(raw: bytes) -> None:
    with contextlib.suppress(UnreadablePayload):
        parse_webhook(raw)


@given(json_values)
def test_arbitrary_json_gives_items_or_unreadable(value: Any) -> None:
    _parse_or_refuse(json.dumps(value).encode())


@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_items_or_unreadable(raw: bytes) -> None:
    _parse_or_refuse(raw)


@settings(max_examples=300)
@given(mutated([body(recorded) for recorded in SIGNED]))
def test_mutated_recorded_payloads_give_items_or_unreadable(raw: bytes) -> None:
    _parse_or_refuse(raw)
