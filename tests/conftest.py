"""Shared fixtures: a fresh migrated database per test, on SQLite or PostgreSQL.

``OPENCX_TEST_DATABASE_URL`` (a PostgreSQL URL) switches the whole run to PostgreSQL.
``OPENCX_REQUIRE_POSTGRES=1`` turns a skipped PostgreSQL-only test into a failure, so
CI cannot pass by silently skipping them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from opencx.core.enums import Role
from opencx.features.auth import create_api_token
from opencx.features.context import AppContext
from opencx.features.users.service import UserCreate, UserOut, create_user_as_system
from opencx.runtime import build_context
from opencx.settings import DatabaseSettings, Settings, StorageSettings
from opencx.testing import FakeClock, InMemoryBlobStore, RecordingJobQueue, RecordingPublisher
from opencx.testing.databases import PostgresTemplate, SqliteTemplate
from opencx.web import create_app

PG_URL = os.environ.get("OPENCX_TEST_DATABASE_URL")


#: The names RFC 2606 keeps for examples, which the tests' fake business systems and
#: providers use: resolved at once to a public address, as the real example.com is,
#: instead of asking a DNS server the machine may not reach (its wait ate connectors'
#: 2 s time-out before their fake system was even called).
_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
_EXAMPLE_ADDRESS = "93.184.215.14"


@pytest.fixture(autouse=True)
def _example_names_resolve_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        name = name.lower().rstrip(".") if isinstance(name, str) else ""
        if any(name == domain or name.endswith("." + domain) for domain in _EXAMPLE_DOMAINS):
            where = (_EXAMPLE_ADDRESS, port if isinstance(port, int) else 0)
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", where)]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def postgres_url() -> str:
    """The PostgreSQL server URL, for tests that only make sense there (several nodes)."""
    if PG_URL:
        return PG_URL
    if os.environ.get("OPENCX_REQUIRE_POSTGRES") == "1":
        pytest.fail("OPENCX_REQUIRE_POSTGRES=1 but OPENCX_TEST_DATABASE_URL is not set")
    pytest.skip("needs PostgreSQL: set OPENCX_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def db_template(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SqliteTemplate | PostgresTemplate]:
    if PG_URL:
        template = PostgresTemplate(PG_URL)
        yield template
        template.drop_all()
    else:
        yield SqliteTemplate(tmp_path_factory.mktemp("db"))


@pytest.fixture
def database_url(db_template: SqliteTemplate | PostgresTemplate) -> str:
    return db_template.fresh()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database=DatabaseSettings(url=database_url),
        storage=StorageSettings(path=tmp_path / "attachments"),
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
async def ctx(
    settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> AsyncIterator[AppContext]:
    context = build_context(settings)
    context.clock = clock
    context.publisher = publisher
    context.jobs = RecordingJobQueue()
    context.blobs = InMemoryBlobStore()
    yield context
    await context.engine.dispose()


@pytest.fixture
async def client(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ctx)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass(frozen=True)
class Caller:
    user: UserOut
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


MakeCaller = Callable[..., Awaitable[Caller]]


@pytest.fixture
def make_caller(ctx: AppContext) -> MakeCaller:
    """Create a user of ``role`` (optionally on a site) with an API token.

    No password: tokens need none, and hashing one costs more than the rest of a test."""
    counter = iter(range(1, 1_000_000))

    async def make(role: Role, *, site_id: int | None = None, email: str | None = None) -> Caller:
        email = email or f"{role.value}{next(counter)}@example.com"
        user = await create_user_as_system(
            ctx,
            UserCreate(email=email, role=role, site_id=site_id),
        )
        return Caller(user=user, token=await create_api_token(ctx, email=email))

    return make


@pytest.fixture
async def admin(make_caller: MakeCaller) -> Caller:
    return await make_caller(Role.ADMIN)
