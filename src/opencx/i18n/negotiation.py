"""Choosing the locale of a response among the supported ones.

Precedence: the locale a person chose in this browser (``?lang=`` or its cookie), then
their profile's locale, then the browser's ``Accept-Language``, then the site default.
"""

from __future__ import annotations

from opencx.i18n.catalogs import SOURCE_LOCALE, supported_locales

__all__ = ["match_locale", "negotiate_locale", "parse_accept_language"]

#: Headers are attacker-controlled: look at a bounded prefix and a bounded number of tags.
MAX_HEADER = 512
MAX_TAGS = 16


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags by decreasing preference (``q``), ties in header order; q=0 dropped."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "")[:MAX_HEADER].split(",")[:MAX_TAGS]):
        tag, _, params = part.strip().partition(";")
        quality = _quality(params)
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, index, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def match_locale(tag: str | None) -> str | None:
    """The supported locale for a tag like ``fr``, ``fr-CA`` or ``FR_fr``, if any."""
    if not tag:
        return None
    parts = tag.strip().replace("-", "_").split("_")
    language = parts[0].lower()
    supported = supported_locales()
    if len(parts) > 1:
        exact = f"{language}_{parts[1].upper()}"
        if exact in supported:
            return exact
    return language if language in supported else None


def negotiate_locale(
    accept_language: str | None,
    *,
    user_locale: str | None = None,
    chosen: str | None = None,
    default: str = SOURCE_LOCALE,
) -> str:
    """The locale to answer in; always a supported one (the source locale at worst)."""
    for candidate in (chosen, user_locale, *parse_accept_language(accept_language), default):
        found = match_locale(candidate)
        if found is not None:
            return found
    return SOURCE_LOCALE
