"""Ingest writes a persistent Chroma index that follows the corpus exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import Settings
from ingest.embed import Embedder
from ingest.run import run_ingest, status
from ingest.schema import MODEL_STAMP, collection_generation, find_collection, open_client
from tests.conftest import REPO

NEW_ARTICLE = """---
title: Foam Rolling Basics
author: Nicole
date: 2025-04-02
slug: foam-rolling-basics
---

## Why roll

Rolling the calves slowly for a minute eases stiffness before a walk.
"""


def held_ids(settings: Settings) -> set[str]:
    collection = find_collection(open_client(settings), settings.collection)
    assert collection is not None
    return set(collection.get()["ids"])


def generation(settings: Settings) -> str | None:
    collection = find_collection(open_client(settings), settings.collection)
    assert collection is not None
    return collection_generation(collection)


def test_rerun_on_unchanged_corpus_embeds_nothing(
    fresh_settings: Settings, embedder: Embedder
) -> None:
    first = run_ingest(fresh_settings, embedder=embedder)
    assert first.articles == 1 and first.embedded == first.chunks > 5
    ids, token = held_ids(fresh_settings), generation(fresh_settings)
    assert token  # running apps re-read the index when this changes
    second = run_ingest(fresh_settings, embedder=embedder)
    assert (second.embedded, second.deleted, second.chunks) == (0, 0, first.chunks)
    assert held_ids(fresh_settings) == ids
    assert generation(fresh_settings) == token  # nothing changed: apps keep their copy
    assert not status(fresh_settings, embedder).stale


def test_an_index_larger_than_one_read_is_read_whole(
    fresh_settings: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chroma cannot return more than ~32k rows' metadata in one get: every whole-index read
    goes a page at a time. With pages of 3 rows, a re-run still sees every chunk it holds
    and the retriever still reads every passage."""
    from assistant.retrieve import open_index

    first = run_ingest(fresh_settings, embedder=embedder)
    monkeypatch.setattr("ingest.schema.READ_PAGE", 3)
    second = run_ingest(fresh_settings, embedder=embedder)
    assert (second.embedded, second.deleted, second.chunks) == (0, 0, first.chunks)
    assert status(fresh_settings, embedder).chunks == first.chunks
    snapshot = open_index(fresh_settings, embedder).snapshot()
    assert set(snapshot.ids) == held_ids(fresh_settings)
    assert snapshot.vectors.shape == (first.chunks, 384)


def test_edited_article_replaces_its_old_chunks(
    fresh_settings: Settings, corpus_copy: Path, embedder: Embedder
) -> None:
    run_ingest(fresh_settings, embedder=embedder)
    token = generation(fresh_settings)
    article = corpus_copy / "glute-hip-weakness-low-back-pain.md"
    article.write_text(
        article.read_text(encoding="utf-8").replace("Stay supple!", "Stay supple, always!"),
        encoding="utf-8",
    )
    assert status(fresh_settings, embedder).stale
    report = run_ingest(fresh_settings, embedder=embedder)
    assert (report.embedded, report.deleted) == (1, 1)
    assert generation(fresh_settings) != token
    collection = find_collection(open_client(fresh_settings), fresh_settings.collection)
    assert collection is not None
    docs = collection.get()["documents"] or []
    assert any("Stay supple, always!" in d for d in docs)
    assert not any("Stay supple!" in d for d in docs)


def test_new_and_removed_articles(
    fresh_settings: Settings, corpus_copy: Path, embedder: Embedder
) -> None:
    run_ingest(fresh_settings, embedder=embedder)
    (corpus_copy / "foam-rolling-basics.md").write_text(NEW_ARTICLE, encoding="utf-8")
    added = run_ingest(fresh_settings, embedder=embedder)
    assert added.articles == 2 and added.embedded == 1
    (corpus_copy / "foam-rolling-basics.md").unlink()
    removed = run_ingest(fresh_settings, embedder=embedder)
    assert (removed.articles, removed.deleted, removed.embedded) == (1, 1, 0)


def test_a_broken_file_loses_nothing_already_indexed(
    fresh_settings: Settings, corpus_copy: Path, embedder: Embedder
) -> None:
    before = run_ingest(fresh_settings, embedder=embedder)
    article = corpus_copy / "glute-hip-weakness-low-back-pain.md"
    article.write_bytes(b"---\ntitle: [broken\n---\n" + article.read_bytes())
    (corpus_copy / "notes.md").write_bytes(b"caf\xe9 au lait\n")
    report = run_ingest(fresh_settings, embedder=embedder)
    reasons = {Path(s.source).name: s.reason for s in report.skipped}
    assert "front matter" in reasons["glute-hip-weakness-low-back-pain.md"]
    assert "not UTF-8" in reasons["notes.md"]
    assert report.deleted == 0 and report.chunks == before.chunks


@pytest.mark.slow  # embeds the corpus twice
def test_model_change_forces_a_rebuild(fresh_settings: Settings, embedder: Embedder) -> None:
    run_ingest(fresh_settings, embedder=embedder)
    collection = find_collection(open_client(fresh_settings), fresh_settings.collection)
    assert collection is not None
    collection.modify(metadata={MODEL_STAMP: "some-other-model"})
    assert status(fresh_settings, embedder).stale
    report = run_ingest(fresh_settings, embedder=embedder)
    assert report.rebuilt and report.embedded == report.chunks
    collection = find_collection(open_client(fresh_settings), fresh_settings.collection)
    assert collection is not None and collection.metadata[MODEL_STAMP] == embedder.stamp


def _cli(*args: str, data: Path, corpus: Path) -> subprocess.CompletedProcess[str]:
    env = {"SUPPLE_DATA_DIR": str(data), "SUPPLE_CORPUS_DIR": str(corpus), "PATH": "/usr/bin"}
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        cwd=REPO,
        env={**env, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_cli_json_and_status(tmp_path: Path, corpus_copy: Path) -> None:
    data = tmp_path / "cli-data"
    first = _cli("--json", data=data, corpus=corpus_copy)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert set(report) == {"articles", "chunks", "embedded", "deleted", "skipped", "seconds"}
    assert report["articles"] == 1 and report["embedded"] == report["chunks"]
    again = json.loads(_cli("--json", data=data, corpus=corpus_copy).stdout)
    assert again["embedded"] == 0
    st = json.loads(_cli("--status", "--json", data=data, corpus=corpus_copy).stdout)
    assert st == {
        "articles": 1,
        "chunks": report["chunks"],
        "model": Embedder().stamp,
        "store": "embedded",
        "stale": False,
        "without_url": ["glute-hip-weakness-low-back-pain"],  # its front matter has no url
    }
    said = _cli("--status", data=data, corpus=corpus_copy).stdout
    assert "1 without a url" in said and "glute-hip-weakness-low-back-pain" in said


@pytest.mark.slow
def test_cli_bad_path_is_one_line_exit_2(tmp_path: Path, corpus_copy: Path) -> None:
    result = _cli("no/such/file.md", data=tmp_path / "d", corpus=corpus_copy)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "no/such/file.md" in result.stderr and "Traceback" not in result.stderr
