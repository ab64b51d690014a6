"""Find the passages that answer a question.

Retrievers share one small Protocol; ``make_retriever`` picks one by name. The dense
retriever reads the index through LangChain's Chroma integration, with the same embedder
(and model stamp) ingest wrote it with.
"""

from __future__ import annotations

from typing import Protocol

from langchain_chroma import Chroma
from langchain_core.documents import Document

from assistant.errors import BackendError, StaleIndexError
from assistant.settings import Settings
from assistant.types import Passage
from ingest.embed import Embedder
from ingest.schema import (
    ARTICLE,
    SECTION,
    TITLE,
    URL,
    collection_stamp,
    find_collection,
    open_client,
)


class Retriever(Protocol):
    def retrieve(
        self, query: str, k: int, query_vector: list[float] | None = None
    ) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first."""
        ...


def to_passage(doc: Document, rank: int, score: float) -> Passage:
    meta = doc.metadata
    return Passage(
        rank=rank,
        article=str(meta.get(ARTICLE, "")),
        title=str(meta.get(TITLE, "")),
        section=str(meta.get(SECTION, "")),
        text=doc.page_content,
        score=float(score),
        url=str(meta.get(URL, "")),
        chunk_id=str(doc.id or ""),
    )


def open_store(settings: Settings, embedder: Embedder) -> Chroma:
    """LangChain's Chroma over the index ingest wrote; refuses an index from another model."""
    client = open_client(settings)
    collection = find_collection(client, settings.collection)
    if collection is None or collection.count() == 0:
        raise StaleIndexError("The index is empty: run `python -m ingest` (or `make run`) first.")
    stamp = collection_stamp(collection)
    if stamp != embedder.stamp:
        raise StaleIndexError(
            f"The index was built with {stamp or 'an unknown model'}, not {embedder.stamp}: "
            "run `python -m ingest --rebuild`."
        )
    return Chroma(client=client, collection_name=settings.collection, embedding_function=embedder)


class DenseRetriever:
    """Cosine similarity of sentence embeddings, in Chroma."""

    def __init__(self, store: Chroma, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(
        self, query: str, k: int, query_vector: list[float] | None = None
    ) -> list[Passage]:
        vector = query_vector if query_vector is not None else self.embedder.embed_query(query)
        hits = self.store.similarity_search_by_vector_with_relevance_scores(vector, k=k)
        # Chroma returns cosine distance; 1 - distance is the cosine similarity.
        return [to_passage(doc, rank, 1.0 - dist) for rank, (doc, dist) in enumerate(hits, 1)]


RETRIEVERS = ("dense",)


def make_retriever(name: str, settings: Settings, embedder: Embedder) -> Retriever:
    match name:
        case "dense":
            return DenseRetriever(open_store(settings, embedder), embedder)
        case _:
            raise BackendError(f"unknown retriever '{name}': choose one of {', '.join(RETRIEVERS)}")
