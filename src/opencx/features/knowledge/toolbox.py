"""The process's suggestions index, kept in ``ctx.local`` and rebuilt when its sources
changed.

Rules:
- every search reads the stamp first (one query, in the caller's transaction where it
  has one);
- a change to canned responses or articles rebuilds the index before the search, so
  an agent finds the response they have just written; a change to conversations
  rebuilds it once the index is ``knowledge.refresh_seconds`` old;
- one rebuild at a time: searches wait for it instead of starting their own;
- the database is read inside one short transaction; terms are made and the index
  built in a worker thread, off the event loop and with the connection given back;
- a source's terms are made again only when it changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opencx.core.knowledge import SourceKind
from opencx.features.context import AppContext, transaction
from opencx.features.knowledge.sources import (
    Source,
    Stamp,
    read_library,
    read_past_answers,
    read_stamp,
)
from opencx.ranking import Document, RankingIndex, guess_language, terms

__all__ = ["Toolbox", "current_toolbox", "read_stamp"]

LOCAL_KEY = "knowledge.toolbox"
Key = tuple[SourceKind, int]


@dataclass(frozen=True)
class Toolbox:
    """An index and the sources its documents came from."""

    index: RankingIndex
    sources: Mapping[Key, Source]


@dataclass
class _Holder:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    toolbox: Toolbox | None = None
    stamp: Stamp | None = None
    built_at: datetime | None = None
    library: list[Source] = field(default_factory=list)
    past: list[Source] = field(default_factory=list)
    documents: dict[Key, tuple[Source, Document | None]] = field(default_factory=dict)

    def fresh(self, stamp: Stamp, now: datetime, refresh: timedelta) -> bool:
        if self.toolbox is None or self.stamp is None or self.built_at is None:
            return False
        if stamp.library != self.stamp.library:
            return False
        return stamp.conversations == self.stamp.conversations or now - self.built_at < refresh


async def current_toolbox(ctx: AppContext, stamp: Stamp | None = None) -> Toolbox:
    """The index as of now (see the module's rules for what "now" allows). ``stamp``,
    read by the caller in its own transaction (``read_stamp``), spares one."""
    holder = ctx.local.get(LOCAL_KEY)
    if not isinstance(holder, _Holder):
        holder = ctx.local[LOCAL_KEY] = _Holder()
    settings = ctx.settings.knowledge
    refresh = timedelta(seconds=settings.refresh_seconds)
    if stamp is not None and holder.fresh(stamp, ctx.clock.now(), refresh):
        assert holder.toolbox is not None
        return holder.toolbox
    async with holder.lock:
        now = ctx.clock.now()
        async with transaction(ctx) as session:
            stamp = await read_stamp(session)
            if holder.fresh(stamp, now, refresh):
                assert holder.toolbox is not None
                return holder.toolbox
            previous = holder.stamp
            if previous is None or stamp.library != previous.library:
                holder.library = await read_library(session)
            if previous is None or stamp.conversations != previous.conversations:
                known = {source.key: source for source in holder.past}
                holder.past = await read_past_answers(
                    session, limit=settings.past_conversations, known=known
                )
        sources = [*holder.library, *holder.past]
        holder.documents = await asyncio.to_thread(_documents, sources, holder.documents)
        index = await asyncio.to_thread(
            RankingIndex, (doc for _source, doc in holder.documents.values() if doc is not None)
        )
        holder.toolbox = Toolbox(index, {source.key: source for source in sources})
        holder.stamp, holder.built_at = stamp, now
        return holder.toolbox


def _documents(
    sources: Sequence[Source], made: Mapping[Key, tuple[Source, Document | None]]
) -> dict[Key, tuple[Source, Document | None]]:
    """Each source with its document, made again only when the source changed."""
    documents: dict[Key, tuple[Source, Document | None]] = {}
    for source in sources:
        known = made.get(source.key)
        if known is not None and known[0] == source:
            documents[source.key] = (source, known[1])
        else:
            documents[source.key] = (source, _document(source))
    return documents


def _document(source: Source) -> Document | None:
    """``None`` for a source with nothing to search or in neither language."""
    if not source.searched:
        return None
    language = source.locale or guess_language(source.searched, source.language_hint)
    if language is None:
        return None
    return Document(
        kind=source.kind,
        id=source.id,
        language=language,
        terms=tuple(terms(source.searched, language)),
        audience=source.audience,
    )
