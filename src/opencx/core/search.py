"""Search terms: what the inbox's search compares, the same on every database.

Text is cut into **terms** when it is written (a conversation's subject and messages, a
customer's name and identities), and a query into **words** when it is asked; a word
matches the terms it begins. The database only compares plain strings by their code
points, which SQLite and PostgreSQL (with the ``C`` collation) do alike.

Rules:
- text is compared folded: compatibility decomposition, accents dropped, case folded,
  ligatures spelled out, so "Réclamation", "RECLAMATION" and "reclamation" are one word,
  and "Œuvre" is "oeuvre";
- a term is a run of letters and digits of folded text, cut at ``MAX_TERM`` characters;
  an e-mail address is also kept whole, so an address typed in full finds its owner
  and no one who merely shares its parts; only the first ``MAX_TEXT`` characters of a
  text are read;
- a query is at most ``MAX_WORDS`` words, all of which must match (AND); a word matches
  the terms it is a prefix of, except a word of one character, which must be a whole
  term (as a prefix it would match nearly everything);
- a query of digits and phone punctuation holding at least ``PHONE_DIGITS`` digits is
  one word of its digits ("06 12 34 56 78" is 0612345678, "+33 6…" and "0033 6…" are
  33612345678);
- ``#123`` is the case number 123 alone; a query of digits alone is also read as a
  case number, besides its words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from opencx.core.errors import InvalidInput
from opencx.core.ids import MAX_ID

__all__ = [
    "MAX_QUERY",
    "MAX_TERM",
    "MAX_TEXT",
    "MAX_WORDS",
    "MIN_PREFIX",
    "PHONE_DIGITS",
    "Query",
    "fold",
    "parse_query",
    "prefix_bounds",
    "terms",
    "word_matches",
]

#: Longest term kept; longer words are cut (and so are query words, alike).
MAX_TERM = 64
#: Characters of one text that are read for terms (a long e-mail's quoted history past
#: that point is left out).
MAX_TEXT = 20_000
#: Longest query accepted, in characters.
MAX_QUERY = 200
#: Words of a query that count; the rest are ignored.
MAX_WORDS = 8
#: Digits that make a query of digits and punctuation a phone number.
PHONE_DIGITS = 6
#: Shortest word that matches the terms it begins; a shorter one matches a whole term.
MIN_PREFIX = 2

#: Letters that compatibility decomposition leaves whole.
_SPELLED = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th"})
_WORD = re.compile(r"[^\W_]+")
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
_QUERY_EMAIL = re.compile(r"[\w.%+-]*@[\w.-]*")
_PHONE = re.compile(r"[+\d\s().\-/]+")
_CASE = re.compile(r"(#?)(\d{1,18})")


def fold(text: str) -> str:
    """``text`` as search compares it: no accents, no case, ligatures spelled out."""
    if text.isascii():
        return text.lower()
    # Decomposed before folding case too: "ℌ" is an "H" only once decomposed.
    lowered = unicodedata.normalize("NFKD", text).casefold().translate(_SPELLED)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def terms(text: str) -> set[str]:
    """The terms of ``text`` (its first ``MAX_TEXT`` characters): words and whole
    e-mail addresses, folded and cut at ``MAX_TERM``."""
    folded = fold(text[:MAX_TEXT])
    found = {word[:MAX_TERM] for word in _WORD.findall(folded)}
    found.update(address[:MAX_TERM] for address in _EMAIL.findall(folded))
    return found


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: the words that must all match, and the conversation id it names
    (a case number), if any. A query with neither matches nothing."""

    words: tuple[str, ...]
    case_number: int | None = None

    @property
    def empty(self) -> bool:
        return not self.words and self.case_number is None


def parse_query(raw: str) -> Query:
    """Read what a person typed into the search box; ``InvalidInput`` when too long."""
    if len(raw) > MAX_QUERY:
        raise InvalidInput(f"q is at most {MAX_QUERY} characters", field="q")
    text = raw.strip()
    case = _CASE.fullmatch(text)
    number = int(case.group(2)) if case is not None else 0
    case_number = number if 0 < number <= MAX_ID else None
    if case is not None and case.group(1):  # "#123": the case number, nothing else
        return Query((), case_number)
    digits = "".join(ch for ch in text if ch.isdigit())
    if _PHONE.fullmatch(text) and len(digits) >= PHONE_DIGITS:
        if digits.startswith("00"):  # the international prefix, as "+" is
            digits = digits[2:]
        return Query((digits[:MAX_TERM],), case_number)
    if case is not None:
        return Query((digits[:MAX_TERM],), case_number)
    return Query(_words(fold(text)))


def _words(folded: str) -> tuple[str, ...]:
    words: list[str] = []
    position = 0
    for address in _QUERY_EMAIL.finditer(folded):
        words.extend(_WORD.findall(folded[position : address.start()]))
        if address.group().strip("@"):
            words.append(address.group())
        position = address.end()
    words.extend(_WORD.findall(folded[position:]))
    distinct = dict.fromkeys(word[:MAX_TERM] for word in words)
    return tuple(distinct)[:MAX_WORDS]


def word_matches(word: str, term: str) -> bool:
    """Whether query ``word`` matches ``term``: the rule ``prefix_bounds`` puts in SQL."""
    return term.startswith(word) if len(word) >= MIN_PREFIX else term == word


def prefix_bounds(word: str) -> tuple[str, str] | None:
    """``(low, high)``: the terms ``word`` matches are those with ``low <= term < high``
    in code-point order; ``None`` when it matches only the term equal to it."""
    if len(word) < MIN_PREFIX:
        return None
    following = ord(word[-1]) + 1
    if 0xD800 <= following < 0xE000:  # surrogates are no characters: skip them
        following = 0xE000
    if following > 0x10FFFF:  # nothing follows: no term runs that far in practice
        return word, word + chr(0x10FFFF)
    return word, word[:-1] + chr(following)
