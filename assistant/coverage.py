"""Do the retrieved passages answer the question, or only come near it?

One top-1 similarity cannot tell: "do weak glutes cause knee pain?" scores higher against
the article (cosine 0.61) than "what are clamshells good for?" (0.04), yet only the second
is answered there. So the decision asks which of the question's key terms the passages
actually contain, and whether a term they lack is the point of the question ("knee") or
incidental to it ("really", "switch on"). Thresholds and how they were measured:
docs/retrieval.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.text import Vocabulary, everyday_words, key_terms, stem, stems
from assistant.types import Passage
from ingest.embed import Embedder

# Removing an incidental word leaves the question's embedding at least this similar to the
# whole question; removing its topic does not. Measured on 60 missing terms: topics
# ("knee", "diet", "reps", "week" in "twice a week") 0.62-0.945, incidental words
# ("really", "take over", "messed up") 0.95-0.99. See docs/retrieval.md.
INCIDENTAL_SIMILARITY = 0.95
# An everyday word ("sometimes", "around", "build up", "end up") is incidental from a lower
# similarity: removing one leaves 0.884-0.945, while removing a topic word of the same band
# is a rarer word ("shoes" 0.91, "knee" 0.86). Measured on eval/sets/heldout2.yaml.
EVERYDAY_INCIDENTAL_SIMILARITY = 0.88

# A question about a quantity needs a number in the passage that answers it.
_QUANTITY_QUESTION = re.compile(
    r"\bhow (many|often|long|far|frequently)\b|\bhow much (weight|time|load|rest)\b"
    r"|\b(times|sets|reps|minutes|seconds|hours)"
    r" (a|per) (day|week)\b",
    re.I,
)
_NUMBER = re.compile(
    r"\d|\b(two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|"
    r"once|twice|daily|weekly)\b",
    re.I,
)


@dataclass(frozen=True)
class Coverage:
    terms: tuple[str, ...]  # the question's key terms, typos corrected
    covered: tuple[str, ...]  # those found in the passages
    top_score: float  # best cosine similarity of question and passage
    incidental: tuple[str, ...] = ()  # missing terms the question's meaning does not hang on
    quantity_unanswered: bool = False  # asks how many/often/long; no passage has a number

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(t for t in self.terms if t not in self.covered)

    @property
    def unanswered(self) -> tuple[str, ...]:
        """Missing terms that are the point of the question."""
        return tuple(t for t in self.missing if t not in self.incidental)

    @property
    def ratio(self) -> float:
        return len(self.covered) / len(self.terms) if self.terms else 0.0


def _found(term: str, passage_stems: set[str]) -> bool:
    """The term, or a longer word containing it ("press" in "compress"), or a word it
    contains ("back" in "backache"), is in the passages."""
    if term in passage_stems:
        return True
    return len(term) >= 4 and any(term in s or (len(s) >= 5 and s in term) for s in passage_stems)


def _incidental(
    question: str,
    missing: tuple[str, ...],
    embedder: Embedder | None,
    question_vector: list[float] | None = None,
) -> tuple[str, ...]:
    """Missing terms whose removal leaves the question meaning nearly the same."""
    if embedder is None or not missing:
        return ()
    tokens = re.findall(r"[a-z0-9']+", question.lower())
    variants = [" ".join(w for w in tokens if stem(w) != term) for term in missing]
    if question_vector is None:
        question_vector = embedder.embed_query(question)
    similarity = embedder.encode(variants) @ np.asarray(question_vector, dtype=np.float32)
    everyday = everyday_words()
    return tuple(
        t
        for t, s in zip(missing, np.atleast_1d(similarity), strict=True)
        if s >= INCIDENTAL_SIMILARITY
        or (
            s >= EVERYDAY_INCIDENTAL_SIMILARITY
            and all(w in everyday for w in tokens if stem(w) == t)
        )
    )


def assess(
    question: str,
    passages: list[Passage],
    vocabulary: Vocabulary,
    top_score: float,
    embedder: Embedder | None = None,
    query_vector: list[float] | None = None,
) -> Coverage:
    """Which key terms of ``question`` the passages hold; with an ``embedder``, which of
    the missing ones are incidental (``query_vector``: the question's, when already made)."""
    question = vocabulary.rewrite(question)
    terms = tuple(dict.fromkeys(key_terms(question)))
    found: set[str] = set()
    for p in passages:
        found.update(stems(f"{p.title} {p.section} {p.text}"))
    covered = tuple(t for t in terms if _found(t, found))
    missing = tuple(t for t in terms if t not in covered)
    quantity = bool(_QUANTITY_QUESTION.search(question)) and not any(
        _NUMBER.search(p.text) for p in passages[:3]
    )
    incidental = _incidental(question, missing, embedder, query_vector)
    return Coverage(terms, covered, top_score, incidental, quantity)


def is_covered(coverage: Coverage, min_relevance: float) -> bool:
    """Answer when no key term the question hangs on is missing from the passages, the
    question does not ask for a number they lack, and the best passage is at least
    ``min_relevance`` similar. With no key term at all ("what should I do?") a clearly
    relevant passage is needed (``min_relevance + 0.3``)."""
    if coverage.quantity_unanswered:
        return False
    if not coverage.terms:
        return coverage.top_score >= min_relevance + 0.3
    if not coverage.covered:
        return False
    return not coverage.unanswered and coverage.top_score >= min_relevance
