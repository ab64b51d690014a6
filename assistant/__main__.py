"""python -m assistant ask "QUESTION" [--history FILE.json] [--backend NAME] [--json]"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from assistant.errors import InputError, SuppleError
from ingest.settings import exit_line

if TYPE_CHECKING:
    from assistant.pipeline import Assistant


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m assistant", description="Ask the articles.")
    sub = p.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question", help="the reader's question")
    ask.add_argument(
        "--history", type=Path, metavar="FILE.json", help="earlier turns, oldest first"
    )
    ask.add_argument("--backend", help="'extractive' or a chat model spec such as openai:MODEL")
    ask.add_argument("--json", action="store_true", help="print the Answer object as JSON")
    return p


def _read_history(path: Path | None) -> list[dict[str, str]] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the history file ({exc.strerror})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: the history file is not valid JSON ({exc})") from exc
    if not isinstance(data, list):
        raise InputError(f"{path}: the history must be a JSON list of {{role, content}} objects")
    return data


def format_answer(answer_dict: dict[str, object]) -> str:
    lines = [str(answer_dict["text"])]
    if answer_dict.get("note"):  # e.g. the LLM backend fell back to quoting the articles
        lines += ["", f"({answer_dict['note']})"]
    citations = answer_dict.get("citations") or []
    if citations:
        lines.append("")
        for c in citations:  # type: ignore[attr-defined]
            lines.append(f"[{c['n']}] {c['title']} — {c['section']}")
            lines.append(f"    “{c['text']}”")
            if c.get("url"):
                lines.append(f"    {c['url']}")
    lines += ["", str(answer_dict["disclaimer"])]
    return "\n".join(lines)


def load(assistant: Assistant) -> None:
    """Load the embedding model and read the index before the question, so the Answer's
    ``latency_ms`` is the answer's own, not the few seconds a fresh process spends loading."""
    assistant.embedder.warm_up()
    assistant.embedder.embed_query("warm up")  # the first pass through the model is slower
    assistant.retriever.vocabulary()  # reads the index


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    args = parser().parse_args(argv)
    from assistant.pipeline import Assistant
    from assistant.settings import Settings

    try:
        settings = Settings()
        if args.backend:
            settings = settings.model_copy(update={"backend": args.backend})
        history = _read_history(args.history)
        assistant = Assistant(settings)
        started = time.perf_counter()
        load(assistant)
        loaded_s = time.perf_counter() - started
        answer = assistant.ask(args.question, history).to_dict()
    except (ValidationError, SuppleError) as error:
        return exit_line(error)
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
        print(
            f"\n(answered in {answer['latency_ms']:.0f} ms, after {loaded_s:.1f} s loading the "
            "model and the index)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
