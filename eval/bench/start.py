"""Start-up figures: ``python app.py`` to its first answered ``POST /api/ask`` (the cold
start a reader waits through) and to its first ``/api/health``, and the time to import the
app, with the heaviest top-level imports named.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.bench.app_process import OFFLINE_ENV, REPO, process_rss_mb, serve_app, wait_for

QUESTION = "Which exercises strengthen the gluteus maximus?"


@dataclass(frozen=True)
class StartFigures:
    cold_start_s: float  # median, python app.py -> first answered POST /api/ask
    health_s: float  # median, python app.py -> first 200 from /api/health
    chat_s: float  # median, python app.py -> the Gradio chat served at /
    runs: list[float]  # cold_start_s of each run
    app_rss_mb: float | None
    import_app_s: float
    heaviest_imports_s: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cold_start_s": round(self.cold_start_s, 3),
            "first_answer_s": round(self.cold_start_s, 3),  # the same figure, its old name
            "health_s": round(self.health_s, 3),
            "chat_s": round(self.chat_s, 3),
            "cold_start_runs_s": [round(r, 3) for r in self.runs],
            "app_rss_mb": None if self.app_rss_mb is None else round(self.app_rss_mb, 1),
            "import_app_s": round(self.import_app_s, 3),
            "heaviest_imports_s": self.heaviest_imports_s,
        }


def one_cold_start(
    data_dir: Path, corpus_dir: Path, question: str = QUESTION, timeout: float = 120.0
) -> tuple[float, float, float, float | None]:
    """Seconds to the first question answered, to the first health answer and to the chat;
    the app's RSS after that."""
    env = {"SUPPLE_CHROMA_HOST": ""}
    with serve_app(data_dir, env, corpus_dir, timeout, chat=False) as app:
        body = json.dumps({"question": question}).encode()
        answered = wait_for(f"{app.base}/api/ask", timeout, app.proc, body) - app.started
        chat = wait_for(f"{app.base}/", timeout, app.proc) - app.started
        return answered, app.health_s, chat, process_rss_mb(app.proc.pid)


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_times(top: int = 8) -> tuple[float, dict[str, float]]:
    """Wall seconds of ``import app`` in a fresh interpreter, and the heaviest top-level
    packages by cumulative import time (``python -X importtime``)."""
    env = {**os.environ, **OFFLINE_ENV}
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import app"], cwd=REPO, env=env, check=True)
    wall = time.monotonic() - started
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    heaviest: dict[str, float] = {}
    for line in done.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        name = match.group(4) if match else ""
        if match and "." not in name and name != "app" and name not in sys.stdlib_module_names:
            # A package's first import, with everything it pulled in (so torch counts
            # inside sentence_transformers too: the figures overlap, they do not add up).
            heaviest[name] = max(heaviest.get(name, 0.0), int(match.group(2)) / 1e6)
    ranked = sorted(heaviest.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return wall, {name: round(seconds, 3) for name, seconds in ranked}


def measure_start(
    data_dir: Path, corpus_dir: Path, runs: int, question: str = QUESTION
) -> StartFigures:
    """``data_dir`` must already hold an index of ``corpus_dir`` (the usual start)."""
    results = [one_cold_start(data_dir, corpus_dir, question) for _ in range(runs)]
    import_s, heaviest = import_times()
    return StartFigures(
        cold_start_s=statistics.median(r[0] for r in results),
        health_s=statistics.median(r[1] for r in results),
        chat_s=statistics.median(r[2] for r in results),
        runs=[r[0] for r in results],
        app_rss_mb=results[-1][3],
        import_app_s=import_s,
        heaviest_imports_s=heaviest,
    )
