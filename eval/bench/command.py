"""python -m eval bench [--quick] [--json OUT.json]

Every cost against its floor or baseline, side by side, in one process and one run:
question time (eval.bench.queries), ingest and scale (eval.bench.indexing), start-up
(eval.bench.start). Prints a Markdown table; ``--json`` writes every figure. Uses temporary
data folders only; never the app's own index.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Plan:
    rounds: int  # timed passes over the reader questions
    ingest_passages: int  # at least this many passages embedded for the ingest rate
    scale: tuple[int, ...]
    cold_starts: int  # 0 leaves the start-up figures out
    questions: int = 30  # how many of the reader questions


FULL = Plan(rounds=5, ingest_passages=600, scale=(1_000, 10_000, 100_000), cold_starts=3)
QUICK = Plan(rounds=2, ingest_passages=120, scale=(1_000, 10_000), cold_starts=1)
# Checks that the bench works, in seconds; its figures mean nothing.
SMOKE = Plan(rounds=1, ingest_passages=20, scale=(300,), cold_starts=0, questions=5)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m eval bench",
        description="Measure question time, ingest, scale and start-up against their floors "
        "and baselines, in one run, on temporary indexes.",
    )
    p.add_argument(
        "--quick", action="store_true", help="fewer repetitions, scale up to 10k (under 3 min)"
    )
    p.add_argument(
        "--smoke",
        action="store_true",
        help="a tiny run that checks the bench works (no cold start; figures mean nothing)",
    )
    p.add_argument("--json", metavar="OUT.json", type=Path, help="write every figure as JSON")
    p.add_argument(
        "--corpus", metavar="DIR", type=Path, default=REPO / "corpus", help="articles to index"
    )
    p.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="instead of timing, write pyinstrument profiles of warm ask, ingest and start-up",
    )
    p.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["ingest", "scale", "start"],
        help="leave a stage out (repeatable; its figures are null)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    from eval.bench.app_process import OFFLINE_ENV
    from eval.bench.report import table

    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
    args = parser().parse_args(argv)
    if not args.corpus.is_dir():
        print(f"error: {args.corpus}: no such folder", file=sys.stderr)
        return 2
    if args.json and not args.json.parent.is_dir():
        print(f"error: {args.json.parent}: no such folder for the JSON report", file=sys.stderr)
        return 2
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="supple-profile-") as tmp:
            for path in run_profiles(args.corpus.resolve(), Path(tmp), args.profile):
                print(f"wrote {path}")
        return 0
    plan = SMOKE if args.smoke else QUICK if args.quick else FULL
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    try:
        with tempfile.TemporaryDirectory(prefix="supple-bench-") as tmp:
            report = run_bench(args.corpus.resolve(), Path(tmp), plan, set(args.skip), mode)
    except ImportError as error:  # a dev-only baseline (langchain-chroma, pyinstrument)
        print(f"error: {error.name} is not installed: pip install -e '.[dev]'", file=sys.stderr)
        return 2
    print(table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


_last = [time.perf_counter()]


def _say(message: str) -> None:
    now = time.perf_counter()
    print(f"bench: (+{now - _last[0]:.1f} s) {message}", file=sys.stderr, flush=True)
    _last[0] = now


def run_bench(corpus: Path, tmp: Path, plan: Plan, skip: set[str], mode: str) -> dict[str, Any]:
    from assistant.settings import Settings
    from eval.bench.indexing import measure_ingest
    from eval.bench.queries import measure_queries
    from eval.bench.questions import READER_QUESTIONS
    from eval.bench.scale import measure_scale
    from eval.bench.start import measure_start
    from eval.bench.timing import load_average, machine, peak_rss_mb, rss_mb
    from ingest.embed import Embedder
    from ingest.run import run_ingest

    began = time.perf_counter()
    load_before = load_average()
    settings = Settings(
        data_dir=tmp / "data", corpus_dir=corpus, chroma_host=None, backend="extractive"
    )
    _say("loading the model")
    embedder = Embedder()
    embedder.warm_up()
    _say("indexing the corpus")
    built = run_ingest(settings, embedder=embedder)
    _say(f"indexed {built.chunks} chunks of {built.articles} articles; timing questions")
    questions = READER_QUESTIONS[: plan.questions]
    q = measure_queries(settings, embedder, questions, rounds=plan.rounds)
    rss_after_ask = rss_mb()

    ingest = None
    if "ingest" not in skip:
        _say("timing ingest against raw encode")
        ingest_settings = settings.model_copy(update={"data_dir": tmp / "ingest"})
        ingest = measure_ingest(ingest_settings, embedder, plan.ingest_passages)
    start = None
    if "start" not in skip and plan.cold_starts:
        _say("timing cold starts of python app.py")
        start = measure_start(settings.data_dir, corpus, plan.cold_starts, questions[0])
    scale = []
    if "scale" not in skip:
        _say(f"timing retrieval at {', '.join(f'{n:,}' for n in plan.scale)} chunks")
        scale = measure_scale(
            settings.model_copy(update={"data_dir": tmp / "scale"}),
            embedder,
            questions,
            list(plan.scale),
            rounds=plan.rounds,
        )

    _say("done")
    floor = q.floor_p50_ms
    report: dict[str, Any] = {
        "ask_p50_ms": round(q.ask.p50_ms, 3),
        "ask_p95_ms": round(q.ask.p95_ms, 3),
        "floor_p50_ms": round(floor, 3),
        "ask_to_floor_ratio": round(q.ask.p50_ms / floor, 3),
        "encode_per_s": ingest and round(ingest.encode_per_s, 2),
        "ingest_per_s": ingest and round(ingest.ingest_per_s, 2),
        "ingest_to_encode_ratio": ingest and round(ingest.ratio, 3),
        "reingest_embedded": ingest and ingest.reingest_embedded,
        "reingest_s": ingest and round(ingest.reingest_s, 3),
        "cold_start_s": start and round(start.cold_start_s, 3),
        "rss_mb": round(peak_rss_mb(), 1),
        "scale": [point.to_dict() for point in scale],
        "embed_p50_ms": round(q.embed.p50_ms, 3),
        "embed_1_thread_p50_ms": round(q.embed_1_thread.p50_ms, 3),
        "search_p50_ms": round(q.search.p50_ms, 3),
        "langchain_p50_ms": round(q.langchain.p50_ms, 3),
        "bm25_p50_ms": round(q.bm25.p50_ms, 3),
        "ask_first_p50_ms": round(q.ask_first.p50_ms, 3),
        "import_app_s": start and round(start.import_app_s, 3),
        "first_answer_s": start and round(start.cold_start_s, 3),  # cold_start_s's old name
        "health_s": start and round(start.health_s, 3),
        "rss_after_ask_mb": round(rss_after_ask, 1),
        "questions": len(questions),
        "index_chunks": built.chunks,
        "retriever": settings.retriever,
        "corpus": str(corpus),
        "queries": q.to_dict(),
        "ingest": ingest and ingest.to_dict(),
        "start": start and start.to_dict(),
        "mode": mode,
        "machine": {**machine(), "load_before": load_before, "load_after": load_average()},
        "seconds": 0.0,
        "command": "python -m eval bench"
        + ("" if mode == "full" else f" --{mode}")
        + ("" if corpus == REPO / "corpus" else f" --corpus {corpus}"),
    }
    from eval.bench.report import evaluate_targets

    report["targets"] = evaluate_targets(report)
    report["targets_met"] = all(t["met"] is not False for t in report["targets"])
    report["seconds"] = round(time.perf_counter() - began, 1)
    return report


def run_profiles(corpus: Path, tmp: Path, out: Path) -> list[Path]:
    from assistant.settings import Settings
    from eval.bench.profiles import profile_all
    from eval.bench.questions import READER_QUESTIONS
    from ingest.embed import Embedder
    from ingest.run import run_ingest

    settings = Settings(
        data_dir=tmp / "data", corpus_dir=corpus, chroma_host=None, backend="extractive"
    )
    embedder = Embedder()
    run_ingest(settings, embedder=embedder)
    return profile_all(settings, embedder, READER_QUESTIONS, out, tmp)
