"""Which file an SQLite URL names: the CLI refuses to create one where none is."""

from __future__ import annotations

from pathlib import Path

import pytest

from opencx.db.migrate import sqlite_path
from opencx.settings import DatabaseSettings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:///./opencx.db", Path("opencx.db")),
        ("sqlite:////var/lib/opencx/data.db", Path("/var/lib/opencx/data.db")),
        ("sqlite:///relative/x.db?timeout=5", Path("relative/x.db")),
        ("sqlite+aiosqlite:///:memory:", None),
        ("postgresql://opencx@db/opencx", None),
    ],
)
def test_the_file_an_sqlite_url_names(url: str, expected: Path | None) -> None:
    assert sqlite_path(DatabaseSettings(url=url)) == expected
