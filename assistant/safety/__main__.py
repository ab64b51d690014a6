"""python -m assistant.safety calibrate [SET.yaml ...] [--write] [--json]
python -m assistant.safety measure SET.yaml [--json]
python -m assistant.safety vectors

Fits the semantic check's threshold and margin on a labelled set: the data file's example
wordings (red flags) and near-misses (everyday), scored leave-one-out (a wording is never its
own anchor), plus the cases of any eval or safety sets given (``expect: urgent`` or
``red_flag: true`` are red flags, the rest everyday). Recall first: the pair chosen lets the
semantic check alone catch the most red flags while it raises at most ``--max-false`` (1%)
of the everyday questions (the patterns were written on the same wordings, so their
figures on it are no measure; the held-out set is). Prints the figures docs/safety.md records;
``--write`` stores the pair in red_flags.yaml.

``measure`` runs the finished check (patterns, then the semantic check, as the assistant
does) on a safety set (``red_flags:`` and ``near_misses:``, lists of ``{category, text}``, as
tests/assistant/safety_heldout.yaml) or an eval set, and prints recall, the false-alarm rate,
both per category, and every miss and false alarm.

``vectors`` embeds the file's wordings and stores them in red_flags.vectors.npz beside it, so
the app does not embed them at start-up (``calibrate --write`` does it too). Run it after
editing red_flags.yaml; a test fails while the stored vectors are out of date.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from assistant.safety.rules import DATA_FILE, RedFlagDataError, RedFlags, load, sentences
from assistant.safety.semantic import (
    VECTORS_FILE,
    anchors,
    flagged,
    probe_texts,
    score,
    write_vectors,
)
from ingest.embed import Embedder

Labelled = list[tuple[str, bool, str]]  # text, is a red flag, category id or set name


def file_cases(flags: RedFlags) -> Labelled:
    """The data file's own wordings: examples are red flags, near-misses everyday."""
    cases: Labelled = []
    for c in flags.categories:
        cases += [(e, True, c.id) for e in c.examples]
        cases += [(n, False, c.id) for n in c.near_misses]
    return cases + [(n, False, "clinician") for n in flags.clinician.near_misses]


def set_cases(sets: list[Path]) -> Labelled:
    """Cases of safety sets (red_flags/near_misses) or eval sets (expect: urgent or not)."""
    cases: Labelled = []
    for path in sets:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, is_flag in (("red_flags", True), ("near_misses", False)):
            cases += [
                (str(c["text"]), is_flag, str(c.get("category", "-"))) for c in raw.get(key, [])
            ]
        for case in raw.get("cases", []):
            urgent = case.get("expect") == "urgent" or bool(case.get("red_flag"))
            cases.append((str(case["question"]), urgent, str(case.get("category", path.stem))))
    return cases


def calibrate(flags: RedFlags, embedder: Embedder, cases: Labelled, max_false: float) -> dict:
    found = anchors(flags, embedder)
    windows = [probe_texts(text, flags) for text, _, _ in cases]
    vectors = embedder.encode([w for ws in windows for w in ws])
    scores = score(vectors, found, leave_one_out=True)
    owner = np.repeat(np.arange(len(cases)), [len(ws) for ws in windows])
    truth = np.array([is_flag for _, is_flag, _ in cases])
    by_pattern = np.array([flags.match(text) is not None for text, _, _ in cases])

    flat = [w for ws in windows for w in ws]
    contexts = [flags.context(sentences(flags.prepare(text))) for text, _, _ in cases]
    allowed = np.array(
        [
            not flags.vetoes_semantic(w, flags.categories[int(c)], contexts[o])
            for w, c, o in zip(flat, scores.category, owner, strict=True)
        ],
        dtype=bool,
    )

    def per_case(threshold: float, margin: float) -> np.ndarray:
        hit = np.zeros(len(cases), dtype=bool)
        np.logical_or.at(hit, owner, flagged(scores, threshold, margin) & allowed)
        return hit

    best: tuple[float, float, float, float] | None = None  # (gain, -false, threshold, margin)
    for threshold in np.arange(0.30, 0.96, 0.01):
        for margin in np.arange(-0.04, 0.21, 0.01):
            hit = per_case(threshold, margin)
            false = hit[~truth].mean()
            if false > max_false:
                continue
            gain = (hit & truth).sum()
            key = (float(gain), -float(false), float(threshold), float(margin))
            if best is None or key[:2] > best[:2]:
                best = key
    assert best is not None  # threshold 0.95 with margin 0.2 flags nearly nothing
    threshold, margin = round(best[2], 2), round(best[3], 2)
    hit = per_case(threshold, margin)
    both = hit | by_pattern
    categories = sorted({cat for _, is_flag, cat in cases if is_flag})
    return {
        "threshold": threshold,
        "margin": margin,
        "red_flags": int(truth.sum()),
        "everyday": int((~truth).sum()),
        "semantic_recall": round(float(hit[truth].mean()), 3),
        "semantic_false_alarms": round(float(hit[~truth].mean()), 4),
        "pattern_recall": round(float(by_pattern[truth].mean()), 3),
        "pattern_false_alarms": round(float(by_pattern[~truth].mean()), 4),
        "combined_recall": round(float(both[truth].mean()), 3),
        "combined_false_alarms": round(float(both[~truth].mean()), 4),
        "added_by_semantic": int((hit & truth & ~by_pattern).sum()),
        "per_category_semantic_recall": {
            cat: round(float(hit[[c == cat and t for _, t, c in cases]].mean()), 3)
            for cat in categories
        },
        "false_alarm_texts": [cases[i][0] for i in np.flatnonzero(both & ~truth)],
    }


def cost_ms(flags: RedFlags, embedder: Embedder, threshold: float, margin: float) -> dict:
    """What the check adds per question: patterns, and one encode of the question's window."""
    from assistant.safety.semantic import SemanticCheck

    check = SemanticCheck(flags, embedder, threshold, margin)
    check.warm_up()
    questions = [n for c in flags.categories for n in c.near_misses][:20]
    timings: dict[str, list[float]] = {"patterns": [], "semantic": [], "semantic_given_vector": []}
    for q in questions:
        vector = embedder.encode([q])[0]
        started = time.perf_counter()
        flags.match(q)
        timings["patterns"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        check.match(q)
        timings["semantic"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        check.match(q, vector)
        timings["semantic_given_vector"].append((time.perf_counter() - started) * 1000)
    long = " ".join([*questions[:30], "I fell off a ladder and my back hurts."])[:4000]
    started = time.perf_counter()
    flags.match(long)
    check.match(long)
    timings["long_4000_chars"] = [(time.perf_counter() - started) * 1000]
    return {name: round(statistics.median(v), 2) for name, v in timings.items()}


def measure(flags: RedFlags, embedder: Embedder, cases: Labelled) -> dict:
    from assistant.safety import Safety

    safety = Safety(None, embedder, flags)
    verdicts = [safety.check(text) for text, _, _ in cases]
    found = [flags.by_id(v.category) if v and v.kind == "urgent" else None for v in verdicts]
    by_pattern = [flags.match(text) is not None for text, _, _ in cases]
    caught = np.array([f is not None for f in found])
    truth = np.array([t for _, t, _ in cases])

    def rate(mask: np.ndarray) -> float:
        return round(float(caught[mask].mean()), 3) if mask.any() else float("nan")

    categories = sorted({c for _, _, c in cases})
    return {
        "red_flags": int(truth.sum()),
        "everyday": int((~truth).sum()),
        "recall": rate(truth),
        "false_alarm_rate": rate(~truth),
        "caught_by_patterns": int(np.sum(np.array(by_pattern) & truth)),
        "caught_by_semantic_only": int(np.sum(caught & truth & ~np.array(by_pattern))),
        "per_category": {
            c: {
                "recall": rate(truth & np.array([k == c for _, _, k in cases])),
                "false_alarm_rate": rate(~truth & np.array([k == c for _, _, k in cases])),
            }
            for c in categories
        },
        "missed": [t for (t, f, _), hit in zip(cases, caught, strict=True) if f and not hit],
        "false_alarms": [
            f"{t}  [{hit.id}]"
            for (t, f, _), hit in zip(cases, found, strict=True)
            if not f and hit is not None
        ],
    }


def write(path: Path, threshold: float, margin: float) -> None:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(\n  threshold: )[0-9.]+", rf"\g<1>{threshold}", text, count=1)
    text = re.sub(r"(\n  margin: )-?[0-9.]+", rf"\g<1>{margin}", text, count=1)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m assistant.safety")
    sub = p.add_subparsers(dest="command", required=True)
    cal = sub.add_parser("calibrate", help="fit the semantic check's threshold and margin")
    cal.add_argument("sets", nargs="*", type=Path, help="more labelled sets (eval-set YAML)")
    cal.add_argument("--max-false", type=float, default=0.01, help="false-alarm cap (0.01)")
    cal.add_argument("--write", action="store_true", help="store the pair in red_flags.yaml")
    cal.add_argument("--json", action="store_true", help="print one JSON object")
    run = sub.add_parser("measure", help="recall and false alarms of the check on a set")
    run.add_argument("sets", nargs="+", type=Path, help="safety or eval sets (YAML)")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    sub.add_parser("vectors", help="store the file's wordings embedded, for a fast start")
    args = p.parse_args(argv)
    try:
        flags = load(DATA_FILE)
        cases = set_cases(getattr(args, "sets", []))
        if args.command == "calibrate":
            cases = file_cases(flags) + cases
    except (OSError, yaml.YAMLError, KeyError, RedFlagDataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    embedder = Embedder()
    if args.command == "vectors":
        rows = write_vectors(flags, embedder)
        print(f"stored {rows} embedded wordings in {VECTORS_FILE}")
        return 0
    if args.command == "measure":
        print(json.dumps(measure(flags, embedder, cases), indent=None if args.json else 2))
        return 0
    figures = calibrate(flags, embedder, cases, args.max_false)
    figures["cost_ms_p50"] = cost_ms(flags, embedder, figures["threshold"], figures["margin"])
    if args.write:
        write(DATA_FILE, figures["threshold"], figures["margin"])
        write_vectors(load(DATA_FILE), embedder)
    print(json.dumps(figures, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
