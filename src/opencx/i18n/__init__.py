"""Translations and locale-aware formatting for everything a person reads.

Catalogs are the ``.po`` files under ``opencx/locale/<locale>/LC_MESSAGES/``; they are
compiled in memory on first use, so an install needs no compile step. A locale is
supported when its folder exists. See ``docs/i18n.md`` for the translator workflow.
"""

from opencx.i18n.catalogs import (
    DOMAIN,
    LOCALE_DIR,
    SOURCE_LOCALE,
    get_translations,
    language_name,
    supported_locales,
    text_direction,
)
from opencx.i18n.formatting import (
    format_date,
    format_datetime,
    format_number,
    format_percent,
    format_time,
    format_timedelta,
)
from opencx.i18n.negotiation import match_locale, negotiate_locale, parse_accept_language

__all__ = [
    "DOMAIN",
    "LOCALE_DIR",
    "SOURCE_LOCALE",
    "format_date",
    "format_datetime",
    "format_number",
    "format_percent",
    "format_time",
    "format_timedelta",
    "get_translations",
    "language_name",
    "match_locale",
    "negotiate_locale",
    "parse_accept_language",
    "supported_locales",
    "text_direction",
]
