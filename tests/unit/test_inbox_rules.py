"""Pure rules of the inbox: search terms and queries, previews, the snooze's bounds,
time-ordered cursors, and queue membership as routing decides it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from opencx.core.errors import InvalidInput
from opencx.core.inbox import MAX_SNOOZE, PREVIEW_LENGTH, check_snooze, html_text, preview
from opencx.core.keyset import decode_position, encode_position
from opencx.core.routing.expressions import compile_expression
from opencx.core.routing.membership import serves
from opencx.core.routing.model import QueueSpec, WorkerSpec
from opencx.core.search import (
    MAX_QUERY,
    MAX_TERM,
    MAX_WORDS,
    MIN_PREFIX,
    Query,
    fold,
    parse_query,
    prefix_bounds,
    terms,
    word_matches,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: Letters French writes with and without their accents.
ACCENTED = "éèêëàâäîïôöùûüÿçÉÈÊÀÂÎÔÙÛÇ"
PLAIN = "eeeeaaaiioouuuycEEEAAIOUUC"
french_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz" + ACCENTED, min_size=1, max_size=20)


# --- search terms ---------------------------------------------------------------------


@given(st.text())
def test_folding_twice_is_folding_once(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.lists(french_words, min_size=1, max_size=6))
def test_terms_ignore_accents_and_case(words: list[str]) -> None:
    text = " ".join(words)
    plain = text.translate(str.maketrans(ACCENTED, PLAIN))
    assert terms(text) == terms(plain) == terms(text.upper()) == terms(plain.lower())
    assert all(term.isascii() for term in terms(text))


def test_ligatures_and_addresses_are_spelled_out() -> None:
    assert terms("Œuvre, cœur & Straße") == {"oeuvre", "coeur", "strasse"}
    assert terms("Écrire à Jean.Dupont@Example.com !") == {
        "ecrire",
        "a",
        "jean",
        "dupont",
        "example",
        "com",
        "jean.dupont@example.com",
    }


@given(st.text(max_size=300))
def test_every_beginning_of_a_word_finds_it(text: str) -> None:
    for term in terms(text):
        assume("@" not in term and not term.isdigit())
        for length in range(1, len(term) + 1):
            [word] = parse_query(term[:length]).words
            assert word_matches(word, term) == (length >= MIN_PREFIX or length == len(term))


@given(st.text(min_size=1, max_size=8), st.text(max_size=8), st.text(max_size=8))
def test_the_sql_range_of_a_word_holds_exactly_the_terms_it_matches(
    word: str, suffix: str, other: str
) -> None:
    bounds = prefix_bounds(word)
    for term in (word, word + suffix, other, word[:-1] + other):
        if bounds is None:
            assert len(word) < MIN_PREFIX
            continue
        low, high = bounds
        assert (low <= term < high) == word_matches(word, term), term


@given(st.text(max_size=MAX_QUERY))
def test_any_query_reads_as_a_few_bounded_words(raw: str) -> None:
    query = parse_query(raw)
    assert len(query.words) <= MAX_WORDS
    assert all(0 < len(word) <= MAX_TERM for word in query.words)


@pytest.mark.parametrize(
    ("raw", "query"),
    [
        ("#123", Query((), 123)),
        (" 123 ", Query(("123",), 123)),
        ("#0", Query((), None)),
        ("06 12 34 56 78", Query(("0612345678",))),
        ("+33 6 12 34 56 78", Query(("33612345678",))),
        ("0033612345678", Query(("33612345678",), None)),
        ("0612345678", Query(("0612345678",), 612345678)),
        ("Réclamation  FACTURE", Query(("reclamation", "facture"))),
        ("jean.dupont@Exa", Query(("jean.dupont@exa",))),
        ("a b c d e f g h i j", Query(tuple("abcdefgh"))),
        ("?!", Query(())),
    ],
)
def test_queries_read_as_people_type_them(raw: str, query: Query) -> None:
    assert parse_query(raw) == query


def test_a_query_too_long_is_refused() -> None:
    with pytest.raises(InvalidInput):
        parse_query("x" * (MAX_QUERY + 1))


# --- previews -----------------------------------------------------------------------------


@given(st.text(max_size=1000))
def test_a_preview_is_one_short_line(text: str) -> None:
    line = preview(text)
    assert len(line) <= PREVIEW_LENGTH
    assert line == line.strip()
    assert not any(ch.isspace() and ch != " " for ch in line)
    collapsed = " ".join(text.split())
    if len(collapsed) <= PREVIEW_LENGTH:
        assert line == collapsed
    else:
        assert line.endswith("…")
        assert collapsed.startswith(line[:-1].rstrip())


def test_a_preview_reads_html_as_text_when_there_is_no_text() -> None:
    html = "<html><head><style>p{}</style></head><p>Bonjour&nbsp;<b>Léa</b></p><p>Merci</p>"
    assert preview("", html) == "Bonjour\xa0Léa Merci".replace("\xa0", " ")
    assert preview("Plain", html) == "Plain"
    assert html_text("<script>alert(1)</script>ok") == "ok"


# --- snoozes --------------------------------------------------------------------------------


@given(st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)))
def test_a_snooze_ends_after_now_and_within_ninety_days(ahead: timedelta) -> None:
    until = NOW + ahead
    if timedelta(0) < ahead <= MAX_SNOOZE:
        assert check_snooze(until, now=NOW) == until
    else:
        with pytest.raises(InvalidInput):
            check_snooze(until, now=NOW)


def test_a_snooze_needs_an_offset_and_reads_any() -> None:
    with pytest.raises(InvalidInput):
        check_snooze(datetime(2026, 1, 6, 9, 0), now=NOW)
    paris = datetime(2026, 1, 6, 10, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    assert check_snooze(paris, now=NOW) == datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        check_snooze(datetime.max.replace(tzinfo=UTC), now=NOW)


# --- cursors ----------------------------------------------------------------------------------


@given(
    st.datetimes(
        timezones=st.just(UTC), min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)
    ),
    st.integers(min_value=0, max_value=2**63 - 1),
)
def test_a_position_reads_back_as_written(at: datetime, row_id: int) -> None:
    assert decode_position(encode_position(at, row_id)) == (at, row_id)


@given(st.text(max_size=200))
def test_a_forged_position_is_invalid_input(cursor: str) -> None:
    try:
        at, row_id = decode_position(cursor)
    except InvalidInput:
        return
    assert at.tzinfo is not None
    assert row_id >= 0


# --- queue membership --------------------------------------------------------------------------


def test_a_worker_serves_the_queues_whose_target_takes_them_whatever_the_task() -> None:
    def queue(queue_id: int, target: str) -> QueueSpec:
        return QueueSpec(id=queue_id, target=compile_expression(target, default_root="worker"))

    worker = WorkerSpec(id=1, attributes={"skills": {"billing": 2}, "languages": ["fr"]})
    queues = [
        queue(1, "skills.billing >= 1"),
        queue(2, "skills.sales >= 1"),
        queue(3, "skills.billing >= 1 AND task.lang IN worker.languages"),
        queue(4, ""),
    ]
    assert serves(worker, queues) == [1, 3, 4]
