"""A BM25 index over the toolbox's documents, one per language, searched under the
caller's rights.

Rules:
- a document is in one language; a query is searched in the index of its language;
- a document the caller may not see scores nothing: ``allowed`` is asked once per
  distinct ``Audience`` (a few dozen, however many documents), and the answer masks
  the scores before the best are taken, so hidden content never reaches the results
  and never crowds visible content out of them;
- only documents sharing at least one term with the query are returned, best first;
  equal scores keep the order the documents were given in;
- a query term counts once, however often the customer repeated it.

The index never changes once built: a new one replaces it when the content changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import numpy.typing as npt

from opencx.core.knowledge import Audience, ContentLocale, SourceKind

__all__ = ["Document", "Hit", "RankingIndex"]


@dataclass(frozen=True, slots=True)
class Document:
    """One searchable piece: its terms (``ranking.terms``) and who may see it."""

    kind: SourceKind
    id: int
    language: ContentLocale
    terms: tuple[str, ...]
    audience: Audience


@dataclass(frozen=True, slots=True)
class Hit:
    document: Document
    score: float


class _Shelf:
    """The documents of one language and their BM25 model."""

    def __init__(self, documents: Sequence[Document]) -> None:
        self.documents = documents
        self.audiences = list(dict.fromkeys(d.audience for d in documents))
        position = {audience: n for n, audience in enumerate(self.audiences)}
        self.audience_of: npt.NDArray[np.int32] = np.fromiter(
            (position[d.audience] for d in documents), dtype=np.int32, count=len(documents)
        )
        self.model = bm25s.BM25()
        self.model.index([list(d.terms) for d in documents], show_progress=False)

    def scores(
        self, terms: list[str], allowed: Callable[[Audience], bool]
    ) -> npt.NDArray[np.float32] | None:
        visible = np.fromiter((allowed(a) for a in self.audiences), dtype=bool)
        if not visible.any():
            return None
        mask = visible[self.audience_of].astype(np.float32)
        scores: npt.NDArray[np.float32] = self.model.get_scores(terms, weight_mask=mask)
        return scores


class RankingIndex:
    """Documents in French and English, searchable by BM25 relevance."""

    def __init__(self, documents: Iterable[Document]) -> None:
        # bm25s sets its logger to DEBUG on import; its messages are not ours to log.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        by_language: dict[ContentLocale, list[Document]] = {}
        for document in documents:
            if document.terms:  # a document without terms can match nothing
                by_language.setdefault(document.language, []).append(document)
        self._shelves = {language: _Shelf(docs) for language, docs in by_language.items()}

    def __len__(self) -> int:
        return sum(len(shelf.documents) for shelf in self._shelves.values())

    def search(
        self,
        terms: Sequence[str],
        language: ContentLocale,
        *,
        allowed: Callable[[Audience], bool],
        limit: int,
    ) -> list[Hit]:
        """The ``limit`` best documents of ``language`` for the query ``terms`` among
        those whose audience is ``allowed``."""
        shelf = self._shelves.get(language)
        unique = list(dict.fromkeys(terms))
        if shelf is None or not unique or limit < 1:
            return []
        scores = shelf.scores(unique, allowed)
        if scores is None:
            return []
        matching = np.flatnonzero(scores > 0)
        # By score, then by position: equal scores keep the documents' order.
        ranked = matching[np.lexsort((matching, -scores[matching]))][:limit]
        return [Hit(shelf.documents[n], float(scores[n])) for n in ranked.tolist()]
