"""Sign-in throttling over real HTTP: parallel guesses, a guesser's own sign-in, the
real user from another address, and the memory the counters take."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from opencx.core.enums import Role
from opencx.features.auth import service as auth_service
from opencx.features.context import AppContext
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.settings import Settings
from opencx.web import create_app
from tests.integration.local_server import serving

PASSWORD = "correct horse battery"
VICTIM = "victim@example.com"
ATTACKER = "attacker@example.com"


CLIENT_LIMIT = 8


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.limits.login_client_attempts = CLIENT_LIMIT
    return settings


@pytest.fixture
async def server(ctx: AppContext) -> AsyncIterator[str]:
    for email in (VICTIM, ATTACKER):
        await create_user_as_system(
            ctx, UserCreate(email=email, role=Role.AGENT, password=PASSWORD)
        )
    async with serving(create_app(ctx)) as url:
        yield url


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the server checks (argon2 runs), in order."""
    checked: list[str] = []
    real = auth_service.verify_password

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(auth_service, "verify_password", counting)
    return checked


async def sign_in(
    http: httpx.AsyncClient, email: str, password: str, *, client: str
) -> httpx.Response:
    """One sign-in from ``client`` (the address a trusted proxy reports)."""
    headers = {"X-Forwarded-For": client}
    form = await http.get("/login", headers=headers)
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found
    return await http.post(
        "/login",
        data={"email": email, "password": password, "csrf": found.group(1)},
        headers=headers,
    )


async def test_parallel_guesses_reach_the_password_check_at_most_the_limit(
    server: str, ctx: AppContext, password_checks: list[str]
) -> None:
    limit = ctx.settings.security.login_attempts
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        form = await http.get("/login", headers={"X-Forwarded-For": "203.0.113.7"})
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf

        async def guess(n: int) -> int:
            response = await http.post(
                "/login",
                data={"email": VICTIM, "password": f"guess {n}", "csrf": csrf.group(1)},
                headers={"X-Forwarded-For": "203.0.113.7"},
            )
            return response.status_code

        statuses = await asyncio.gather(*(guess(n) for n in range(200)))
    assert len(password_checks) <= limit
    assert statuses.count(401) <= limit
    assert statuses.count(429) >= 200 - limit


async def test_a_guessers_own_sign_in_does_not_reset_the_count_of_their_address(
    server: str,
) -> None:
    """Spraying guesses over accounts from one address, signing in to one's own account
    between rounds, still meets the per-address limit."""
    attacker = "198.51.100.21"
    statuses = []
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        for round_ in range(3):
            for n in range(3):
                guess = await sign_in(http, f"v{round_}@example.com", f"g{n}", client=attacker)
                statuses.append(guess.status_code)
            own = await sign_in(http, ATTACKER, PASSWORD, client=attacker)
            statuses.append(own.status_code)
    assert statuses[:CLIENT_LIMIT].count(429) == 0
    assert statuses[CLIENT_LIMIT:] == [429] * (len(statuses) - CLIENT_LIMIT)


async def test_a_guessers_own_sign_in_does_not_reset_the_count_on_the_victim(
    server: str, ctx: AppContext
) -> None:
    limit = ctx.settings.security.login_attempts
    attacker = "198.51.100.20"
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        for n in range(limit - 1):
            assert (await sign_in(http, VICTIM, f"guess {n}", client=attacker)).status_code == 401
        own = await sign_in(http, ATTACKER, PASSWORD, client=attacker)
        assert own.status_code == 303
        assert (await sign_in(http, VICTIM, "guess x", client=attacker)).status_code == 401
        refused = await sign_in(http, VICTIM, "guess y", client=attacker)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        again = await sign_in(http, ATTACKER, PASSWORD, client=attacker)
        assert again.status_code == 303
        still = await sign_in(http, VICTIM, PASSWORD, client=attacker)
        assert still.status_code == 429


async def test_the_real_user_signs_in_from_their_own_address_while_guessed_at(
    server: str, ctx: AppContext
) -> None:
    limit = ctx.settings.security.login_attempts
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        for n in range(limit):
            await sign_in(http, VICTIM, f"guess {n}", client="198.51.100.30")
        locked = await sign_in(http, VICTIM, "guess", client="198.51.100.30")
        assert locked.status_code == 429
    async with httpx.AsyncClient(base_url=server, timeout=30) as victim:
        signed_in = await sign_in(victim, VICTIM, PASSWORD, client="192.0.2.55")
        assert signed_in.status_code == 303
        assert (await victim.get("/")).status_code == 200
