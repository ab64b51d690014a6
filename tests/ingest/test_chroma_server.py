"""The scale path: a real ``chroma run`` server on 127.0.0.1; ingest writes to it and the
assistant answers from it, chosen by SUPPLE_CHROMA_HOST/SUPPLE_CHROMA_PORT alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.pipeline import Assistant
from ingest import store
from ingest.embed import Embedder
from ingest.run import run_ingest
from tests.conftest import BLOG, REPO, make_settings
from tests.ingest.test_crash_safety import reader_corpus, readers_see_whole_articles
from tests.servers import running_chroma


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    with running_chroma(tmp_path / "server") as server:
        yield server.port


@pytest.mark.slow
def test_run_ingest_and_a_question_against_a_chroma_server(
    chroma_server: int, tmp_path: Path, embedder: Embedder
) -> None:
    settings = make_settings(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=chroma_server)
    report = run_ingest(settings, embedder=embedder)
    assert report.articles == len(list(BLOG.glob("*.md"))) and report.chunks > 5
    assert not (tmp_path / "data" / "chroma").exists()  # nothing went to the embedded store

    answer = Assistant(settings, embedder=embedder).ask(
        "Which exercises strengthen the gluteus maximus?"
    )
    assert str(answer.kind) == "answer"
    assert "Glute Bridges" in " ".join(p.text for p in answer.passages)
    assert answer.citations and answer.disclaimer

    env = {
        **os.environ,
        "SUPPLE_DATA_DIR": str(tmp_path / "data"),
        "SUPPLE_CORPUS_DIR": str(BLOG),
        "SUPPLE_CHROMA_HOST": "127.0.0.1",
        "SUPPLE_CHROMA_PORT": str(chroma_server),
    }
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "--status", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert (status["store"], status["chunks"], status["stale"]) == ("server", report.chunks, False)


@pytest.mark.slow
def test_run_server_readers_never_see_an_article_half_written(
    chroma_server: int, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "BATCH", 5)
    settings = make_settings(
        tmp_path / "data",
        reader_corpus(tmp_path / "corpus"),
        chroma_host="127.0.0.1",
        chroma_port=chroma_server,
    )
    readers_see_whole_articles(settings, embedder)
