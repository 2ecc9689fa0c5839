"""The weighted length X limits posts to, counted as X's twitter-text library does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from opencx.providers.x import weighted_length


def test_latin_text_counts_one_per_character() -> None:
    assert weighted_length("Hello, world") == 12
    assert weighted_length("Ça marche très bien — merci !") == 29


def test_cjk_counts_two_per_character() -> None:
    assert weighted_length("日本語") == 6
    assert weighted_length("한국어 ok") == 9


def test_a_link_counts_23_whatever_its_length() -> None:
    long_link = "https://example.com/" + "a" * 100
    assert weighted_length(f"See {long_link}") == 4 + 23
    assert weighted_length("http://x.co") == 23


def test_an_emoji_counts_two_even_when_drawn_from_several_code_points() -> None:
    assert weighted_length("👍") == 2
    assert weighted_length("👍🏽") == 2  # skin tone
    assert weighted_length("👩‍👩‍👧‍👦") == 2  # a ZWJ family
    assert weighted_length("🇫🇷") == 2  # a flag: two regional indicators
    assert weighted_length("1️⃣") == 2  # a keycap
    assert weighted_length("❤️") == 2  # a text symbol shown as emoji
    assert weighted_length("ok 👍 ok") == 8


def test_decomposed_accents_count_as_composed_ones() -> None:
    assert weighted_length("e\u0301") == weighted_length("é") == 1


@given(st.text(max_size=300))
def test_the_length_is_at_least_the_count_of_what_is_drawn(text: str) -> None:
    weight = weighted_length(text)
    assert weight >= 0
    assert weight <= 2 * len(text) + 23
