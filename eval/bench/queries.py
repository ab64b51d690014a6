"""Question-time figures on the real corpus: the floor, warm ``Assistant.ask``, the baselines.

The floor is what no answer can beat on this machine: embedding the question once and one
Chroma k-nearest query. The baselines are what a reader's developer might use instead:
LangChain's ``Chroma.similarity_search`` (embeds and searches) and BM25 alone (bm25s).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.pipeline import Assistant
from assistant.settings import Settings
from eval.bench.timing import Stats, stats, time_interleaved
from ingest.embed import Embedder
from ingest.schema import find_collection, open_client


@dataclass(frozen=True)
class QueryFigures:
    embed: Stats
    embed_1_thread: Stats
    search: Stats
    ask: Stats
    ask_first: Stats  # each question asked for the first time (cold per-passage caches)
    langchain: Stats
    bm25: Stats
    bm25_build_ms: float
    kinds: dict[str, int]

    @property
    def floor_p50_ms(self) -> float:
        return self.embed.p50_ms + self.search.p50_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "embed": self.embed.to_dict(),
            "embed_1_thread": self.embed_1_thread.to_dict(),
            "search": self.search.to_dict(),
            "ask": self.ask.to_dict(),
            "ask_first": self.ask_first.to_dict(),
            "langchain_similarity_search": self.langchain.to_dict(),
            "bm25": self.bm25.to_dict(),
            "bm25_build_ms": round(self.bm25_build_ms, 3),
            "answer_kinds": self.kinds,
        }


def measure_queries(
    settings: Settings, embedder: Embedder, questions: Sequence[str], *, rounds: int
) -> QueryFigures:
    model = embedder.model
    client = open_client(settings)
    collection = find_collection(client, settings.collection)
    if collection is None:
        raise RuntimeError("the bench index was not built")
    vectors = embedder.encode(list(questions))

    # The assistant, warm: one model, one index, caches filled by a first pass.
    assistant = Assistant(settings, embedder=embedder)
    first: list[float] = []
    kinds: dict[str, int] = {}
    for q in questions:
        started = time.perf_counter()
        answer = assistant.ask(q)
        first.append((time.perf_counter() - started) * 1000)
        kinds[str(answer.kind.value)] = kinds.get(str(answer.kind.value), 0) + 1

    from langchain_chroma import Chroma

    store = Chroma(client=client, collection_name=settings.collection, embedding_function=embedder)
    bm25_search, build_ms = _bm25(collection, settings.k)
    k = settings.k

    def embed_one_thread(i: int) -> object:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return model.encode([questions[i]], normalize_embeddings=True, convert_to_numpy=True)
        finally:
            torch.set_num_threads(threads)

    operations: dict[str, Callable[[int], object]] = {
        # The floor: one question embedded, alone; one k-NN query, alone.
        "embed": lambda i: model.encode(
            [questions[i]], normalize_embeddings=True, convert_to_numpy=True
        ),
        # What a question costs with one torch thread (a tiny batch: no sync barriers).
        "embed_1_thread": embed_one_thread,
        "search": lambda i: collection.query(query_embeddings=[vectors[i]], n_results=k),
        "ask": lambda i: assistant.ask(questions[i]),
        # The baselines.
        "langchain": lambda i: store.similarity_search(questions[i], k=k),
        "bm25": lambda i: bm25_search(questions[i]),
    }
    for operation in operations.values():  # warm-up: the asks above warmed the model already
        for i in range(min(5, len(questions))):
            operation(i)
    timed = time_interleaved(operations, range(len(questions)), rounds=rounds, warmup=0)
    return QueryFigures(
        timed["embed"],
        timed["embed_1_thread"],
        timed["search"],
        timed["ask"],
        stats(first),
        timed["langchain"],
        timed["bm25"],
        build_ms,
        kinds,
    )


def _bm25(collection: Any, k: int) -> tuple[Callable[[str], object], float]:
    """A bm25s index of the passages (stemmed, English stop words); its search, build time."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    documents = list(collection.get(include=["documents"])["documents"] or [])
    started = time.perf_counter()
    retriever = bm25s.BM25()
    tokens = bm25s.tokenize(documents, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever.index(tokens, show_progress=False)
    build_ms = (time.perf_counter() - started) * 1000
    top = min(k, len(documents))

    def search(question: str) -> object:
        query = bm25s.tokenize(
            [question], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
        )
        return retriever.retrieve(query, k=top, show_progress=False)

    return search, build_ms
