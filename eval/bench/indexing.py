"""Ingest-time figures: passages per second against the raw encode rate, and the unchanged
re-run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.settings import Settings
from ingest.chunk import chunk_article
from ingest.embed import Embedder
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
    model = embedder.model

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
