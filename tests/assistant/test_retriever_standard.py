"""LangChain's own standard tests for retrievers, run on each of ours over the real index."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from assistant.retrieve import (
    BM25Retriever,
    DenseRetriever,
    HybridRetriever,
    open_index,
)
from assistant.settings import Settings
from ingest.embed import Embedder

# The standard suite's async test needs an event loop, and the suite may not be overridden:
# so this module's tests are marked asyncio (the rest of the suite stays in strict mode),
# and pytest-asyncio's note that the sync ones need no loop is silenced.
pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.filterwarnings("ignore:.*marked with '@pytest.mark.asyncio' but it is not an"),
]


class _OverTheIndex(RetrieversIntegrationTests):
    """Constructor arguments come from the session's real index (set before each test)."""

    params: dict[str, Any]

    @pytest.fixture(autouse=True)
    def _index(self, indexed_settings: Settings, embedder: Embedder) -> None:
        self.params = {"corpus": open_index(indexed_settings, embedder), "embedder": embedder}

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return self.params

    @property
    def retriever_query_example(self) -> str:
        return "which exercises strengthen the glutes and the hip rotators?"


class TestHybridRetrieverStandard(_OverTheIndex):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return HybridRetriever


class TestDenseRetrieverStandard(_OverTheIndex):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return DenseRetriever


class TestBM25RetrieverStandard(_OverTheIndex):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return BM25Retriever


def test_hybrid_documents_carry_both_scores(indexed_settings: Settings, embedder: Embedder) -> None:
    retriever = HybridRetriever(corpus=open_index(indexed_settings, embedder), embedder=embedder)
    docs = retriever.invoke("glute bridges and hip thrusts", k=2)
    assert len(docs) == 2
    assert "Glute Bridges" in docs[0].page_content
    meta = docs[0].metadata
    assert meta["bm25_score"] > 0
    assert -1.0 <= meta["dense_score"] <= 1.0
    assert meta["fused_score"] >= docs[1].metadata["fused_score"]
