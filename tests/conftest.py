"""Shared fixtures: the real model, a real Chroma index of the frozen fixture blog, a real
Assistant. No test reads the live corpus/: the author adds articles there.

The network is blocked except loopback (pytest-socket, see pyproject addopts).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}.items():
    os.environ[_name] = _value

from assistant.pipeline import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from ingest.embed import Embedder, model_stamp  # noqa: E402
from ingest.run import run_ingest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# The frozen fixture blog: the seed article (cleaned) and 14 adjacent ones, with a glossary.
BLOG = REPO / "tests" / "fixtures" / "blog"
CORPUS = BLOG
ARTICLE = BLOG / "glute-hip-weakness-low-back-pain.md"
# The first article as scraped from the blog, page chrome and all (a copy of shared/seeds).
SEED = REPO / "tests" / "ingest" / "data" / "000_bc34cf1ef2d8e3a2.txt"


def make_settings(data_dir: Path, corpus_dir: Path = CORPUS, **overrides: object) -> Settings:
    """Settings for a test: never read from the environment or a .env file."""
    return Settings.model_construct(
        **{
            **Settings.model_construct().__dict__,
            "corpus_dir": corpus_dir,
            "data_dir": data_dir,
            **overrides,
        }
    )


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    e = Embedder()
    e.warm_up()
    return e


# `make check` sets this: the inner loop starts from a copy of the fixture blog's index built by
# an earlier run, kept under .pytest_cache and named by a hash of everything that makes it (the
# blog, ingest's code, the model). `make test` and CI always build it fresh.
REUSE_INDEX = "SUPPLE_TEST_REUSE_INDEX"


@functools.cache
def _index_key() -> str:
    digest = hashlib.sha256(model_stamp().encode())
    for path in sorted([*(REPO / "ingest").rglob("*.py"), *BLOG.rglob("*")]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def kept_vectors(texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """``encode(texts)``; under REUSE_INDEX, the vectors an earlier run made of the same texts
    with the same ingest code and model (kept beside the index; the newest set only)."""
    if os.environ.get(REUSE_INDEX) != "1":
        return encode(texts)
    digest = hashlib.sha256(_index_key().encode() + "\0".join(texts).encode())
    path = REPO / ".pytest_cache" / "supple-vectors" / f"{digest.hexdigest()[:16]}.npy"
    if path.is_file():
        return np.asarray(np.load(path))
    vectors = encode(texts)
    shutil.rmtree(path.parent, ignore_errors=True)
    path.parent.mkdir(parents=True)
    np.save(path, vectors)
    return vectors


@pytest.fixture(scope="session")
def indexed_settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """An index of the fixture blog, built once per test session (or copied, see REUSE_INDEX).

    Each session gets its own copy, so what tests write beside the index (logs, votes) never
    outlives the session; the ingest still runs over the copy, and finds nothing to embed."""
    data_dir = tmp_path_factory.mktemp("data")
    kept = REPO / ".pytest_cache" / "supple-index" / _index_key()
    reuse = os.environ.get(REUSE_INDEX) == "1"
    if reuse and kept.is_dir():
        shutil.copytree(kept, data_dir, dirs_exist_ok=True)
    settings = make_settings(data_dir)
    run_ingest(settings, embedder=embedder)
    if reuse and not kept.is_dir():
        shutil.rmtree(kept.parent, ignore_errors=True)  # older keys: the blog or ingest changed
        shutil.copytree(data_dir, kept)
    return settings


@pytest.fixture(scope="session")
def assistant(indexed_settings: Settings, embedder: Embedder) -> Assistant:
    return Assistant(indexed_settings, embedder=embedder)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private one-article corpus a test may edit: the fixture blog's seed article."""
    target = tmp_path / "corpus"
    target.mkdir()
    shutil.copy(ARTICLE, target / ARTICLE.name)
    return target


@pytest.fixture
def fresh_settings(tmp_path: Path, corpus_copy: Path) -> Iterator[Settings]:
    yield make_settings(tmp_path / "data", corpus_copy)
