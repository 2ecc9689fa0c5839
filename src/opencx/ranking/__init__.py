"""Ranking the agent's suggestions: pure, no I/O. Text in (``terms``, in French or
English), a BM25 index (``RankingIndex``) of documents out, searched under the caller's
rights. The service layer loads the documents and keeps the index
(``opencx.features.knowledge``).

It sits beside ``db`` in the layers rather than in ``core`` because it uses bm25s
(numpy) and PyStemmer, which ``core`` may not.
"""

from opencx.ranking._index import Document, Hit, RankingIndex
from opencx.ranking._text import guess_language, terms

__all__ = ["Document", "Hit", "RankingIndex", "guess_language", "terms"]
