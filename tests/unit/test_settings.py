import pytest
from pydantic import ValidationError

from opencx.settings import DatabaseSettings, Settings


def test_prod_refuses_the_built_in_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCX_ENV", "prod")
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("OPENCX_SECURITY__SECRET_KEY", "x" * 40)
    assert Settings(_env_file=None).env == "prod"  # type: ignore[call-arg]


def test_nested_variables_and_secret_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCX_SERVER__PORT", "9001")
    monkeypatch.setenv("OPENCX_SECURITY__SECRET_KEY", "s3cr3t-value-that-is-long-enough-123")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.server.port == 9001
    assert "s3cr3t" not in repr(settings)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert DatabaseSettings(url=given).async_url == expected
