"""Do the retrieved passages answer the question, or only come near it?

The evidence for "covered" comes from one passage (or one article's passages), never from
words pooled across passages of different articles. A handful of features describe it
(``Evidence``); a logistic regression fitted on labelled eval cases by
``python -m eval calibrate`` (scikit-learn) weighs them into one probability, compared
with the fitted threshold. The fit is a JSON file stored with the index (``Calibration``);
the one shipped in this package was fitted on the fixture blog's dev set and says so.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.glossary import Glossary
from assistant.text import STOP_WORDS, ZIPF_CEILING, stem, weighted_terms, words
from assistant.types import Passage

SHIPPED_CALIBRATION = Path(__file__).resolve().parent / "calibration.json"
CALIBRATION_FILE = "calibration.json"  # beside the index, in the data folder
LONG_QUESTION_WORDS = 30  # a question this many words long has length 1.0 (the feature)

# Asking about a quantity: the answer needs a number (English question forms, no topic).
_QUANTITY = re.compile(
    r"\bhow (many|often|long|much|far|fast|slow|slowly|quickly|high|deep|hard|heavy|big|"
    r"frequently|soon)\b|\bwhat (number|percentage|amount)\b"
    r"|\b(times|sets|reps|minutes|seconds|hours|days) (a|per|each) (day|week|session|side)\b",
    re.I,
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"thirty|forty|fifty|sixty|ninety|hundred|once|twice|daily|weekly|half|dozen)\b",
    re.I,
)


# The thing a "which/what X" question asks for (English question forms, no topic):
# "which brand of shoe" asks for a brand, "what kind of pillow" for a pillow.
_ASKED_FOR = re.compile(
    r"\b(?:which|what)(?:'s|s|\s+is|\s+are)?\s+(?:(?:the|a|an|your)\s+)?"
    r"(?:(?:best|right|good|ideal|top|main|safest)\s+)?"
    r"(?:(?:kind|kinds|type|types|sort|sorts)\s+of\s+)?([a-z][a-z'-]+)",
    re.I,
)


# The thing a "what should I VERB" question asks about (English question forms, no topic):
# "what should I eat" asks about eating, "what can I wear" about wearing.
_ASKED_ACTION = re.compile(
    r"\bwhat\s+(?:should|can|could|must|shall)\s+(?:i|we)\s+([a-z][a-z'-]+)", re.I
)


def asked_for(question: str) -> str | None:
    """The stem of the noun a which/what question asks for, or of the verb a "what should
    I ..." question asks about, when it names one (not "what should I do")."""
    for form in (_ASKED_ACTION, _ASKED_FOR):
        m = form.search(question)
        if m and m.group(1).lower() not in STOP_WORDS:
            return stem(m.group(1).lower())
    return None


def asks_quantity(question: str) -> bool:
    return bool(_QUANTITY.search(question))


def has_number(text: str) -> bool:
    return bool(_NUMBER.search(text))


@dataclass(frozen=True)
class Evidence:
    """How well the single best passage (or article) holds what the question asks."""

    top_cosine: float  # best question-passage cosine among the retrieved passages
    best_share: float  # of the question's terms, weighted by specificity: share one passage holds
    best_cosine: float  # cosine of that passage
    article_share: float  # the same share for the best article's retrieved passages together
    missing_specificity: float  # the most specific term the best passage lacks, 0-1
    margin: float  # top cosine minus the second-best passage's
    quantity_unanswered: float  # 1 when it asks how many/long/often and no top passage has a number
    unknown_specificity: float = 0.0  # the most specific term no indexed passage uses, 0-1
    unknown_share: float = 0.0  # share of the question's weight in terms no passage uses
    asked_missing: float = 0.0  # 1 when the thing a which/what question asks for is not there
    # the best question-line cosine in the top three passages: holds when the reader's words
    # are not the author's, where the shares above fall (docs/eval.md, round of blogs 7-8)
    best_line_cosine: float = 0.0
    # the question's words / LONG_QUESTION_WORDS, at most 2: in a long message, telling its
    # story, the shares above fall with every word of context (docs/eval.md, blogs 6-8 fitted)
    length: float = 0.0
    best_index: int = 0  # which passage holds the best share (not a feature)
    terms: tuple[str, ...] = field(default=(), compare=False)
    missing: tuple[str, ...] = field(default=(), compare=False)

    FEATURES = (
        "top_cosine",
        "best_share",
        "best_cosine",
        "article_share",
        "missing_specificity",
        "margin",
        "quantity_unanswered",
        "unknown_share",
        "asked_missing",
        "best_line_cosine",
        "length",
    )

    def vector(self) -> list[float]:
        return [float(getattr(self, name)) for name in self.FEATURES]

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k in self.FEATURES}


def passage_stems(p: Passage) -> set[str]:
    return {stem(w) for w in words(f"{p.title} {p.section} {p.text}")}


def _held(term: str, held: set[str], alternatives: dict[str, set[str]]) -> bool:
    """The term, a glossary word it stands for, or a compound holding it ("back" in
    "backache", "press" in "compress") is among the passage's stems."""
    if term in held or alternatives.get(term, set()) & held:
        return True
    return len(term) >= 4 and any(term in s or (len(s) >= 5 and s in term) for s in held)


def _share(weights: dict[str, float], present: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total else 0.0


def assess(
    question: str,
    passages: list[Passage],
    glossary: Glossary | None = None,
    index_stems: frozenset[str] | None = None,
    line_cosine: float = 0.0,
) -> Evidence:
    """The evidence the ``passages`` give for answering ``question`` (already rewritten
    for typos); ``index_stems``: every stem the index holds; ``line_cosine``: the best
    question-line cosine of the top passages (``answer.best_line_cosine``)."""
    glossary = glossary or Glossary()
    weights = weighted_terms(question)
    # a term at specificity 0 still counts a little, so "back" in "back pain" is not nothing
    weights = {t: 0.25 + w for t, w in weights.items()}
    alternatives = glossary.alternatives(question)
    cosines = [p.score for p in passages]
    top = max(cosines, default=0.0)
    second = sorted(cosines, reverse=True)[1] if len(cosines) > 1 else 0.0
    held_by: list[set[str]] = []
    for p in passages:
        stems_ = passage_stems(p)
        held_by.append({t for t in weights if _held(t, stems_, alternatives)})
    shares = [_share(weights, h) for h in held_by]
    best = max(range(len(passages)), key=lambda i: (shares[i], cosines[i]), default=0)
    by_article: dict[str, set[str]] = {}
    for p, h in zip(passages, held_by, strict=True):
        by_article.setdefault(p.article, set()).update(h)
    article_share = max((_share(weights, h) for h in by_article.values()), default=0.0)
    missing = tuple(t for t in weights if not passages or t not in held_by[best])
    missing_spec = max((weights[t] - 0.25 for t in missing), default=0.0) / ZIPF_CEILING
    quantity = asks_quantity(question) and not any(has_number(p.text) for p in passages[:3])
    unknown: list[str] = []
    if index_stems is not None:
        unknown = [
            t
            for t in weights
            if t not in index_stems and not alternatives.get(t, set()) & index_stems
        ]
    head = asked_for(question)
    asked_missing = bool(
        head and passages and not _held(head, passage_stems(passages[best]), alternatives)
    )
    return Evidence(
        asked_missing=1.0 if asked_missing else 0.0,
        best_line_cosine=line_cosine,
        length=min(len(words(question)) / LONG_QUESTION_WORDS, 2.0),
        top_cosine=top,
        best_share=shares[best] if passages else 0.0,
        best_cosine=cosines[best] if passages else 0.0,
        article_share=article_share,
        missing_specificity=missing_spec,
        margin=top - second,
        quantity_unanswered=1.0 if quantity else 0.0,
        unknown_specificity=max((weights[t] - 0.25 for t in unknown), default=0.0) / ZIPF_CEILING,
        unknown_share=sum(weights[t] for t in unknown) / sum(weights.values()) if weights else 0.0,
        best_index=best,
        terms=tuple(weights),
        missing=missing,
    )


@dataclass(frozen=True)
class Calibration:
    """A fitted decision: P(covered) = sigmoid(coef . features + intercept) >= threshold."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    hybrid_dense_weight: float | None = None
    fit: dict[str, Any] = field(default_factory=dict)  # figures of the fit, for the record
    source: str = ""

    def probability(self, evidence: Evidence) -> float:
        values = dict(zip(Evidence.FEATURES, evidence.vector(), strict=True))
        z = self.intercept + sum(
            c * values[f] for f, c in zip(self.features, self.coef, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def covered(self, evidence: Evidence) -> bool:
        return self.probability(evidence) >= self.threshold

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("source")
        return json.dumps(data, indent=2)

    @classmethod
    def read(cls, path: Path) -> Calibration:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            features=tuple(data["features"]),
            coef=tuple(float(c) for c in data["coef"]),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            hybrid_dense_weight=data.get("hybrid_dense_weight"),
            fit=dict(data.get("fit") or {}),
            source=str(path),
        )


def load_calibration(data_dir: Path, override: Path | None = None) -> Calibration:
    """The fit stored with the index (``data_dir/calibration.json``), else the shipped one."""
    for path in (override, data_dir / CALIBRATION_FILE, SHIPPED_CALIBRATION):
        if path is not None and path.is_file():
            try:
                return Calibration.read(path)
            except (OSError, ValueError, KeyError, TypeError):
                continue
    return UNFITTED


# Before any fit: covered when one passage holds most of the question's specific words.
UNFITTED = Calibration(
    features=("best_share", "quantity_unanswered"),
    coef=(10.0, -10.0),
    intercept=-6.0,
    threshold=0.5,
    source="unfitted default",
)
