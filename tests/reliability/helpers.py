"""Helpers for the reliability suite: a served app whose process we can watch, a Chroma
server we can stop and start, and the checks every reply must pass whatever was asked.

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path
from typing import Any

from assistant.prompts import load_prompt
from assistant.settings import PROMPTS_DIR, Settings

KINDS = {"answer", "not_covered", "urgent"}
DISCLAIMER = load_prompt(PROMPTS_DIR, "disclaimer")
# The load test must not be throttled by the per-address rate limiter (issue 6): it is one
# address asking hundreds of questions. The limiter itself is tested by the web layer.
NO_RATE_LIMIT = {
    "SUPPLE_RATE_PER_MINUTE": "0",
    "SUPPLE_RATE_PER_DAY": "0",
    "SUPPLE_RATE_REQUESTS_PER_MINUTE": "0",
}


def answer_problems(answer: dict[str, Any]) -> list[str]:
    """What is wrong with an Answer object as a reader would get it (empty = nothing)."""
    problems = []
    if answer.get("kind") not in KINDS:
        problems.append(f"kind {answer.get('kind')!r}")
    if not str(answer.get("disclaimer") or "").strip():
        problems.append("no disclaimer")
    if not str(answer.get("text") or "").strip():
        problems.append("no text")
    passages = [str(p.get("text", "")) for p in answer.get("passages") or []]
    for citation in answer.get("citations") or []:
        quoted = str(citation.get("text") or "")
        if not quoted or not any(quoted in p for p in passages):
            problems.append(f"citation [{citation.get('n')}] quotes no retrieved passage")
    if answer.get("kind") == "answer" and not answer.get("citations"):
        problems.append("an answer without citations")
    return problems


def chat_problems(message: str) -> list[str]:
    """What is wrong with a chat reply (the Gradio markdown): every reply ends in the
    disclaimer, and an error shows as one line starting with the warning sign, no traceback."""
    problems = []
    if html.escape(DISCLAIMER, quote=False) not in message:
        problems.append("no disclaimer")
    if "Traceback" in message:
        problems.append("a traceback")
    return problems


def indexed_copy(source: Settings, target: Path) -> Path:
    """A private copy of an already built index (no re-embedding), as a data folder."""
    shutil.copytree(source.data_dir / "chroma", target / "chroma")
    return target
