"""Answers of business systems kept in process memory, per (connector, customer).

Rules:
- an answer is kept for its connector's ``cache_seconds`` (none when 0), by the
  context's clock; only ``ok`` and ``not_found`` are kept (``CACHED_STATUSES``);
- a kept answer serves only the same connector configuration (``version``) and the
  same URL: a changed connector or a customer whose e-mail changed is asked again;
- at most ``MAX_ENTRIES`` answers are kept; past that, expired ones go first, then
  the oldest. Each process keeps its own: nodes do not share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from opencx.core.connectors import CACHED_STATUSES
from opencx.features.connectors.calls import Answer, ConnectorSpec
from opencx.features.context import AppContext

__all__ = ["MAX_ENTRIES", "AnswerCache", "answer_cache"]

MAX_ENTRIES = 10_000
_LOCAL_KEY = "connectors.answers"


@dataclass(frozen=True, slots=True)
class _Entry:
    version: str
    url: str
    answer: Answer
    expires_at: datetime


class AnswerCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: dict[tuple[int, int], _Entry] = {}
        self._max = max_entries

    def get(
        self, spec: ConnectorSpec, customer_id: int, url: str, *, now: datetime
    ) -> Answer | None:
        entry = self._entries.get((spec.id, customer_id))
        if entry is None or (entry.version, entry.url) != (spec.version, url):
            return None
        if entry.expires_at <= now:
            del self._entries[spec.id, customer_id]
            return None
        return entry.answer

    def put(self, spec: ConnectorSpec, customer_id: int, url: str, answer: Answer) -> None:
        if spec.cache_seconds <= 0 or answer.status not in CACHED_STATUSES:
            return
        assert answer.fetched_at is not None
        expires_at = answer.fetched_at + timedelta(seconds=spec.cache_seconds)
        key = (spec.id, customer_id)
        self._entries.pop(key, None)
        if len(self._entries) >= self._max:
            self._make_room(answer.fetched_at)
        self._entries[key] = _Entry(spec.version, url, answer, expires_at)

    def _make_room(self, now: datetime) -> None:
        for key in [k for k, entry in self._entries.items() if entry.expires_at <= now]:
            del self._entries[key]
        while len(self._entries) >= self._max:
            del self._entries[next(iter(self._entries))]


def answer_cache(ctx: AppContext) -> AnswerCache:
    """The process's cache, made at its first use."""
    cache = ctx.local.get(_LOCAL_KEY)
    if not isinstance(cache, AnswerCache):
        cache = ctx.local[_LOCAL_KEY] = AnswerCache()
    return cache
