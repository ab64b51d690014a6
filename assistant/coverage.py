"""Do the retrieved passages answer the question, or only come near it?

One top-1 similarity cannot tell: "best diet for back pain" scores higher against the
article than "what is the piriformis", yet only the second is answered there. So the
decision also asks which of the question's key terms the passages actually contain.
Thresholds are measured on the eval set; see docs/thresholds.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.text import Vocabulary, key_terms, stems
from assistant.types import Passage


@dataclass(frozen=True)
class Coverage:
    terms: tuple[str, ...]  # the question's key terms, typos corrected
    covered: tuple[str, ...]  # those found in the passages
    top_score: float

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(t for t in self.terms if t not in self.covered)

    @property
    def ratio(self) -> float:
        return len(self.covered) / len(self.terms) if self.terms else 0.0


def assess(
    question: str, passages: list[Passage], vocabulary: Vocabulary, top_score: float
) -> Coverage:
    terms = tuple(dict.fromkeys(vocabulary.correct(t) for t in key_terms(question)))
    found: set[str] = set()
    for p in passages:
        found.update(stems(f"{p.title} {p.section} {p.text}"))
    return Coverage(terms, tuple(t for t in terms if t in found), top_score)


def is_covered(coverage: Coverage, min_relevance: float) -> bool:
    """Answer when every key term is in the passages and the match is not noise, or when
    the match is strong and at most one key term of several is missing (paraphrase)."""
    if coverage.top_score < 0.05:
        return False
    if not coverage.terms:
        return coverage.top_score >= min_relevance + 0.2
    if not coverage.missing:
        return True
    return (
        coverage.top_score >= min_relevance + 0.25
        and len(coverage.missing) == 1
        and len(coverage.terms) >= 3
    )
