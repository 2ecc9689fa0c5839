"""Fresh, migrated databases for tests: SQLite files or PostgreSQL databases.

The schema is migrated once into a template; each test gets a copy, so tests never
share rows and still run the real migrations.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import sqlalchemy as sa

from opencx.db import migrate
from opencx.settings import DatabaseSettings

__all__ = ["PostgresTemplate", "SqliteTemplate"]


class SqliteTemplate:
    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._template = directory / "template.db"
        migrate.upgrade(DatabaseSettings(url=f"sqlite+aiosqlite:///{self._template}"))

    def fresh(self) -> str:
        path = self._dir / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self._template, path)
        return f"sqlite+aiosqlite:///{path}"


class PostgresTemplate:
    """Databases named ``opencx_t_<hex>`` cloned from a migrated template, dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self._admin = sa.make_url(DatabaseSettings(url=admin_url).async_url).set(
            drivername="postgresql+psycopg"
        )
        self._template = f"opencx_tpl_{uuid.uuid4().hex[:10]}"
        self._created: list[str] = [self._template]
        self._execute(f'CREATE DATABASE "{self._template}"')
        migrate.upgrade(DatabaseSettings(url=self.url_for(self._template)))

    def url_for(self, name: str) -> str:
        return self._admin.set(database=name).render_as_string(hide_password=False)

    def fresh(self) -> str:
        name = f"opencx_t_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        self._created.append(name)
        return self.url_for(name)

    def drop_all(self) -> None:
        for name in reversed(self._created):
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _execute(self, statement: str) -> None:
        engine = sa.create_engine(
            self._admin.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
        )
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(statement))
        finally:
            engine.dispose()
