"""Message catalogs: ``.po`` files read with Babel and compiled in memory, once.

The ``.po`` files are the source of truth and the only thing committed; there is no
``.mo`` build step. English is the source language: an empty ``msgstr`` in the English
catalog means "the msgid as written", which gettext does by itself.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = [
    "DOMAIN",
    "LOCALE_DIR",
    "SOURCE_LOCALE",
    "catalog_path",
    "get_translations",
    "language_name",
    "supported_locales",
    "text_direction",
]

DOMAIN = "messages"
SOURCE_LOCALE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def supported_locales() -> tuple[str, ...]:
    """Every locale with a catalog folder, sorted; adding a folder adds a locale."""
    found = {p.name for p in LOCALE_DIR.iterdir() if catalog_path(p.name).is_file()}
    return tuple(sorted(found | {SOURCE_LOCALE}))


@functools.cache
def get_translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog of ``locale``; the identity translation when it has none.

    Fuzzy entries are left out: a guess by ``pybabel update`` is not a translation.
    """
    path = catalog_path(locale)
    if locale not in supported_locales() or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@functools.cache
def language_name(locale: str) -> str:
    """The language's own name for itself, as a language menu shows it: "Français"."""
    name = Locale.parse(locale).get_display_name(locale) or locale
    return name[:1].upper() + name[1:]


@functools.cache
def text_direction(locale: str) -> str:
    """``ltr`` or ``rtl``, for the ``dir`` attribute of ``<html>``."""
    return str(Locale.parse(locale).text_direction)
