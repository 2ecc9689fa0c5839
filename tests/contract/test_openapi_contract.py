"""The API against its own OpenAPI document: generated requests, valid and invalid, never
get a 5xx, and every response matches the documented status codes, media types and
schemas. A schema-valid request may still be refused with a 4xx when it names something
that does not exist or breaks a business rule, so only that check is left out.
One test per operation, listed from the document itself, so a new endpoint is
covered the day it is added."""

from __future__ import annotations

import asyncio
import copy
import functools
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance

from opencx.core.enums import Role
from opencx.features.auth import create_api_token
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.runtime import build_context
from opencx.settings import DatabaseSettings, Settings
from opencx.web import create_app

#: Seconds to load the OpenAPI document. Its first request also starts the app: on a
#: busy machine that can pass schemathesis's 10 s default.
SCHEMA_TIMEOUT = 60.0


@functools.cache
def _document() -> dict[str, Any]:
    """The OpenAPI document, built once: every app of the suite serves the same one,
    and building it (and having schemathesis fetch and parse it) per test cost seconds."""
    # Building the app opens no connection: the document needs no database.
    app = create_app(build_context(Settings(database=DatabaseSettings(url="sqlite:///:memory:"))))
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, timeout=SCHEMA_TIMEOUT)
    return dict(schema.raw_schema)


def _schema_for(app: FastAPI) -> Any:
    """The document as schemathesis reads it, its requests sent to ``app``."""
    schema = schemathesis.openapi.from_dict(copy.deepcopy(_document()))
    schema.app = app
    schema.location = "/api/v1/openapi.json"
    return schema


def _operation_labels() -> list[str]:
    schema = schemathesis.openapi.from_dict(copy.deepcopy(_document()))
    return sorted(result.ok().label for result in schema.get_all_operations())


async def _admin_token(settings: Settings) -> str:
    ctx = build_context(settings)
    try:
        email = "contract-admin@example.com"
        # A token is all it needs: no password to hash (argon2 is slow on purpose).
        await create_user_as_system(ctx, UserCreate(email=email, role=Role.ADMIN))
        return await create_api_token(ctx, email=email)
    finally:
        await ctx.engine.dispose()


@pytest.fixture
def contract_app(settings: Settings, tmp_path: Path) -> tuple[FastAPI, str]:
    token = asyncio.run(_admin_token(settings))
    # The app builds its own engine inside the test client's event loop.
    return create_app(build_context(settings)), token


@pytest.mark.parametrize("label", _operation_labels())
def test_operation_honours_its_contract(label: str, contract_app: tuple[FastAPI, str]) -> None:
    app, token = contract_app
    operation = _schema_for(app).find_operation_by_label(label)
    assert operation is not None
    headers = {"Authorization": f"Bearer {token}"}
    cases = st.one_of(
        operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()
