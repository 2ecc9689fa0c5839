"""Rendering server pages: one Jinja2 environment per locale, and the page's locale.

Each locale gets its own environment with that locale's catalog installed (new-style
gettext, so ``%(name)s`` placeholders are filled and escaped by the call). Installing
translations on one shared environment per request would race between concurrent
requests, since the gettext callables are environment globals.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from opencx import __version__
from opencx.features.context import AppContext
from opencx.i18n import (
    format_date,
    format_datetime,
    format_number,
    format_percent,
    format_time,
    format_timedelta,
    get_translations,
    language_name,
    match_locale,
    negotiate_locale,
    supported_locales,
    text_direction,
)
from opencx.web.deps import csrf_token

__all__ = [
    "LANG_COOKIE",
    "STATIC_DIR",
    "TEMPLATES_DIR",
    "environment",
    "page_locale",
    "render",
]

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
LANG_COOKIE = "opencx_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
#: Pages carry no script and load nothing from elsewhere; say so to the browser.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@pass_context
def _datetime(context: Context, value: datetime, format: str = "medium") -> str:
    return format_datetime(value, context["locale"], context["timezone"], format=format)


@pass_context
def _date(context: Context, value: date | datetime, format: str = "medium") -> str:
    return format_date(value, context["locale"], context["timezone"], format=format)


@pass_context
def _time(context: Context, value: datetime, format: str = "short") -> str:
    return format_time(value, context["locale"], context["timezone"], format=format)


@pass_context
def _number(context: Context, value: float) -> str:
    return format_number(value, context["locale"])


@pass_context
def _percent(context: Context, value: float) -> str:
    return format_percent(value, context["locale"])


@pass_context
def _timedelta(context: Context, value: timedelta) -> str:
    return format_timedelta(value, context["locale"])


@functools.cache
def environment(locale: str) -> Environment:
    """The template environment answering in ``locale``; built once per process."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # These options must match babel.cfg, so that extracted msgids equal runtime ones.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(  # type: ignore[attr-defined]
        get_translations(locale), newstyle=True
    )
    env.filters.update(
        datetime=_datetime,
        date=_date,
        time=_time,
        number=_number,
        percent=_percent,
        timedelta=_timedelta,
    )
    env.globals.update(
        version=__version__,
        languages=[(code, language_name(code)) for code in supported_locales()],
    )
    return env


def _context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def _chosen_locale(request: Request) -> str | None:
    """A locale picked in this browser: ``?lang=`` first, then the cookie it set."""
    return match_locale(request.query_params.get("lang")) or match_locale(
        request.cookies.get(LANG_COOKIE)
    )


def page_locale(request: Request, *, user_locale: str | None = None) -> str:
    return negotiate_locale(
        request.headers.get("accept-language"),
        chosen=_chosen_locale(request),
        user_locale=user_locale,
        default=_context(request).settings.server.default_locale,
    )


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    user_locale: str | None = None,
    timezone: str | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` in the page's locale; ``?lang=`` is remembered in a cookie."""
    settings = _context(request).settings
    locale = page_locale(request, user_locale=user_locale)
    html = (
        environment(locale)
        .get_template(template)
        .render(
            locale=locale,
            html_lang=locale.replace("_", "-"),
            direction=text_direction(locale),
            timezone=timezone or settings.server.default_timezone,
            csrf_token=csrf_token(request),
            static_root="/static",
            **context,
        )
    )
    response = HTMLResponse(
        html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})}
    )
    _remember_choice(request, response, secure=settings.security.cookie_secure)
    return response


def _remember_choice(request: Request, response: HTMLResponse, *, secure: bool) -> None:
    lang = match_locale(request.query_params.get("lang"))
    if lang is not None:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=LANG_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=secure,
        )
