"""SQLite statements run in one call on aiosqlite's thread, and give what they gave
before: rows, counts, new ids, errors, transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from opencx.db.session import create_engine
from opencx.settings import DatabaseSettings


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'one.db'}"))
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def hand_offs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls made on aiosqlite's thread, by the name of what each ran."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(
        self: aiosqlite.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Awaitable[Any]:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call,no-any-return]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return calls


async def test_a_statement_is_one_call_on_the_thread(
    engine: AsyncEngine, hand_offs: list[str]
) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the pool's connection is ready
        hand_offs.clear()
        rows = (await conn.execute(text("SELECT 1 AS one, 'a' AS letter"))).all()
    assert [tuple(row) for row in rows] == [(1, "a")]
    assert hand_offs[0] == "_run"
    assert hand_offs.count("_run") == 1
    # then only the pool's reset of the connection when it is given back
    assert len(hand_offs) <= 2


async def test_rows_counts_and_new_ids(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO item (name) VALUES ('a')"))
        assert inserted.lastrowid == 1
        await conn.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
        )
        returned = await conn.execute(text("INSERT INTO item (name) VALUES ('d') RETURNING id"))
        assert returned.scalar_one() == 4
        changed = await conn.execute(text("UPDATE item SET name = name || '!' WHERE id > 1"))
        assert changed.rowcount == 3
        result = await conn.execute(text("SELECT id, name FROM item ORDER BY id"))
        assert result.keys() == ["id", "name"]
        assert [tuple(row) for row in result] == [(1, "a"), (2, "b!"), (3, "c!"), (4, "d!")]
        empty = await conn.execute(text("SELECT id FROM item WHERE id > 10"))
        assert empty.first() is None


async def test_streamed_results_still_stream(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": str(n)} for n in range(5)]
        )
    async with engine.connect() as conn:
        stream = await conn.stream(text("SELECT name FROM item ORDER BY id"))
        assert [row[0] async for row in stream] == ["0", "1", "2", "3", "4"]


async def test_an_error_rolls_back_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO item (name) VALUES ('kept')"))

    async def add_twice() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO item (name) VALUES ('gone')"))
            await conn.execute(text("INSERT INTO item (name) VALUES ('kept')"))

    with pytest.raises(IntegrityError):
        await add_twice()
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM item ORDER BY id"))).scalars().all()
    assert names == ["kept"]
