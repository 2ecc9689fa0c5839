"""Engine and session factory, tuned per database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from opencx.db.sqlite_driver import OneHopDbapi
from opencx.settings import DatabaseSettings

__all__ = ["create_engine", "create_session_factory"]


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    url = settings.async_url
    if url.startswith("sqlite"):
        # SQLite has one writer at a time. Within a process, transactions queue for the
        # single pooled connection (an asyncio wait, no polling); between processes
        # (serve and worker on one file) BEGIN IMMEDIATE waits on busy_timeout.
        # Each statement is one call on aiosqlite's thread rather than four.
        engine = _create_async_engine(
            url,
            module=OneHopDbapi(),
            echo=settings.echo,
            connect_args={"timeout": 30},
            poolclass=AsyncAdaptedQueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    return _create_async_engine(
        url, echo=settings.echo, pool_size=settings.pool_size, pool_pre_ping=True
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is switched off so that BEGIN IMMEDIATE
    # (below) takes the write lock up front: concurrent writers then wait on
    # busy_timeout instead of failing with "database is locked" halfway through.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
