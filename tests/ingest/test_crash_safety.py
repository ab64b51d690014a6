"""Crash safety: kill -9 partway through, run again, and the index is the one a clean build
makes. One ingest writes at a time; readers never see an article half-written."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant.settings import Settings
from ingest import store
from ingest.embed import Embedder
from ingest.run import run_ingest
from ingest.schema import find_collection, open_client
from ingest.store import IngestBusyError
from tests.conftest import REPO, make_settings

MUSCLES = ["gluteus medius", "piriformis", "psoas", "multifidus", "quadratus lumborum", "TFL"]


def synthetic_corpus(folder: Path, count: int) -> Path:
    """``count`` small articles of two sections each (two passages per article)."""
    folder.mkdir(parents=True)
    for n in range(count):
        muscle = MUSCLES[n % len(MUSCLES)]
        (folder / f"article-{n:03d}.md").write_text(
            f"---\ntitle: Note {n} on the {muscle}\n---\n\n"
            f"## Why the {muscle} matters ({n})\n\n"
            f"Note {n}: the {muscle} steadies the pelvis during walking, and when it tires "
            f"the low back takes over work it was not built for, stiffening by evening.\n\n"
            f"## A drill for the {muscle} ({n})\n\n"
            f"Drill {n}: lie on your side, lift the top leg a hand's width, hold for {n % 9 + 2} "
            f"slow breaths, and lower it without letting the pelvis roll back.\n"
        )
    return folder


def index_snapshot(settings: Settings) -> tuple[int, dict[str, tuple[str, str]]]:
    collection = find_collection(open_client(settings), settings.collection)
    assert collection is not None
    got = collection.get(include=["documents", "metadatas"])
    docs, metas = got["documents"] or [], got["metadatas"] or []
    rows = {
        id_: (doc, str(meta["article"]))
        for id_, doc, meta in zip(got["ids"], docs, metas, strict=True)
    }
    return collection.count(), rows


def stored_chunks(data_dir: Path) -> int:
    """Chunks the store has committed, read from its SQLite file without opening Chroma."""
    path = data_dir / "chroma" / "chroma.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM embeddings").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_run_kill_9_partway_then_rerun_equals_a_clean_build(
    tmp_path: Path, embedder: Embedder
) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 150)
    crashed = make_settings(tmp_path / "crashed", corpus)
    env = {
        **os.environ,
        "SUPPLE_DATA_DIR": str(crashed.data_dir),
        "SUPPLE_CORPUS_DIR": str(corpus),
        "SUPPLE_EMBED_GROUP": "64",  # several embed-then-write rounds, so the kill lands midway
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "ingest", "--json"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while stored_chunks(crashed.data_dir) == 0:
            assert child.poll() is None, "ingest ended before it was killed"
            assert time.monotonic() < deadline, "ingest wrote nothing in 300 s"
            time.sleep(0.05)
        # It holds the lock: a second ingest refuses with one clear line.
        with pytest.raises(IngestBusyError, match=rf"another ingest \(pid {child.pid}\)"):
            run_ingest(crashed, embedder=embedder)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    written = index_snapshot(crashed)[0]  # Chroma's count: its log may be ahead of the table
    assert 0 < written < 300, f"killed with {written} of 300 chunks written"

    rerun = run_ingest(crashed, embedder=embedder)  # the lock died with the process
    assert rerun.embedded == 300 - written
    clean = run_ingest(make_settings(tmp_path / "clean", corpus), embedder=embedder)
    assert (clean.articles, clean.chunks) == (150, 300)
    assert index_snapshot(crashed) == index_snapshot(make_settings(tmp_path / "clean", corpus))
    again = run_ingest(crashed, embedder=embedder)
    assert (again.embedded, again.deleted, again.chunks) == (0, 0, 300)


def readers_see_whole_articles(settings: Settings, embedder: Embedder) -> None:
    """Ingest ``settings.corpus_dir`` while a reader polls the index: every snapshot holds
    each article whole (article-000 has three passages, the others two)."""
    snapshots: list[dict[str, set[int]]] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            collection = find_collection(open_client(settings), settings.collection)
            if collection is not None:
                seen: dict[str, set[int]] = {}
                for meta in collection.get(include=["metadatas"])["metadatas"] or []:
                    seen.setdefault(str(meta["article"]), set()).add(int(str(meta["position"])))
                snapshots.append(seen)
            done.wait(0.01)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        run_ingest(settings, embedder=embedder)
    finally:
        done.set()
        reader.join()
    assert len(snapshots) > 3
    for seen in snapshots:
        for slug, positions in seen.items():
            want = {0, 1, 2} if slug == "article-000" else {0, 1}
            assert positions == want, f"{slug} half-written: {sorted(positions)}"


def reader_corpus(folder: Path) -> Path:
    synthetic_corpus(folder, 30)
    article = folder / "article-000.md"
    article.write_text(article.read_text() + "\n## A third part\n\nRest a day between drills.\n")
    return folder


@pytest.mark.slow  # a crash test: readers race an ingest
def test_run_readers_never_see_an_article_half_written(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "BATCH", 5)  # many small upserts: many chances to tear
    settings = make_settings(tmp_path / "data", reader_corpus(tmp_path / "corpus"))
    readers_see_whole_articles(settings, embedder)


def test_run_second_ingest_waits_for_the_lock_or_refuses(tmp_path: Path) -> None:
    with store.ingest_lock(tmp_path):
        started = time.monotonic()
        busy = rf"another ingest \(pid {os.getpid()}\)"
        with pytest.raises(IngestBusyError, match=busy), store.ingest_lock(tmp_path, wait=0.4):
            pass
        assert time.monotonic() - started >= 0.4
    held = store.ingest_lock(tmp_path)
    held.__enter__()
    threading.Timer(0.3, held.__exit__, (None, None, None)).start()
    started = time.monotonic()
    with store.ingest_lock(tmp_path, wait=10):  # waits until the first one ends
        assert 0.25 <= time.monotonic() - started < 5
