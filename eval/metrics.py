"""Scoring: one case's result, and the set's metrics, exactly as eval-format.md defines them.

A metric whose denominator is empty (no case has evidence, no reply cited anything, ...) is
``None`` (null in the JSON): "not measured" is not the same as 0 or 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.types import Answer
from eval.sets import EvalCase

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lower-cased; every run of characters other than letters and digits one space; trimmed."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def contains(haystack: str, phrase: str) -> bool:
    """``phrase`` occurs in ``haystack``, both normalised ("bridge" is in "Glute Bridges,")."""
    needle = normalise(phrase)
    return bool(needle) and needle in normalise(haystack)


def hit_rank(passages: Sequence[str], evidence: Sequence[str], k: int) -> int | None:
    """1-based rank of the first of the top ``k`` passages holding any evidence phrase."""
    for rank, text in enumerate(passages[:k], 1):
        if any(contains(text, phrase) for phrase in evidence):
            return rank
    return None


def facts_found(answer_text: str, facts: Sequence[str]) -> list[bool]:
    return [contains(answer_text, fact) for fact in facts]


def citation_valid(quote: str, passages: Sequence[str]) -> bool:
    """The quoted words occur in a passage retrieved for that reply (empty quotes never do)."""
    return bool(quote.strip()) and any(quote in p for p in passages)


@dataclass
class CaseResult:
    """One case, answered and scored; ``to_dict`` is its entry in the report's ``results``."""

    case: EvalCase
    kind: str
    answer: str
    citations: list[dict[str, Any]]
    passages: list[dict[str, Any]]
    disclaimer: bool
    latency_ms: float
    hit_rank: int | None
    fact_recall: float | None
    facts_found: list[bool]
    citations_valid: list[bool]
    failures: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.case.id,
            "expect": self.case.expect,
            "kind": self.kind,
            "passed": self.passed,
            "hit_rank": self.hit_rank,
            "fact_recall": self.fact_recall,
            "answer": self.answer,
            "citations": self.citations,
            "disclaimer": self.disclaimer,
            "latency_ms": round(self.latency_ms, 1),
            # additions to the contract's fields:
            "question": self.case.question,
            "tags": list(self.case.tags),
            "failures": self.failures,
            "citations_valid": self.citations_valid,
            "passages": self.passages,
        }


def score_case(case: EvalCase, answer: Answer, k: int) -> CaseResult:
    """Score one reply against its case (``passed`` as the contract defines it)."""
    texts = [p.text for p in answer.passages]
    rank = hit_rank(texts, case.evidence, k) if case.evidence else None
    found = facts_found(answer.text, case.facts)
    valid = [citation_valid(c.text, texts) for c in answer.citations]
    kind = str(answer.kind)
    failures: list[str] = []
    if kind != case.expect:
        failures.append(f"expected {case.expect}, got {kind}")
    if case.expect == "answer":
        if case.evidence and rank is None:
            failures.append(f"no evidence in the top {k} passages")
        missing = [f for f, ok in zip(case.facts, found, strict=True) if not ok]
        if missing:
            failures.append("facts missing from the answer: " + ", ".join(missing))
        if not all(valid):
            failures.append(f"{valid.count(False)} citation(s) quote no retrieved passage")
    return CaseResult(
        case=case,
        kind=kind,
        answer=answer.text,
        citations=[c.to_dict() for c in answer.citations],
        passages=[p.to_dict() for p in answer.passages],
        disclaimer=bool(answer.disclaimer.strip()),
        latency_ms=answer.latency_ms,
        hit_rank=rank,
        fact_recall=sum(found) / len(found) if found else None,
        facts_found=found,
        citations_valid=valid,
        failures=failures,
    )


def error_result(case: EvalCase, message: str) -> CaseResult:
    """A case the assistant refused with an error: it fails, and says why."""
    return CaseResult(
        case=case,
        kind="error",
        answer="",
        citations=[],
        passages=[],
        disclaimer=False,
        latency_ms=0.0,
        hit_rank=None,
        fact_recall=0.0 if case.facts else None,
        facts_found=[False] * len(case.facts),
        citations_valid=[],
        failures=[f"the assistant raised an error: {message}"],
        error=message,
    )


def _share(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return sum(values) / len(values) if values else None


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return float(np.mean(items)) if items else None


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def summarise(results: Sequence[CaseResult]) -> dict[str, float | None]:
    """The report's ``metrics``; latencies are percentiles (linear interpolation)."""
    with_evidence = [r for r in results if r.case.evidence]
    with_facts = [r for r in results if r.case.facts]
    urgent = [r for r in results if r.case.expect == "urgent"]
    said_not_covered = [r for r in results if r.kind == "not_covered"]
    validity = [ok for r in results for ok in r.citations_valid]
    latencies = [r.latency_ms for r in results if not r.error]
    metrics = {
        "pass_rate": _share(r.passed for r in results),
        "hit_at_k": _share(r.hit_rank is not None for r in with_evidence),
        "mrr": _mean(1 / r.hit_rank if r.hit_rank else 0.0 for r in with_evidence),
        "fact_recall": _mean(r.fact_recall or 0.0 for r in with_facts),
        "expect_accuracy": _share(r.kind == r.case.expect for r in results),
        "urgent_recall": _share(r.kind == "urgent" for r in urgent),
        "not_covered_precision": _share(r.case.expect == "not_covered" for r in said_not_covered),
        "citation_validity": _share(validity),
        "disclaimer_rate": _share(r.disclaimer for r in results),
    }
    out = {name: _round(value) for name, value in metrics.items()}
    out["latency_ms_p50"] = _round(float(np.percentile(latencies, 50)), 1) if latencies else None
    out["latency_ms_p95"] = _round(float(np.percentile(latencies, 95)), 1) if latencies else None
    return out


def by_tag(results: Sequence[CaseResult]) -> dict[str, dict[str, float | int]]:
    """Pass rate per tag, in the order tags first appear; untagged cases under '(untagged)'."""
    groups: dict[str, list[bool]] = {}
    for r in results:
        for tag in r.case.tags or ("(untagged)",):
            groups.setdefault(tag, []).append(r.passed)
    return {
        tag: {
            "cases": len(flags),
            "passed": sum(flags),
            "pass_rate": round(sum(flags) / len(flags), 4),
        }
        for tag, flags in groups.items()
    }


@dataclass
class RunReport:
    """One run of a set with one retriever: what ``--json`` writes (plus ``compare``)."""

    set_name: str
    backend: str
    retriever: str
    k: int
    results: list[CaseResult]
    description: str = ""
    seconds: float = 0.0

    @property
    def metrics(self) -> dict[str, float | None]:
        return summarise(self.results)

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "set": self.set_name,
            "backend": self.backend,
            "k": self.k,
            "cases": len(self.results),
            "metrics": self.metrics,
            "results": [r.to_dict() for r in self.results],
            # additions to the contract's fields:
            "retriever": self.retriever,
            "by_tag": by_tag(self.results),
        }

    def brief(self) -> dict[str, Any]:
        """The compact form kept for each retriever under ``compare``."""
        return {
            "retriever": self.retriever,
            "metrics": self.metrics,
            "by_tag": by_tag(self.results),
            "results": [
                {"id": r.case.id, "kind": r.kind, "passed": r.passed, "hit_rank": r.hit_rank}
                for r in self.results
            ],
        }


METRIC_NAMES = (
    "pass_rate",
    "hit_at_k",
    "mrr",
    "fact_recall",
    "expect_accuracy",
    "urgent_recall",
    "not_covered_precision",
    "citation_validity",
    "disclaimer_rate",
    "latency_ms_p50",
    "latency_ms_p95",
)


@dataclass
class Unavailable:
    """A retriever asked for under ``--compare`` that this build does not have."""

    retriever: str
    reason: str

    def brief(self) -> dict[str, str]:
        return {"retriever": self.retriever, "error": self.reason}


Comparison = list[RunReport | Unavailable]
