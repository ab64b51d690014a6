"""Where the time goes: pyinstrument profiles of warm ``Assistant.ask``, an ingest run, and
the app's start-up up to serving, each written as text (and HTML) to a folder.

Run by ``python -m eval bench --profile DIR``; docs/benchmarks.md reads them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.settings import Settings
from eval.bench.app_process import OFFLINE_ENV, REPO
from ingest.embed import Embedder

_START = """
import sys, time
from pyinstrument import Profiler
profiler = Profiler(interval=0.001)
profiler.start()
import app
from assistant.pipeline import Assistant
from assistant.settings import Settings
from ingest.run import status
settings = Settings()
status(settings)
assistant = Assistant(settings)
app.create_app(settings, assistant)
profiler.stop()
open(sys.argv[1], "w").write(profiler.output_text(unicode=True, color=False))
open(sys.argv[2], "w").write(profiler.output_html())
"""


def _profiled(fn: Callable[[], object], out: Path, name: str, interval: float) -> Path:
    from pyinstrument import Profiler

    profiler = Profiler(interval=interval)
    profiler.start()
    fn()
    profiler.stop()
    text = out / f"{name}.txt"
    text.write_text(profiler.output_text(unicode=True, color=False), encoding="utf-8")
    (out / f"{name}.html").write_text(profiler.output_html(), encoding="utf-8")
    return text


def profile_all(
    settings: Settings, embedder: Embedder, questions: Sequence[str], out: Path, tmp: Path
) -> list[Path]:
    """``settings`` points at an index of the real corpus in ``settings.data_dir``."""
    from assistant.pipeline import Assistant
    from eval.bench.indexing import replicate_corpus
    from ingest.run import run_ingest

    out.mkdir(parents=True, exist_ok=True)
    assistant = Assistant(settings, embedder=embedder)
    for q in questions:  # warm: caches filled, as the app is after its first questions
        assistant.ask(q)

    def asks() -> None:
        for _ in range(3):
            for q in questions:
                assistant.ask(q)

    written = [_profiled(asks, out, "ask-warm", 0.0005)]

    corpus = tmp / "profile-corpus"
    replicate_corpus(settings.corpus_dir, corpus, 300)
    target = settings.model_copy(update={"corpus_dir": corpus, "data_dir": tmp / "profile-ingest"})
    written.append(_profiled(lambda: run_ingest(target, embedder=embedder), out, "ingest", 0.001))

    env = {
        **os.environ,
        **OFFLINE_ENV,
        "SUPPLE_DATA_DIR": str(settings.data_dir),
        "SUPPLE_CORPUS_DIR": str(settings.corpus_dir),
        "SUPPLE_CHROMA_HOST": "",
    }
    start_text, start_html = out / "start.txt", out / "start.html"
    subprocess.run(
        [sys.executable, "-c", _START, str(start_text), str(start_html)],
        cwd=REPO,
        env=env,
        check=True,
    )
    written.append(start_text)
    return written
