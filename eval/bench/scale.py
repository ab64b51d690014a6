"""Retrieval as the index grows: the assistant's own retriever over 1k, 10k and 100k passages.

Each size is its own Chroma collection of synthetic passages (random unit vectors, HNSW's
worst case; 40-word texts drawn from a Zipf law over the article's words and made-up ones,
so BM25's postings look like a real site's), read by the hybrid retriever exactly as the app
reads the real index. The sizes take turns on every question (``time_interleaved``), so a
load spike hits them alike and their ratio holds. Per size:

- ``query``: question in, passages out (``retriever.invoke``'s work: embed, then search), the
  unit of LangChain's ``similarity_search`` baseline and of the scale target; the question is
  embedded with ``query_threads`` torch threads, as the app does;
- ``search``: the retriever's search alone, the question's vector given (typo rewrite, BM25,
  dense ranking, fusion, near-duplicates, passages);
- ``hnsw_search``: the same with the dense ranking always from Chroma's HNSW index (what every
  size above ``exact_search_max`` uses), to show how that path grows;
- ``chroma_query`` and ``knn_only``: a bare ``collection.query`` with documents and metadata,
  and with ids and distances only;
- ``snapshot_s``: reading the collection into the retriever, which a running app does once
  after each ingest.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.retrieve import CorpusIndex, HybridRetriever
from assistant.settings import Settings
from eval.bench.timing import Stats, rss_mb, time_interleaved
from ingest.embed import Embedder
from ingest.schema import ARTICLE, GENERATION, SECTION, TITLE, open_client
from ingest.settings import StoreSettings

_ARTICLE_WORDS = (
    "glute gluteus maximus medius minimus hip rotator rotators fascia fascial lumbar pelvis "
    "pelvic femur piriformis stretch strength strengthen bridge thrust clamshell plank posture "
    "mobility tension adhesion release walk squat pain back lower muscle muscles tight weak "
    "flexor flexors sitting knee spine core stability exercise exercises foam roll rolling"
).split()
_MADE_UP_WORDS = 30_000  # a site's long tail of rarer words


@dataclass(frozen=True)
class ScalePoint:
    chunks: int
    query: Stats
    search: Stats
    hnsw_search: Stats
    chroma_query: Stats
    knn_only: Stats
    add_per_s: float
    snapshot_s: float
    rss_mb: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunks": self.chunks,
            "query_p50_ms": round(self.query.p50_ms, 3),
            "query_p95_ms": round(self.query.p95_ms, 3),
            "search_p50_ms": round(self.search.p50_ms, 3),
            "search_p95_ms": round(self.search.p95_ms, 3),
            "hnsw_search_p50_ms": round(self.hnsw_search.p50_ms, 3),
            "chroma_query_p50_ms": round(self.chroma_query.p50_ms, 3),
            "knn_only_p50_ms": round(self.knn_only.p50_ms, 3),
            "add_per_s": round(self.add_per_s, 1),
            "snapshot_s": round(self.snapshot_s, 3),
            "rss_mb": round(self.rss_mb, 1),
        }


class SyntheticPassages:
    """Reproducible synthetic passages: Zipf-distributed words, random unit vectors."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.words = _ARTICLE_WORDS + [f"w{i}" for i in range(_MADE_UP_WORDS)]
        weights = 1.0 / np.arange(1, len(self.words) + 1)
        self.p = weights / weights.sum()

    def texts(self, start: int, count: int) -> list[str]:
        picks = self.rng.choice(len(self.words), size=(count, 40), p=self.p)
        return [
            f"Passage {start + i}: " + " ".join(self.words[j] for j in row)
            for i, row in enumerate(picks)
        ]

    def vectors(self, count: int, dim: int = 384) -> np.ndarray:
        vectors = self.rng.standard_normal((count, dim), dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def build_collection(settings: StoreSettings, name: str, size: int, data: SyntheticPassages):
    """A collection of ``size`` synthetic passages, written as ingest writes; adds per second."""
    client = open_client(settings)
    collection = client.get_or_create_collection(
        name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    batch = min(5000, client.get_max_batch_size())
    started = time.perf_counter()
    for held in range(0, size, batch):
        n = min(batch, size - held)
        collection.add(
            ids=[f"s{held + i}" for i in range(n)],
            embeddings=data.vectors(n),
            documents=data.texts(held, n),
            metadatas=[
                {ARTICLE: f"synthetic-{(held + i) // 20}", TITLE: "Synthetic", SECTION: "Part"}
                for i in range(n)
            ],
        )
    collection.modify(metadata={GENERATION: uuid.uuid4().hex})
    return client, collection, size / (time.perf_counter() - started)


def measure_scale(
    settings: Settings,
    embedder: Embedder,
    questions: Sequence[str],
    sizes: list[int],
    *,
    rounds: int = 3,
) -> list[ScalePoint]:
    """Every size built first, then all timed in turns on the same questions."""
    data = SyntheticPassages()
    vectors = embedder.encode(list(questions))
    k = settings.k
    built: list[dict[str, Any]] = []
    for size in sorted(sizes):
        client, collection, add_per_s = build_collection(settings, f"scale-{size}", size, data)
        corpus = CorpusIndex(client, collection)
        started = time.perf_counter()
        corpus.snapshot()
        snapshot_s = time.perf_counter() - started
        exact = settings.exact_search_max
        built.append(
            {
                "size": size,
                "collection": collection,
                "retriever": HybridRetriever(
                    corpus=corpus, embedder=embedder, k=k, exact_search_max=exact
                ),
                "hnsw": HybridRetriever(corpus=corpus, embedder=embedder, k=k, exact_search_max=0),
                "add_per_s": add_per_s,
                "snapshot_s": snapshot_s,
                "rss_mb": rss_mb(),
            }
        )

    operations: dict[str, Callable[[int], object]] = {}
    for b in built:
        operations |= _operations(b, questions, vectors, k)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(settings.query_threads)  # questions are embedded as the app does
    try:
        timed = time_interleaved(operations, range(len(questions)), rounds=rounds, warmup=1)
    finally:
        torch.set_num_threads(threads)
    return [
        ScalePoint(
            chunks=b["size"],
            query=timed[f"query {b['size']}"],
            search=timed[f"search {b['size']}"],
            hnsw_search=timed[f"hnsw {b['size']}"],
            chroma_query=timed[f"chroma {b['size']}"],
            knn_only=timed[f"knn {b['size']}"],
            add_per_s=b["add_per_s"],
            snapshot_s=b["snapshot_s"],
            rss_mb=b["rss_mb"],
        )
        for b in built
    ]


def _operations(
    built: dict[str, Any], questions: Sequence[str], vectors: np.ndarray, k: int
) -> dict[str, Callable[[int], object]]:
    """The five timed operations on one size, named '<what> <size>'."""
    size, retriever, hnsw, collection = (
        built["size"],
        built["retriever"],
        built["hnsw"],
        built["collection"],
    )

    def query(i: int) -> object:
        return retriever.retrieve(questions[i], k)

    def search(i: int) -> object:
        return retriever.retrieve(questions[i], k, vectors[i])

    def hnsw_search(i: int) -> object:
        return hnsw.retrieve(questions[i], k, vectors[i])

    def chroma(i: int) -> object:
        return collection.query(query_embeddings=[vectors[i]], n_results=k)

    def knn(i: int) -> object:
        return collection.query(query_embeddings=[vectors[i]], n_results=k, include=["distances"])

    return {
        f"query {size}": query,
        f"search {size}": search,
        f"hnsw {size}": hnsw_search,
        f"chroma {size}": chroma,
        f"knn {size}": knn,
    }
