"""The suggestions' ranking, pure: French and English terms, BM25 order, and results
masked by who may see what."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from opencx.core.knowledge import Audience, ContentLocale, SourceKind
from opencx.ranking import Document, RankingIndex, guess_language, terms

FR, EN = ContentLocale.FR, ContentLocale.EN
EVERYONE = Audience(kind=SourceKind.ARTICLE)


def doc(n: int, text: str, language: ContentLocale = FR, audience: Audience = EVERYONE) -> Document:
    return Document(SourceKind.ARTICLE, n, language, tuple(terms(text, language)), audience)


def test_french_word_forms_and_missing_accents_give_the_same_terms() -> None:
    forms = ["remboursement", "rembourser", "remboursé", "remboursés", "rembourse"]
    assert {tuple(terms(word, FR)) for word in forms} == {("rembours",)}
    assert terms("prélèvement", FR) == terms("prelevement", FR)
    assert terms("L'abonnement n'est pas résilié", FR) == terms("abonnements résiliés", FR)


def test_english_word_forms_give_the_same_terms() -> None:
    assert {tuple(terms(w, EN)) for w in ["refund", "refunds", "refunded", "refunding"]} == {
        ("refund",)
    }
    assert terms("Hello, I would like to be refunded please", EN) == ["like", "refund"]


def test_stop_words_courtesy_and_numbers_are_not_terms() -> None:
    assert terms("Bonjour, je vous contacte le 12/03 à 10h, merci", FR) == ["contact"]
    assert terms("the and of 2024", EN) == []


def test_a_french_query_finds_another_form_of_its_words() -> None:
    index = RankingIndex(
        [
            doc(1, "Suivre la livraison d'un colis"),
            doc(2, "Comment rembourser un client prélevé deux fois"),
            doc(3, "Changer le mot de passe de l'application"),
        ]
    )
    hits = index.search(terms("Je veux un remboursement", FR), FR, allowed=lambda a: True, limit=5)
    assert [hit.document.id for hit in hits] == [2]


def test_a_query_is_searched_in_its_own_language_only() -> None:
    index = RankingIndex([doc(1, "refund policy", EN), doc(2, "refund policy", FR)])
    hits = index.search(terms("refund", EN), EN, allowed=lambda a: True, limit=5)
    assert [(hit.document.id, hit.document.language) for hit in hits] == [(1, EN)]
    assert index.search([], EN, allowed=lambda a: True, limit=5) == []
    assert RankingIndex([]).search(["refund"], EN, allowed=lambda a: True, limit=5) == []


def test_the_language_is_told_by_its_function_words() -> None:
    assert guess_language("Bonjour, je n'ai pas reçu mon colis") is FR
    assert guess_language("Hello, I have not received my parcel") is EN
    assert guess_language("remboursement") is None
    assert guess_language("remboursement", "fr") is FR
    assert guess_language("refund", "de") is None


# Words of a made-up language: never stop words, each its own stem.
WORDS = st.text(alphabet="bcdfgkmpvz", min_size=5, max_size=8).map(lambda w: "q" + w)


@given(
    corpus=st.lists(st.lists(WORDS, min_size=1, max_size=12), min_size=1, max_size=25),
    keyword=WORDS,
    filler=st.lists(WORDS, min_size=0, max_size=12),
    position=st.integers(min_value=0),
)
def test_the_only_document_with_the_keyword_ranks_first(
    corpus: list[list[str]], keyword: str, filler: list[str], position: int
) -> None:
    corpus = [[w for w in words if w != keyword] or ["qzzzzz"] for words in corpus]
    target = len(corpus) + 1
    documents = [doc(n, " ".join(words)) for n, words in enumerate(corpus, 1)]
    documents.insert(position % (len(documents) + 1), doc(target, " ".join([*filler, keyword])))
    index = RankingIndex(documents)
    hits = index.search(terms(keyword, FR), FR, allowed=lambda a: True, limit=3)
    assert [hit.document.id for hit in hits] == [target]


@given(
    words=st.lists(WORDS, min_size=2, max_size=10, unique=True),
    others=st.lists(st.lists(WORDS, min_size=1, max_size=10), max_size=10),
    query=st.lists(WORDS, min_size=1, max_size=4, unique=True),
    replaced=st.integers(min_value=0),
)
def test_one_more_query_word_in_a_document_of_the_same_length_ranks_it_higher(
    words: list[str], others: list[list[str]], query: list[str], replaced: int
) -> None:
    """BM25 is monotone: the same document with a query word instead of another word
    scores more."""
    plain = [w for w in words if w not in query] or ["qzzzzz", "qzzzzy"]
    richer = list(plain)
    richer[replaced % len(richer)] = query[0]
    documents = [doc(1, " ".join(plain)), doc(2, " ".join(richer))]
    documents += [doc(n, " ".join(ws)) for n, ws in enumerate(others, 3)]
    index = RankingIndex(documents)
    hits = index.search(terms(" ".join(query), FR), FR, allowed=lambda a: True, limit=50)
    score = {hit.document.id: hit.score for hit in hits}
    assert score.get(2, 0.0) > score.get(1, 0.0)


AUDIENCES = st.builds(
    Audience,
    kind=st.sampled_from(SourceKind),
    site_id=st.one_of(st.none(), st.integers(1, 4)),
)


@given(
    corpus=st.lists(st.tuples(st.lists(WORDS, min_size=1, max_size=6), AUDIENCES), max_size=30),
    query=st.lists(WORDS, min_size=1, max_size=4),
    visible_sites=st.frozensets(st.integers(1, 4)),
    limit=st.integers(1, 10),
)
def test_hidden_documents_never_appear_nor_crowd_out_visible_ones(
    corpus: list[tuple[list[str], Audience]],
    query: list[str],
    visible_sites: frozenset[int],
    limit: int,
) -> None:
    vocabulary = sorted({w for words, _ in corpus for w in words})
    query = [*query, *vocabulary[:2]]  # some words that do occur

    def allowed(audience: Audience) -> bool:
        return audience.site_id in visible_sites

    documents = [doc(n, " ".join(words), audience=a) for n, (words, a) in enumerate(corpus)]
    hits = RankingIndex(documents).search(
        terms(" ".join(query), FR), FR, allowed=allowed, limit=limit
    )
    assert all(allowed(hit.document.audience) for hit in hits)
    wanted = set(terms(" ".join(query), FR))
    matching = [d for d in documents if allowed(d.audience) and wanted & set(d.terms)]
    assert len(hits) == min(limit, len(matching))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
