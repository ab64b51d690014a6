"""Ingest-time figures: passages per second against the raw encode rate, the unchanged
re-run, and retrieval latency as the index grows (synthetic vectors written straight to Chroma).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.settings import Settings
from eval.bench_timing import Stats, rss_mb, time_each
from ingest.chunk import chunk_article
from ingest.embed import Embedder, _load
from ingest.load import load_paths
from ingest.run import run_ingest


@dataclass(frozen=True)
class IngestFigures:
    passages: int
    encode_per_s: float  # raw SentenceTransformer.encode on the same passages
    ingest_per_s: float  # python -m ingest's run_ingest, load to stored
    ingest_s: float
    reingest_s: float
    reingest_embedded: int

    @property
    def ratio(self) -> float:
        return self.ingest_per_s / self.encode_per_s if self.encode_per_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "passages": self.passages,
            "encode_per_s": round(self.encode_per_s, 2),
            "ingest_per_s": round(self.ingest_per_s, 2),
            "ingest_s": round(self.ingest_s, 3),
            "reingest_s": round(self.reingest_s, 3),
            "reingest_embedded": self.reingest_embedded,
        }


def replicate_corpus(corpus_dir: Path, target: Path, min_passages: int) -> int:
    """Copies of the real articles under new slugs, until they make ``min_passages`` passages.

    Each copy's passages get new ids (the slug and title are in the hash), so all are embedded.
    Returns the number of passages written.
    """
    articles = load_paths([corpus_dir]).articles
    if not articles:
        raise RuntimeError(f"no articles in {corpus_dir}")
    target.mkdir(parents=True, exist_ok=True)
    per_round = sum(len(chunk_article(a)) for a in articles)
    copies = max(1, -(-min_passages // per_round))
    for i in range(copies):
        for a in articles:
            meta = {"title": f"{a.title} ({i + 1})", "slug": f"{a.slug}-{i + 1}", "url": a.url}
            text = f"---\n{yaml.safe_dump(meta, sort_keys=False)}---\n\n{a.text}\n"
            (target / f"{a.slug}-{i + 1}.md").write_text(text, encoding="utf-8")
    return copies * per_round


def measure_ingest(settings: Settings, embedder: Embedder, min_passages: int) -> IngestFigures:
    """``settings.corpus_dir`` is replicated into ``settings.data_dir``; the index goes there too."""
    corpus = settings.data_dir / "bench-corpus"
    replicate_corpus(settings.corpus_dir, corpus, min_passages)
    chunks = [c for a in load_paths([corpus]).articles for c in chunk_article(a)]
    texts = [c.embedding_text for c in chunks]
    model = _load(embedder.model_path)

    def encode_rate() -> float:
        started = time.perf_counter()
        model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True)
        return len(texts) / (time.perf_counter() - started)

    # Raw encode before and after the ingest run: their mean brackets a drifting machine load.
    before = encode_rate()
    target = settings.model_copy(update={"corpus_dir": corpus, "collection": "bench_ingest"})
    report = run_ingest(target, embedder=embedder)
    after = encode_rate()
    rerun = run_ingest(target, embedder=embedder)
    return IngestFigures(
        passages=report.embedded,
        encode_per_s=(before + after) / 2,
        ingest_per_s=report.embedded / report.seconds,
        ingest_s=report.seconds,
        reingest_s=rerun.seconds,
        reingest_embedded=rerun.embedded,
    )


@dataclass(frozen=True)
class ScalePoint:
    chunks: int
    query: Stats
    knn_only: Stats  # ids and distances only: HNSW without fetching documents and metadata
    add_per_s: float
    rss_mb: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunks": self.chunks,
            "query_p50_ms": round(self.query.p50_ms, 3),
            "query_p95_ms": round(self.query.p95_ms, 3),
            "knn_only_p50_ms": round(self.knn_only.p50_ms, 3),
            "add_per_s": round(self.add_per_s, 1),
            "rss_mb": round(self.rss_mb, 1),
        }


_WORDS = (
    "glute hip rotator fascia lumbar pelvis femur piriformis stretch strength bridge "
    "thrust clamshell plank posture mobility tension adhesion release walk squat"
).split()


def _synthetic_texts(start: int, count: int, rng: np.random.Generator) -> list[str]:
    picks = rng.integers(0, len(_WORDS), size=(count, 40))
    return [
        f"Synthetic passage {start + i}: " + " ".join(_WORDS[j] for j in row)
        for i, row in enumerate(picks)
    ]


def _unit_vectors(count: int, rng: np.random.Generator, dim: int = 384) -> np.ndarray:
    vectors = rng.standard_normal((count, dim), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def measure_scale(
    settings: Settings, sizes: list[int], *, k: int = 5, queries: int = 100
) -> list[ScalePoint]:
    """One collection grown to each size in turn; k-NN latency measured at each."""
    from ingest.schema import open_client

    client = open_client(settings)
    collection = client.get_or_create_collection(
        "bench_scale", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    batch = min(5000, client.get_max_batch_size())
    rng = np.random.default_rng(7)
    probes = list(_unit_vectors(queries, rng))
    points: list[ScalePoint] = []
    held = 0
    for size in sorted(sizes):
        started = time.perf_counter()
        while held < size:
            n = min(batch, size - held)
            collection.add(
                ids=[f"s{held + i}" for i in range(n)],
                embeddings=_unit_vectors(n, rng),
                documents=_synthetic_texts(held, n, rng),
                metadatas=[{"article": f"synthetic-{(held + i) // 20}"} for i in range(n)],
            )
            held += n
        added = size - (points[-1].chunks if points else 0)
        add_per_s = added / (time.perf_counter() - started)
        query = time_each(
            lambda v: collection.query(query_embeddings=[v], n_results=k), probes, rounds=2
        )
        knn_only = time_each(
            lambda v: collection.query(query_embeddings=[v], n_results=k, include=["distances"]),
            probes,
            rounds=2,
        )
        points.append(ScalePoint(size, query, knn_only, add_per_s, rss_mb()))
    return points
