"""python -m eval run SET.yaml [--json OUT] [--html OUT] [--k 5] [--backend NAME]
[--fail-under RATE] [--retriever NAME] [--compare] [--corpus DIR]

Answers every case with the app's ``Assistant`` on the index of ``corpus/`` (or of the
set's ``corpus:`` folder, or ``--corpus DIR``; built or refreshed first when missing or
stale), scores it (eval/metrics.py), prints a summary and
writes the reports. Exit 0 when the run completed, 1 under ``--fail-under``, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from assistant.errors import SuppleError
from assistant.pipeline import Assistant
from assistant.settings import Settings
from eval.corpora import ensure_index, for_corpus
from eval.metrics import (
    METRIC_NAMES,
    CaseResult,
    Comparison,
    RunReport,
    Unavailable,
    error_result,
    score_case,
)
from eval.sets import EvalSet, load_set
from ingest.embed import Embedder

BASELINES = ("dense", "bm25")


class UsageError(SuppleError):
    """A bad command-line value (exit 2)."""


def rate_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number from 0 to 1") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not a number from 0 to 1")
    return value


def _depth(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 50:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number from 1 to 50")
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m eval run", description="Run an eval set against the assistant."
    )
    p.add_argument("set", type=Path, metavar="SET.yaml", help="the eval set to run")
    p.add_argument("--json", type=Path, metavar="OUT.json", help="write the JSON report here")
    p.add_argument("--html", type=Path, metavar="OUT.html", help="write the HTML report here")
    p.add_argument("--k", type=_depth, help="retrieval depth for hit@k and MRR (default: set's k)")
    p.add_argument("--backend", help="answer backend: 'extractive' or a chat model spec")
    p.add_argument("--retriever", help="retriever to score (default: the app's, SUPPLE_RETRIEVER)")
    p.add_argument(
        "--corpus",
        type=Path,
        metavar="DIR",
        help="the folder of articles to answer from (default: the set's `corpus:`, else corpus/)",
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help=f"also run the baselines ({', '.join(BASELINES)}) and show them side by side",
    )
    p.add_argument(
        "--fail-under",
        type=rate_arg,
        metavar="RATE",
        help="exit 1 when pass_rate is below RATE (0 to 1)",
    )
    return p


def run_set(eval_set: EvalSet, assistant: Assistant, k: int, retriever: str) -> RunReport:
    """Answer every case (after one unscored warm-up question) and score it."""
    started = time.perf_counter()
    assistant.warm_up()
    results: list[CaseResult] = []
    for case in eval_set.cases:
        asked = time.perf_counter()
        try:
            answer = assistant.ask(case.question, list(case.history))
        except SuppleError as error:
            results.append(error_result(case, str(error)))
            continue
        answer.latency_ms = (time.perf_counter() - asked) * 1000
        results.append(score_case(case, answer, k))
    return RunReport(
        set_name=eval_set.name,
        backend=assistant.answerer.name,
        retriever=retriever,
        k=k,
        results=results,
        description=eval_set.description,
        seconds=time.perf_counter() - started,
    )


def run_with(
    eval_set: EvalSet, settings: Settings, embedder: Embedder, k: int, retriever: str
) -> RunReport:
    scoped = settings.model_copy(update={"k": k, "retriever": retriever})
    return run_set(eval_set, Assistant(scoped, embedder=embedder), k, retriever)


def _fmt(value: float | None, name: str) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if name.startswith("latency") else f"{value:.3f}"


def summary(report: RunReport, comparison: Comparison | None = None) -> str:
    """The printed summary: the metrics (side by side under --compare), then the failures."""
    lines = [
        f"{report.set_name}: {len(report.results)} cases · backend {report.backend} · "
        f"retriever {report.retriever} · k {report.k} · {report.seconds:.1f} s"
    ]
    runs = comparison or [report]
    names = [r.retriever for r in runs]
    lines.append(f"  {'metric':<22}" + "".join(f"{n:>10}" for n in names))
    for metric in METRIC_NAMES:
        cells = [
            _fmt(r.metrics[metric], metric) if isinstance(r, RunReport) else "n/a" for r in runs
        ]
        lines.append(f"  {metric:<22}" + "".join(f"{c:>10}" for c in cells))
    for run in runs:
        if isinstance(run, Unavailable):
            lines.append(f"  {run.retriever}: not available: {run.reason}")
    failed = report.failed
    lines.append(f"failed: {len(failed)} of {len(report.results)}")
    for r in failed:
        lines.append(f"  FAIL {r.case.id}: {'; '.join(r.failures)}")
    return "\n".join(lines)


def write_reports(
    report: RunReport, comparison: Comparison | None, json_out: Path | None, html_out: Path | None
) -> None:
    data = report.to_dict()
    if comparison is not None:
        data["compare"] = [run.brief() for run in comparison]
    try:
        if json_out:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        if html_out:
            from eval.report import render_html

            html_out.parent.mkdir(parents=True, exist_ok=True)
            html_out.write_text(render_html(report, comparison), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc}") from exc


def main(argv: list[str], settings: Settings) -> int:
    """The CLI, handed the settings ``python -m eval`` read from the environment."""
    args = parser().parse_args(argv)
    try:
        eval_set = load_set(args.set)
        if args.backend:
            settings = settings.model_copy(update={"backend": args.backend})
        k = args.k or eval_set.k
        settings = for_corpus(settings, args.corpus or eval_set.corpus_dir())
        primary = args.retriever or settings.retriever
        embedder = Embedder()
        ensure_index(settings, embedder)
        report = run_with(eval_set, settings, embedder, k, primary)
        comparison: Comparison | None = None
        if args.compare:
            comparison = [report]
            for name in BASELINES:
                if name == primary:
                    continue
                try:
                    comparison.append(run_with(eval_set, settings, embedder, k, name))
                except SuppleError as error:
                    comparison.append(Unavailable(name, str(error)))
        print(summary(report, comparison))
        write_reports(report, comparison, args.json, args.html)
    except SuppleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    pass_rate = report.metrics["pass_rate"] or 0.0
    if args.fail_under is not None and pass_rate < args.fail_under:
        print(f"pass_rate {pass_rate:.3f} is below --fail-under {args.fail_under}", file=sys.stderr)
        return 1
    return 0
