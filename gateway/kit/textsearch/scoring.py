"""BM25-family scoring over an inverted index: idf, field weights, minimum-should-match.

Catalogue texts are short (a name, a few keywords), so term frequency and length
normalisation add little; what matters is *which* field a term matched in and how rare
the term is. A term's weight is its BM25 idf from the posting-list length, scaled into
[0.5, 1.5] so that a field weight keeps its meaning; a query's score for a document is
the sum over its units of ``field weight × scaled idf × unit weight``.

The minimum-should-match rule works on the query's characters: a document must cover at
least a share of what the best document covers, so one generic word of a longer query
(登记 in 我想办个养犬登记) cannot pull in every item that mentions it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["FieldWeights", "idf", "minimum_should_match"]


@dataclass(frozen=True)
class FieldWeights:
    """Weight of a match per field code (e.g. ``{"n": 10, "t": 4, "b": 1}``)."""

    weights: tuple[tuple[str, float], ...]

    def of(self, field: str) -> float:
        return dict(self.weights).get(field, 0.0)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for f, _ in self.weights)


def idf(document_frequency: int, documents: int) -> float:
    """BM25 idf scaled into [0.5, 1.5]: rare terms count up to three times a common one."""
    documents = max(documents, document_frequency, 1)
    raw = math.log(1 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))
    top = math.log(1 + (documents - 0.5) / 1.5)
    return 0.5 + min(1.0, raw / top) if top > 0 else 1.0


def minimum_should_match(best: float, *, share: float = 0.6, floor: float = 0.0) -> float:
    """The coverage a document needs, given the best coverage among the candidates."""
    return max(floor, best * share)
