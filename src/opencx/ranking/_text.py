"""Turning French and English text into search terms, and telling the two apart.

Rules:
- words are runs of letters (digits, dates and order numbers carry no meaning here);
  French elisions split on the apostrophe (``l'abonnement`` gives ``abonnement``);
- a word is lower-cased, dropped when it is a stop word of its language (the NLTK
  lists bm25s ships, and the courtesy words of customer service), reduced to its
  Snowball stem (``remboursement`` and ``rembourser`` both give ``rembours``), then
  stripped of accents, so a customer who types ``prelevement`` finds ``prélèvement``;
- the language of a text is the one whose own function words it uses more (words
  that are stop words in one language only); a tie goes to the hint, else to nobody.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Iterable

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_FRENCH

from opencx.core.knowledge import ContentLocale

__all__ = ["guess_language", "terms"]

_WORD = re.compile(r"[^\W\d_]+")
_MIN_LENGTH = 2
_STEMMER_NAMES = {ContentLocale.FR: "french", ContentLocale.EN: "english"}
#: French letters English does not use: one of them is a vote for French.
_FRENCH_LETTERS = re.compile(r"[éèêëàâçîïôûùœ]")


@functools.lru_cache(maxsize=65536)
def _fold_accented(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fold(word: str) -> str:
    """``word`` without its accents (``é`` is ``e``); most words have none."""
    return word if word.isascii() else _fold_accented(word)


def _with_folded(words: Iterable[str]) -> frozenset[str]:
    listed = frozenset(words)
    return listed | {_fold(word) for word in listed}


#: Greetings and courtesy open and close most messages of a contact center: they say
#: nothing of the need, and a suggestion matching on them alone is noise.
_COURTESY = {
    ContentLocale.FR: (
        "bonjour", "bonsoir", "salut", "merci", "madame", "monsieur", "cordialement",
        "bien", "pouvez", "pourriez", "voudrais", "svp", "plait", "aide", "aider",
    ),
    ContentLocale.EN: (
        "hello", "hi", "hey", "dear", "thanks", "thank", "please", "regards", "kind",
        "could", "would", "help", "sir", "madam",
    ),
}  # fmt: skip
_STOP_WORDS = {
    language: _with_folded((*words, *_COURTESY[language]))
    for language, words in (
        (ContentLocale.FR, STOPWORDS_FRENCH),
        (ContentLocale.EN, STOPWORDS_EN_PLUS),
    )
}
#: Function words of one language that are not function words of the other.
_MARKERS = {
    ContentLocale.FR: _STOP_WORDS[ContentLocale.FR] - _STOP_WORDS[ContentLocale.EN],
    ContentLocale.EN: _STOP_WORDS[ContentLocale.EN] - _STOP_WORDS[ContentLocale.FR],
}
# PyStemmer's stemmers keep state between calls: one per thread (the index is built in
# a worker thread while requests stem their queries on the event loop's).
_local = threading.local()


def _stemmer(language: ContentLocale) -> Stemmer.Stemmer:
    stemmers: dict[ContentLocale, Stemmer.Stemmer] | None = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    if language not in stemmers:
        stemmers[language] = Stemmer.Stemmer(_STEMMER_NAMES[language])
    return stemmers[language]


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if len(w) >= _MIN_LENGTH]


def terms(text: str, language: ContentLocale) -> list[str]:
    """The search terms of ``text`` read as ``language``, in order, repeats kept."""
    stop = _STOP_WORDS[language]  # with the forms typed without accents
    kept = [w for w in _words(text) if w not in stop]
    stems: list[str] = _stemmer(language).stemWords(kept)
    return [folded for folded in map(_fold, stems) if len(folded) >= _MIN_LENGTH]


def guess_language(text: str, hint: str | None = None) -> ContentLocale | None:
    """French or English, from the function words ``text`` uses; on a tie, ``hint``
    when it names one of them, else ``None``."""
    words = _words(text)
    french = sum(1 for w in words if w in _MARKERS[ContentLocale.FR])
    french += len(_FRENCH_LETTERS.findall(text.lower()))
    english = sum(1 for w in words if w in _MARKERS[ContentLocale.EN])
    if french != english:
        return ContentLocale.FR if french > english else ContentLocale.EN
    try:
        return ContentLocale(hint) if hint else None
    except ValueError:
        return None
