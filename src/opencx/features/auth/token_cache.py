"""Who an API token belongs to, remembered for a few seconds by this process.

Resolving a token costs a transaction (two or three queries); an integrator sends
hundreds of requests a second with the same token. Rules:
- an entry lives ``security.token_cache_seconds`` at most (0 turns the cache off);
- whatever ends or changes a user's access is published after its commit
  (``user.access_ended``: sign-out, revocation, new password, deactivation;
  ``user.updated``: role, site, grants; ``site.changed``: a site's kind), and this
  process drops the user's entries (for a site: every entry) before it answers its
  next request: the bus delivers events to this process's queue as they are
  published here, and as they arrive from other nodes;
- an entry is only remembered when no such event came in while it was read, so a
  revocation racing the read is never forgotten;
- when events may have been missed (the bus dropped our queue, or a bus between nodes
  is not connected), the cache is emptied, or not used until it is connected again;
- other processes (``opencx token revoke``, ``opencx worker``) publish through the bus
  between nodes when there is one; on an SQLite file they are also seen without it:
  SQLite counts the commits other connections make (``PRAGMA data_version``, read from
  shared memory), and when that count moved the cache asks the event log whether an
  access change is among them (one indexed lookup);
- with neither (PostgreSQL and no bus between nodes), or without a bus to hear at all
  (a publisher that is not an event source), there is no cache.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from opencx.core.events import DomainEvent, EventType
from opencx.features.context import AppContext
from opencx.realtime.broker import BrokerBus
from opencx.realtime.bus import EventSource, Subscription

__all__ = ["TokenCache", "token_cache"]

#: More entries than this and the cache starts again empty (a cheap bound).
MAX_ENTRIES = 10_000
_KEY = "auth.token_cache"
_ABOUT_A_USER = frozenset({EventType.USER_ACCESS_ENDED, EventType.USER_UPDATED})
_CHANGES_ACCESS = (*sorted(_ABOUT_A_USER), EventType.SITE_CHANGED)


@dataclass(frozen=True, slots=True)
class _Entry:
    value: object
    user_id: int
    until: float


class TokenCache:
    """Token digests to what they resolved to, forgotten when access changes."""

    def __init__(
        self,
        source: EventSource,
        ttl: float,
        loop: asyncio.AbstractEventLoop,
        outside: SqliteAccessWatch | None = None,
    ) -> None:
        self.loop = loop
        self._source = source
        self._outside = outside
        self._ttl = ttl
        self._queue: Subscription = source.subscribe()
        self._entries: dict[str, _Entry] = {}
        #: Counts the events that dropped entries: a read that saw it change is not kept.
        self.generation = 0

    def get(self, digest: str) -> object | None:
        self._catch_up()
        if not getattr(self._source, "is_listening", True):
            self._forget_all()  # deaf to other nodes: trust nothing remembered
            return None
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry.until <= self.loop.time():
            del self._entries[digest]
            return None
        return entry.value

    def put(self, digest: str, value: object, *, user_id: int, generation: int) -> None:
        """Remember ``value``, read while the cache was at ``generation``."""
        self._catch_up()
        if generation != self.generation or not getattr(self._source, "is_listening", True):
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest] = _Entry(value, user_id, self.loop.time() + self._ttl)

    def close(self) -> None:
        self._source.unsubscribe(self._queue)
        if self._outside is not None:
            self._outside.close()

    def _catch_up(self) -> None:
        """Apply the events that arrived since the last look, and the access changes
        other processes committed since then."""
        if self._outside is not None and self._outside.access_changed():
            self._forget_all()
        while not self._queue.empty():
            event = self._queue.get_nowait()
            if event is None:  # dropped by the bus: events were lost
                self._queue = self._source.subscribe()
                self._forget_all()
            else:
                self._apply(event)

    def _apply(self, event: DomainEvent) -> None:
        if event.type in _ABOUT_A_USER and event.entity_kind == "user":
            gone = [k for k, e in self._entries.items() if e.user_id == event.entity_id]
            for digest in gone:
                del self._entries[digest]
            self.generation += 1
        elif event.type is EventType.SITE_CHANGED:
            self._forget_all()

    def _forget_all(self) -> None:
        self._entries.clear()
        self.generation += 1


class SqliteAccessWatch:
    """Tells whether another connection to an SQLite file committed an access change.

    ``PRAGMA data_version`` moves when any other connection (of this process or
    another) commits; only then is the event log asked for its latest access change."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout=2000")
        self._version = self._data_version()
        self._latest = self._latest_change()

    def access_changed(self) -> bool:
        version = self._data_version()
        if version == self._version:
            return False
        self._version = version
        latest = self._latest_change()
        changed, self._latest = latest != self._latest, latest
        return changed

    def close(self) -> None:
        self._db.close()

    def _data_version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def _latest_change(self) -> int:
        marks = ", ".join("?" for _ in _CHANGES_ACCESS)
        row = self._db.execute(
            f"SELECT max(id) FROM events WHERE type IN ({marks})",  # noqa: S608 - placeholders
            [str(t) for t in _CHANGES_ACCESS],
        ).fetchone()
        return int(row[0] or 0)


def token_cache(ctx: AppContext) -> TokenCache | None:
    """This process's cache, or ``None`` when it is off or could not hear changes."""
    ttl = ctx.settings.security.token_cache_seconds
    source = ctx.publisher
    if ttl <= 0 or not isinstance(source, EventSource):
        return None
    loop = asyncio.get_running_loop()
    cache = ctx.local.get(_KEY)
    if isinstance(cache, TokenCache):
        if cache.loop is loop:
            return cache
        cache.close()
    outside = _sqlite_watch(ctx)
    if outside is None and not isinstance(source, BrokerBus):
        return None  # another process's change would go unheard: resolve every time
    cache = ctx.local[_KEY] = TokenCache(source, ttl, loop, outside)
    return cache


def _sqlite_watch(ctx: AppContext) -> SqliteAccessWatch | None:
    """A watch on the SQLite file, or ``None`` (PostgreSQL, or a database in memory
    that no other process can open)."""
    url = make_url(ctx.settings.database.async_url)
    path = url.database
    if not url.drivername.startswith("sqlite") or not path or path == ":memory:":
        return None
    if url.query.get("mode") == "memory" or path.startswith("file::memory:"):
        return None
    return SqliteAccessWatch(path)
