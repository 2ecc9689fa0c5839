"""Whatever Apple (or anything posing as it) answers, the readers give values or refuse
with ``UnreadablePayload``; reading a refusal never fails at all."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.providers import app_store
from opencx.providers.base import UnreadablePayload
from tests.unit.providers.json_strategies import json_values, mutated

from .recorded import RECORDED, body

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def read_all(raw: bytes, since: str | None = None) -> None:
    for read in (
        lambda: app_store.parse_reviews(raw, recipient="1", since=since),
        lambda: app_store.read_reply(raw, now=NOW),
    ):
        with contextlib.suppress(UnreadablePayload):
            read()
    app_store.read_error(409, {"Retry-After": raw.decode("latin-1")[:40]}, raw, now=NOW)


@settings(max_examples=300)
@given(mutated([body(recorded) for recorded in RECORDED]), st.none() | st.text(max_size=40))
def test_mutated_answers_give_values_or_unreadable(raw: bytes, since: str | None) -> None:
    read_all(raw, since)


@given(json_values)
def test_arbitrary_json_gives_values_or_unreadable(value: Any) -> None:
    read_all(json.dumps(value).encode())


@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_values_or_unreadable(raw: bytes) -> None:
    read_all(raw)
