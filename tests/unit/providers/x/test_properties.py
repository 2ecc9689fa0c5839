"""Whatever X (or anything posing as it) answers, the readers give values or refuse
with ``UnreadablePayload``; reading a refusal never fails at all."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.providers import x
from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import UnreadableCredential
from tests.unit.providers.json_strategies import json_values, mutated

from .recorded import RECORDED, body

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def read_all(raw: bytes, since: str | None = None) -> None:
    del since  # X applies since_id itself
    for read in (
        lambda: x.parse_mentions(raw, user_id="783214", recipient="@acme"),
        lambda: x.read_reply(raw),
        lambda: x.read_refresh(raw, previous=x.XCredential("a", "r"), now=NOW),
    ):
        with contextlib.suppress(UnreadablePayload):
            read()
    headers = {"x-rate-limit-reset": raw.decode("latin-1")[:20]}
    x.read_error(429, headers, raw, now=NOW)
    for status in (400, 401, 503):
        x.read_refresh_error(status, headers, raw, now=NOW)
    with contextlib.suppress(UnreadableCredential):
        x.read_credential(raw.decode("utf-8", "replace"))


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
