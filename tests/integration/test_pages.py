"""The server-rendered pages: sign-in, sign-out and home, in French and English."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from opencx.core.enums import Role
from opencx.features.context import AppContext
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.testing import FakeClock

PASSWORD = "correct horse battery"
# 23:30 UTC on 23 November is already Tuesday 24 November in Paris.
LATE_EVENING = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
NNBSP = "\u202f"
FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(LATE_EVENING)


async def make_user(
    ctx: AppContext,
    *,
    locale: str = "en",
    role: Role = Role.SUPERVISOR,
    timezone: str = "Europe/Paris",
) -> str:
    email = f"camille.{locale}@example.com"
    await create_user_as_system(
        ctx,
        UserCreate(
            email=email,
            display_name="Camille Martin",
            role=role,
            password=PASSWORD,
            locale=locale,
            timezone=timezone,
        ),
    )
    return email


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def html_lang(page: httpx.Response) -> str:
    found = re.search(r'<html lang="([^"]+)"', page.text)
    assert found
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **headers: str
) -> httpx.Response:
    form = await client.get("/login", headers=headers)
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf": csrf_of(form)},
        headers=headers,
    )


async def test_sign_in_page_in_french_and_english_by_accept_language(
    client: httpx.AsyncClient,
) -> None:
    french = await client.get("/login", headers=FRENCH)
    assert french.status_code == 200
    assert french.headers["content-type"].startswith("text/html")
    assert html_lang(french) == "fr"
    assert "<title>Se connecter · OpenCX</title>" in french.text
    assert "Mot de passe" in french.text
    assert "Password" not in french.text
    english = await client.get("/login", headers=ENGLISH)
    assert html_lang(english) == "en"
    assert "<title>Sign in · OpenCX</title>" in english.text
    assert "Mot de passe" not in english.text
    assert "default-src 'self'" in english.headers["content-security-policy"]


async def test_without_any_preference_the_configured_default_is_used(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    assert html_lang(await client.get("/login")) == "en"
    ctx.settings.server.default_locale = "fr"
    assert html_lang(await client.get("/login", headers={"Accept-Language": "de"})) == "fr"


async def test_lang_parameter_is_remembered_over_the_browser_language(
    client: httpx.AsyncClient,
) -> None:
    chosen = await client.get("/login?lang=fr", headers=ENGLISH)
    assert html_lang(chosen) == "fr"
    assert "opencx_lang=fr" in chosen.headers["set-cookie"]
    assert html_lang(await client.get("/login", headers=ENGLISH)) == "fr"
    ignored = await client.get("/login?lang=klingon", headers=ENGLISH)
    assert html_lang(ignored) == "fr"
    assert "opencx_lang" not in ignored.headers.get("set-cookie", "")
    assert html_lang(await client.get("/login?lang=en", headers=FRENCH)) == "en"
    assert html_lang(await client.get("/login", headers=FRENCH)) == "en"


async def test_home_requires_a_session(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


async def test_sign_in_starts_a_session_and_home_greets_the_user(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    email = await make_user(ctx)
    form = await client.get("/login", headers=ENGLISH)
    signed_in = await client.post(
        "/login",
        data={"email": email.upper(), "password": PASSWORD, "csrf": csrf_of(form)},
        headers=ENGLISH,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/cockpit"
    home = await client.get("/", headers=ENGLISH)
    assert home.status_code == 200
    assert "Signed in as Camille Martin (Supervisor)" in home.text
    assert 'href="/api/v1/docs"' in home.text
    assert csrf_of(home) != csrf_of(form), "signing in must rotate the CSRF token"
    assert (await client.post("/login", data={"csrf": csrf_of(form)})).status_code == 403


async def test_home_speaks_the_users_language_unless_they_chose_another(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    email = await make_user(ctx, locale="fr", role=Role.AGENT)
    assert (await sign_in(client, email, **ENGLISH)).status_code == 303
    home = await client.get("/", headers=ENGLISH)
    assert html_lang(home) == "fr"
    assert "Connecté en tant que Camille Martin (Conseiller)" in home.text
    assert html_lang(await client.get("/?lang=en", headers=ENGLISH)) == "en"
    assert html_lang(await client.get("/", headers=FRENCH)) == "en"


async def test_home_shows_the_date_and_time_in_the_readers_locale_and_zone(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    email = await make_user(ctx, locale="fr")
    await sign_in(client, email)
    french = (await client.get("/")).text
    assert "mardi 24 novembre 2026" in french
    assert "00:30" in french
    assert "Europe/Paris" in french
    english = (await client.get("/?lang=en")).text
    assert "Tuesday, November 24, 2026" in english
    assert f"12:30{NNBSP}AM" in english
    assert 'datetime="2026-11-23T23:30:00+00:00"' in english


async def test_home_uses_the_users_own_time_zone(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    email = await make_user(ctx, timezone="America/New_York")
    await sign_in(client, email)
    home = (await client.get("/")).text
    assert "Monday, November 23, 2026" in home
    assert f"6:30{NNBSP}PM" in home
    assert "America/New_York" in home


async def test_wrong_password_is_a_401_with_a_translated_error(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    email = await make_user(ctx)
    french = await sign_in(client, email, "wrong password", **FRENCH)
    assert french.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in french.text
    assert f'value="{email}"' in french.text, "the email is kept in the form"
    english = await sign_in(client, "nobody@example.com", PASSWORD, **ENGLISH)
    assert english.status_code == 401
    assert "Wrong email or password." in english.text
    assert (await client.get("/")).status_code == 303


async def test_repeated_failures_are_rate_limited_even_with_the_right_password(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    email = await make_user(ctx)
    attempts = ctx.settings.security.login_attempts
    for _ in range(attempts):
        assert (await sign_in(client, email, "wrong password")).status_code == 401
    limited = await sign_in(client, email, PASSWORD, **FRENCH)
    assert limited.status_code == 429
    window = ctx.settings.security.login_window_seconds
    # The window began with the first failure, a moment (the password checks) ago.
    assert window - 10 <= int(limited.headers["retry-after"]) <= window
    assert "Trop de tentatives de connexion échouées. Réessayez dans 5 minutes." in limited.text
    assert (await client.get("/")).status_code == 303


async def test_form_posts_without_the_sessions_csrf_token_are_refused(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    email = await make_user(ctx)
    fresh = await client.post("/login", data={"email": email, "password": PASSWORD})
    assert fresh.status_code == 403
    assert "Form expired" in fresh.text
    await client.get("/login")
    forged = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": "forged"}, headers=FRENCH
    )
    assert forged.status_code == 403
    assert "Formulaire expiré" in forged.text
    assert (await client.get("/")).status_code == 303


async def test_sign_out_needs_the_csrf_token_and_ends_the_session(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    email = await make_user(ctx)
    await sign_in(client, email)
    home = await client.get("/")
    assert (await client.post("/logout")).status_code == 403
    assert (await client.get("/")).status_code == 200
    signed_out = await client.post("/logout", data={"csrf": csrf_of(home)})
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/login"
    assert (await client.get("/")).status_code == 303


async def test_stylesheet_is_served_and_pages_stay_out_of_the_api_schema(
    client: httpx.AsyncClient,
) -> None:
    css = await client.get("/static/opencx.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert not {"/", "/login", "/logout"} & set(paths)
