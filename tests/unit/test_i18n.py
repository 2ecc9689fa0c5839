"""Catalogs, locale negotiation and formatting; and that the catalogs are complete and
in sync with the sources, so an untranslated or stale string fails the suite."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from opencx.i18n import (
    LOCALE_DIR,
    SOURCE_LOCALE,
    catalogs,
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
    parse_accept_language,
    supported_locales,
)

ROOT = Path(__file__).resolve().parents[2]
POT = LOCALE_DIR / "messages.pot"
# 23:30 UTC on 23 November is already 24 November in Paris (UTC+1).
LATE_EVENING = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
NNBSP = "\u202f"  # CLDR's narrow no-break space (fr thousands, en before AM/PM)


# --- negotiation -----------------------------------------------------------------------


def test_accept_language_is_ordered_by_quality_then_position() -> None:
    header = "en;q=0.5, fr-CA, de;q=0, *;q=0.1, it;q=abc, es"
    assert parse_accept_language(header) == ["fr-CA", "es", "en"]


def test_accept_language_tolerates_garbage_and_bounds_its_work() -> None:
    assert parse_accept_language(None) == []
    assert parse_accept_language(";;,,;q=") == []
    assert len(parse_accept_language(",".join(["fr"] * 10_000))) <= 16


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("fr", "fr"), ("fr-CA", "fr"), ("FR_fr", "fr"), ("en-GB", "en"), ("de", None), ("", None)],
)
def test_match_locale_falls_back_to_the_language(tag: str, expected: str | None) -> None:
    assert match_locale(tag) == expected


def test_negotiation_precedence_is_choice_then_profile_then_browser_then_default() -> None:
    header = "de, fr;q=0.8, en;q=0.5"
    assert negotiate_locale(header, chosen="en", user_locale="fr") == "en"
    assert negotiate_locale(header, user_locale="en") == "en"
    assert negotiate_locale(header, user_locale="xx") == "fr"
    assert negotiate_locale("de, it", default="fr") == "fr"
    assert negotiate_locale(None, default="de") == SOURCE_LOCALE


# --- catalogs --------------------------------------------------------------------------


def test_english_and_french_are_supported_and_named_in_their_own_language() -> None:
    assert {"en", "fr"} <= set(supported_locales())
    assert language_name("fr") == "Français"
    assert language_name("en") == "English"


def test_french_catalog_translates_and_unknown_locale_is_identity() -> None:
    fr = get_translations("fr")
    assert fr.gettext("Sign in") == "Se connecter"
    assert fr.pgettext("user role", "Agent") == "Conseiller"
    assert get_translations("fr") is fr  # compiled once per process
    assert get_translations("en").gettext("Sign in") == "Sign in"
    unknown = get_translations("xx")
    assert type(unknown) is gettext.NullTranslations
    assert unknown.gettext("Sign in") == "Sign in"


@pytest.fixture
def locale_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A throwaway locale folder in place of the shipped one."""
    monkeypatch.setattr(catalogs, "LOCALE_DIR", tmp_path)
    catalogs.supported_locales.cache_clear()
    catalogs.get_translations.cache_clear()
    yield tmp_path
    catalogs.supported_locales.cache_clear()
    catalogs.get_translations.cache_clear()


def test_a_new_folder_adds_a_locale_and_fuzzy_guesses_are_not_used(locale_dir: Path) -> None:
    catalog = Catalog(locale="de")
    catalog.add("Sign in", "Anmelden")
    catalog.add("Sign out", "Anmelden", flags=["fuzzy"])
    path = locale_dir / "de" / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as po:
        write_po(po, catalog)
    assert supported_locales() == ("de", "en")
    assert match_locale("de-AT") == "de"
    de = get_translations("de")
    assert de.gettext("Sign in") == "Anmelden"
    assert de.gettext("Sign out") == "Sign out"


# --- formatting ------------------------------------------------------------------------


def test_datetimes_are_moved_to_the_readers_time_zone_then_formatted() -> None:
    assert format_datetime(LATE_EVENING, "fr", "Europe/Paris") == "24 nov. 2026, 00:30:00"
    assert format_datetime(LATE_EVENING, "en", "Europe/Paris") == f"Nov 24, 2026, 12:30:00{NNBSP}AM"
    assert format_datetime(LATE_EVENING, "en", "America/New_York", format="short") == (
        f"11/23/26, 6:30{NNBSP}PM"
    )
    assert format_date(LATE_EVENING, "fr", "Europe/Paris", format="full") == (
        "mardi 24 novembre 2026"
    )
    assert format_date(LATE_EVENING, "fr", "UTC") == "23 nov. 2026"
    assert format_time(LATE_EVENING, "fr", "Europe/Paris") == "00:30"


def test_plain_dates_need_no_time_zone() -> None:
    assert format_date(date(2026, 7, 14), "fr", format="long") == "14 juillet 2026"
    assert format_date(date(2026, 7, 14), "en", format="long") == "July 14, 2026"


def test_naive_datetimes_and_datetimes_without_zone_are_refused() -> None:
    naive = datetime(2026, 11, 23, 10, 0)
    with pytest.raises(ValueError, match="naive"):
        format_datetime(naive, "fr", "Europe/Paris")
    with pytest.raises(ValueError, match="tz_name"):
        format_date(LATE_EVENING, "fr")


def test_numbers_and_percentages_follow_the_locale() -> None:
    assert format_number(1234.5, "fr") == f"1{NNBSP}234,5"
    assert format_number(Decimal("1234.5"), "en") == "1,234.5"
    assert format_percent(0.85, "fr") == "85\u00a0%"
    assert format_percent(0.85, "en") == "85%"


def test_durations_are_rounded_words() -> None:
    assert format_timedelta(timedelta(seconds=299), "fr") == "5 minutes"
    assert format_timedelta(timedelta(hours=1), "fr") == "1\u00a0heure"
    assert format_timedelta(timedelta(hours=2), "en") == "2 hours"
    assert format_timedelta(timedelta(minutes=5), "fr", add_direction=True) == "dans 5 minutes"


# --- catalog completeness and sync ------------------------------------------------------


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=locale)


def _keys(catalog: Catalog) -> set[tuple[str, str | None]]:
    return {(_msgid(m), m.context) for m in catalog if m.id}


def _msgid(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple | list) else message.id


def _extracted() -> set[tuple[str, str | None]]:
    """What ``pybabel extract -F babel.cfg ... src`` would find now."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, filename="babel.cfg")
    found = extract_from_dir(ROOT / "src", method_map, options_map, keywords=DEFAULT_KEYWORDS)
    return {
        (message[0] if isinstance(message, tuple) else message, context)
        for _file, _line, message, _comments, context in found
    }


def _catalogs() -> list[str]:
    return [p.name for p in sorted(LOCALE_DIR.iterdir()) if p.is_dir()]


def test_the_template_holds_exactly_the_strings_of_the_sources() -> None:
    missing = _extracted() - _keys(_read(POT))
    stale = _keys(_read(POT)) - _extracted()
    assert not missing, f"run pybabel extract (docs/i18n.md); new strings: {sorted(missing)}"
    assert not stale, f"run pybabel extract (docs/i18n.md); removed strings: {sorted(stale)}"


def test_english_and_french_catalogs_exist() -> None:
    assert {"en", "fr"} <= set(_catalogs())


@pytest.mark.parametrize("locale", _catalogs())
def test_every_catalog_is_in_sync_with_the_template(locale: str) -> None:
    catalog = _read(catalogs.catalog_path(locale), locale)
    assert _keys(catalog) == _keys(_read(POT)), "run pybabel update (docs/i18n.md)"
    assert not catalog.obsolete, "obsolete entries: run pybabel update --ignore-obsolete"
    fuzzy = [_msgid(m) for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries in {locale} need a translator's review: {fuzzy}"
    problems = [(_msgid(m), [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems, f"placeholders differ between msgid and msgstr: {problems}"


@pytest.mark.parametrize("locale", [c for c in _catalogs() if c != SOURCE_LOCALE])
def test_every_string_is_translated(locale: str) -> None:
    catalog = _read(catalogs.catalog_path(locale), locale)
    untranslated = [
        _msgid(m)
        for m in catalog
        if m.id and not all(m.string if isinstance(m.string, tuple | list) else [m.string])
    ]
    assert not untranslated, f"untranslated in {locale}: {untranslated}"
