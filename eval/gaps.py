"""python -m eval gaps [--html OUT] [--to-set OUT.yaml] [--purge] [--low-score S] [--threshold T]

What readers ask that the articles do not answer: the logged questions that came back
``not_covered``, scored low, or got a thumbs down, grouped into topics by embedding
(sentence-transformers' community detection over the project's ``Embedder``), most asked
first, each with example questions. A to-write list for the author.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from assistant.errors import SuppleError
from assistant.questionlog import FILE_NAME, LoggedQuestion, QuestionLog
from assistant.settings import Settings
from eval.metrics import normalise
from eval.run import rate_arg
from eval.sets import EvalCase, EvalSet, dump_set
from ingest.embed import Embedder
from ingest.settings import exit_line

# An answer whose best passage is less similar than this is listed as a possible gap.
LOW_SCORE = 0.3


@dataclass
class Topic:
    """Questions that mean nearly the same, with how often and why they came up."""

    questions: Counter[str]  # question text -> times asked
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def asked(self) -> int:
        return sum(self.questions.values())

    @property
    def label(self) -> str:
        return self.questions.most_common(1)[0][0]

    def examples(self, n: int = 5) -> list[tuple[str, int]]:
        return self.questions.most_common(n)


def gap_reason(entry: LoggedQuestion, low_score: float) -> str | None:
    """Why a logged question is a gap, or None when it was answered well."""
    if entry.feedback is not None and entry.feedback < 0:
        return "thumbs down"
    if entry.kind == "not_covered" and entry.top_score is not None:
        return "not covered"  # (no score: refused before retrieval, e.g. a dose question)
    if entry.kind == "answer" and entry.top_score is not None and entry.top_score < low_score:
        return "low score"
    return None


def find_topics(
    entries: list[LoggedQuestion], embedder: Embedder, low_score: float, threshold: float
) -> list[Topic]:
    """Group the gap questions into topics, most asked first."""
    from sentence_transformers.util import community_detection

    texts: dict[str, str] = {}  # normalised -> first spelling seen
    counts: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {}
    for entry in entries:
        reason = gap_reason(entry, low_score)
        if reason is None:
            continue
        key = normalise(entry.question)
        texts.setdefault(key, entry.question)
        counts[key] += 1
        reasons.setdefault(key, Counter())[reason] += 1
    keys = list(texts)
    if not keys:
        return []
    vectors = embedder.encode([texts[k] for k in keys])
    groups = community_detection(vectors, threshold=threshold, min_community_size=1)
    grouped = {i for group in groups for i in group}
    groups += [[i] for i in range(len(keys)) if i not in grouped]
    topics = []
    for group in groups:
        topic = Topic(Counter({texts[keys[i]]: counts[keys[i]] for i in group}))
        for i in group:
            topic.reasons.update(reasons[keys[i]])
        topics.append(topic)
    return sorted(topics, key=lambda t: (-t.asked, t.label))


def summary(topics: list[Topic], total: int) -> str:
    gaps = sum(t.asked for t in topics)
    lines = [f"{gaps} of {total} logged questions are gaps, in {len(topics)} topics"]
    for n, topic in enumerate(topics, 1):
        why = ", ".join(f"{r} {c}" for r, c in topic.reasons.most_common())
        lines.append(f"{n:>3}. {topic.label}  ({topic.asked} asked; {why})")
        for text, count in topic.examples()[1:]:
            lines.append(f"       - {text}" + (f" ×{count}" if count > 1 else ""))
    return "\n".join(lines)


def render_html(topics: list[Topic], total: int) -> str:
    items = []
    for topic in topics:
        why = ", ".join(f"{escape(r)} {c}" for r, c in topic.reasons.most_common())
        examples = "".join(
            f"<li>{escape(text)}{f' <small>×{count}</small>' if count > 1 else ''}</li>"
            for text, count in topic.examples(8)
        )
        items.append(
            f"<li class='topic'><h2>{escape(topic.label)}</h2>"
            f"<p class='meta'>{topic.asked} asked · {why}</p><ul>{examples}</ul></li>"
        )
    gaps = sum(t.asked for t in topics)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Coverage gaps</title><style>"
        "body{font:15px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}"
        ".topic{border:1px solid #ddd;border-radius:6px;padding:.4rem 1rem;margin:.8rem 0}"
        ".topic h2{font-size:1.1rem;margin:.3rem 0}.meta{color:#666}"
        "</style></head><body><h1>What readers ask that the articles don't answer</h1>"
        f"<p class='meta'>{gaps} of {total} logged questions, in {len(topics)} topics, "
        f"most asked first.</p><ol>{''.join(items)}</ol></body></html>"
    )


def to_set(topics: list[Topic]) -> str:
    """Eval cases to label: one per distinct question, tagged with its topic."""
    cases = []
    for n, topic in enumerate(topics, 1):
        for i, (text, _) in enumerate(topic.questions.most_common(), 1):
            cases.append(
                EvalCase(
                    id=f"gap-{n:03d}-{i:02d}",
                    question=text,
                    expect="not_covered",
                    tags=("gap", f"topic-{n:03d}"),
                )
            )
    header = (
        "Questions readers asked that came back not_covered, low-scoring or thumbed down.\n"
        "Label each case: keep expect: not_covered, or once an article covers it set\n"
        "expect: answer and add evidence (phrases from the article) and facts."
    )
    return dump_set(EvalSet("gaps", tuple(cases), "Coverage gaps from the question log"), header)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m eval gaps",
        description="Group readers' unanswered, weak or thumbed-down questions into topics.",
    )
    p.add_argument("--html", type=Path, metavar="OUT.html", help="write an HTML report")
    p.add_argument("--to-set", type=Path, metavar="OUT.yaml", help="write eval cases to label")
    p.add_argument("--purge", action="store_true", help="delete every stored question")
    p.add_argument(
        "--low-score",
        type=rate_arg,
        metavar="S",
        help="answers whose best passage scored below S count as gaps "
        "(default: SUPPLE_MIN_RELEVANCE, 0.30)",
    )
    p.add_argument(
        "--threshold",
        type=rate_arg,
        default=0.7,
        metavar="T",
        help="cosine similarity that puts two questions in one topic (default 0.7)",
    )
    return p


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str], settings: Settings) -> int:
    """The CLI, handed the settings ``python -m eval`` read from the environment."""
    args = parser().parse_args(argv)
    try:
        path = Path(settings.data_dir) / FILE_NAME
        if not path.exists():
            print(f"No questions logged yet ({path} does not exist).")
            return 0
        log = QuestionLog(path, settings.question_log_days)
        if args.purge:
            print(f"Deleted {log.purge()} stored questions from {path}.")
            return 0
        entries = log.questions()
        low_score = LOW_SCORE if args.low_score is None else args.low_score
        topics = find_topics(entries, Embedder(), low_score, args.threshold)
        print(summary(topics, len(entries)))
        if args.html:
            _write(args.html, render_html(topics, len(entries)))
        if args.to_set and topics:
            _write(args.to_set, to_set(topics))
        elif args.to_set:
            print("No gaps: no eval set written.")
    except OSError as exc:
        print(f"error: cannot write the report: {exc}", file=sys.stderr)
        return 2
    except SuppleError as error:
        return exit_line(error)
    return 0
