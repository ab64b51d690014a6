"""Measure retrieval and the coverage decision on readers' wording, per retriever.

    .venv/bin/python -m tests.assistant.measure_retrieval [--verbose]

Builds a throw-away index of corpus/ and answers tests/assistant/reader_questions.yaml with
each retriever. Prints hit@1, hit@k and MRR (eval-format.md definitions), the share of
replies of the expected kind, false refusals (answerable, replied not_covered) and false
answers (not covered, replied with an answer). test_retrieve.py holds the floors.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.followup import search_query
from assistant.pipeline import Assistant
from assistant.retrieve import RETRIEVERS, make_retriever
from assistant.types import Answer, Kind, Turn

CASES = Path(__file__).with_name("reader_questions.yaml")


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    expect: str
    evidence: tuple[str, ...]
    history: tuple[dict[str, str], ...] = ()


def load_cases(path: Path = CASES) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Case(
            c["id"],
            c["question"],
            c.get("expect", "answer"),
            tuple(c.get("evidence") or ()),
            tuple(c.get("history") or ()),
        )
        for c in data["cases"]
    ]


def hit_rank(answer: Answer, evidence: tuple[str, ...]) -> int | None:
    phrases = [norm(e) for e in evidence]
    for p in answer.passages:
        if any(ph in norm(p.text) for ph in phrases):
            return p.rank
    return None


@dataclass
class Report:
    retriever: str
    k: int
    ranks: dict[str, int | None] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    expected: dict[str, str] = field(default_factory=dict)

    def _share(self, hits: list[bool]) -> float:
        return sum(hits) / len(hits) if hits else 0.0

    @property
    def hit_at_1(self) -> float:
        return self._share([r == 1 for r in self.ranks.values()])

    @property
    def hit_at_k(self) -> float:
        return self._share([r is not None for r in self.ranks.values()])

    @property
    def mrr(self) -> float:
        return (
            self._share([])
            if not self.ranks
            else (sum(1 / r for r in self.ranks.values() if r) / len(self.ranks))
        )

    @property
    def expect_accuracy(self) -> float:
        return self._share([self.kinds[i] == e for i, e in self.expected.items()])

    @property
    def false_refusals(self) -> list[str]:
        return [
            i for i, e in self.expected.items() if e == "answer" and self.kinds[i] == "not_covered"
        ]

    @property
    def false_answers(self) -> list[str]:
        return [
            i for i, e in self.expected.items() if e == "not_covered" and self.kinds[i] == "answer"
        ]

    @property
    def misses(self) -> list[str]:
        return [i for i, r in self.ranks.items() if r is None]

    def line(self) -> str:
        return (
            f"{self.retriever:7s} hit@1 {self.hit_at_1:.3f}  hit@{self.k} {self.hit_at_k:.3f}  "
            f"MRR {self.mrr:.3f}  kind {self.expect_accuracy:.3f}  "
            f"false refusals {len(self.false_refusals)}/"
            f"{sum(e == 'answer' for e in self.expected.values())}  false answers "
            f"{len(self.false_answers)}/{sum(e == 'not_covered' for e in self.expected.values())}"
        )


def measure(assistant: Assistant, retriever: str, cases: list[Case]) -> Report:
    settings = assistant.settings
    assistant.retriever = make_retriever(retriever, settings, assistant.embedder)
    report = Report(retriever, settings.k)
    for case in cases:
        answer = assistant.ask(case.question, list(case.history))
        report.kinds[case.id] = str(answer.kind)
        report.expected[case.id] = case.expect
        if case.evidence:
            report.ranks[case.id] = hit_rank(answer, case.evidence)
    return report


_VECTORS: dict[str, list[float]] = {}


def retrieval_report(assistant: Assistant, retriever: str, cases: list[Case]) -> Report:
    """Ranks only (no answer): the query formed as ``Assistant.ask`` forms it."""
    settings = assistant.settings
    chosen = make_retriever(retriever, settings, assistant.embedder)
    report = Report(retriever, settings.k)
    for case in cases:
        if not case.evidence:
            continue
        history = [Turn(t["role"], t["content"]) for t in case.history]
        query = assistant.retriever.vocabulary().rewrite(search_query(case.question, history))
        if query not in _VECTORS:  # the same question for every retriever: embed it once
            _VECTORS[query] = assistant.embedder.embed_query(query)
        passages = chosen.retrieve(query, settings.k, query_vector=_VECTORS[query])
        answer = Answer(Kind.ANSWER, "", "", passages=passages)
        report.ranks[case.id] = hit_rank(answer, case.evidence)
    return report


def main() -> None:
    from tests.conftest import make_settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--set", type=Path, default=CASES, help="an eval-format YAML set")
    args = parser.parse_args()
    from ingest.embed import Embedder
    from ingest.run import run_ingest

    cases = load_cases(args.set)
    with tempfile.TemporaryDirectory() as tmp:
        embedder = Embedder()
        settings = make_settings(Path(tmp))
        run_ingest(settings, embedder=embedder)
        assistant = Assistant(settings, embedder=embedder)
        reports = {name: measure(assistant, name, cases) for name in RETRIEVERS}
        for report in reports.values():
            print(report.line())
            if args.verbose:
                print("  missed:", report.misses)
                print("  false refusals:", report.false_refusals)
                print("  false answers:", report.false_answers)
        if args.verbose:
            for case_id in reports["hybrid"].ranks:
                others = {n: r.ranks[case_id] for n, r in reports.items()}
                if len(set(others.values())) > 1:
                    print(f"  rank differs: {case_id}: {others}")


if __name__ == "__main__":
    main()
