"""Process wiring: builds the app context and the ASGI app from settings, once."""

from __future__ import annotations

from fastapi import FastAPI

from opencx.db.blobs import FileBlobStore
from opencx.db.session import create_engine, create_session_factory
from opencx.features.context import AppContext, SystemClock
from opencx.jobs.inprocess import DatabaseJobQueue
from opencx.realtime.bus import InProcessBus
from opencx.settings import Settings
from opencx.web.app import create_app

__all__ = ["build_app", "build_context"]


def build_context(settings: Settings) -> AppContext:
    engine = create_engine(settings.database)
    sessions = create_session_factory(engine)
    clock = SystemClock()
    return AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        publisher=InProcessBus(),
        jobs=DatabaseJobQueue(sessions, clock),
        blobs=FileBlobStore(settings.storage.path),
        clock=clock,
    )


def build_app(settings: Settings) -> FastAPI:
    return create_app(build_context(settings))
