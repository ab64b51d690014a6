"""Find the passages that answer a question.

Three retrievers, each a LangChain ``BaseRetriever`` (``k`` in the constructor and on
``invoke``) and each the assistant's ``Retriever`` (``retrieve`` -> ``Passage`` list):

- ``dense``: cosine similarity of sentence embeddings: an exact scan of the vectors held in
  memory for a blog-sized index, Chroma's HNSW index (ids only) above ``exact_search_max``;
- ``bm25``: BM25 (bm25s, its own tokenizer) over each passage's title, section and text;
  the author's glossary adds the articles' words for a reader's ("butt" -> glutes) to
  BM25's query only;
- ``hybrid`` (the default): both rankings' candidates fused by their scores, the cosine
  weighted against BM25's score scaled by the query's best (a convex score fusion).

All three collapse near-duplicate passages and give every passage the same ``score``: the
cosine similarity of the question and the passage, so one coverage threshold holds whatever
ranks them. ``make_retriever`` picks one by name, in one place.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import bm25s
import httpx
import numpy as np
from chromadb.errors import ChromaError, NotFoundError
from langchain_core.callbacks import CallbackManagerForRetrieverRun, Callbacks
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from assistant.errors import BackendError, StaleIndexError, StoreError
from assistant.glossary import Glossary
from assistant.settings import EXACT_SEARCH_MAX, Settings
from assistant.text import Vocabulary, bm25_tokens, content_stems, words
from assistant.types import Passage
from ingest.embed import Embedder
from ingest.schema import (
    ARTICLE,
    POSITION,
    SECTION,
    TITLE,
    URL,
    collection_generation,
    collection_glossary,
    collection_stamp,
    find_collection,
    open_client,
    read_all,
)

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

log = logging.getLogger(__name__)

RETRIEVERS = ("hybrid", "dense", "bm25")
BACKGROUND_REBUILD_ABOVE = 5_000  # passages (reading 10k measured 1.7-1.9 s)
RRF_C = 60  # a single ranking's fused_score, 1 / (60 + rank), as in rank fusion (Cormack 2009)
DENSE_WEIGHT = 4.0  # the hybrid's cosine weight before `eval calibrate` fits one
DUPLICATE_JACCARD = 0.9  # passages sharing this share of their words are one passage
STORE_UNAVAILABLE = "The article index is temporarily unavailable; please try again in a minute."


class Retriever(Protocol):
    def retrieve(
        self,
        query: str,
        k: int,
        query_vector: list[float] | None = None,
        callbacks: Callbacks = None,
        within: frozenset[str] | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first (``within``: these articles')."""
        ...

    def glossary(self) -> Glossary:
        """The author's glossary stored with the index; follows re-ingests."""
        ...

    def vocabulary(self) -> Vocabulary:
        """The words of the indexed passages, for typo correction; follows re-ingests."""
        ...

    def siblings(self, passages: list[Passage], limit: int) -> list[Passage]:
        """Passages beside ``passages`` in their lists (same article, same parent section)
        or under them, not among them, in the article's order: a list's other items."""
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
        position=int(meta.get(POSITION, -1)),
    )


@dataclass(frozen=True)
class Snapshot:
    """Every passage of the collection at one moment, with what lexical search needs."""

    ids: tuple[str, ...]
    docs: tuple[Document, ...]
    vectors: np.ndarray  # one normalised row per passage
    words: tuple[frozenset[str], ...]  # stems, for near-duplicate detection
    bm25: bm25s.BM25 | None
    vocabulary: Vocabulary
    position: dict[str, int]
    glossary: Glossary

    @classmethod
    def of(cls, collection: Collection) -> Snapshot:
        held = read_all(collection, ["documents", "metadatas", "embeddings"])
        ids = tuple(held["ids"])
        metas, texts = held["metadatas"], held["documents"]
        docs = tuple(
            Document(id=i, page_content=t or "", metadata=dict(m or {}))
            for i, t, m in zip(ids, texts, metas, strict=True)
        )
        embeddings = held["embeddings"]
        vectors = (
            np.vstack(embeddings).astype(np.float32, copy=False)
            if embeddings
            else np.zeros((0, 384), dtype=np.float32)
        )
        # Each passage's words are split once for near-duplicates (text) and typo
        # correction (all); BM25 tokenizes title, section and text with bm25s's tokenizer.
        content: list[frozenset[str]] = []
        vocabulary: set[str] = set()
        heads = [f"{d.metadata.get(TITLE, '')} {d.metadata.get(SECTION, '')}" for d in docs]
        for head, d in zip(heads, docs, strict=True):
            body = words(d.page_content)
            vocabulary.update(words(head), body)
            content.append(frozenset(content_stems(body)))
        bm25 = None
        if docs:
            tokens = bm25_tokens(
                [f"{h}\n{d.page_content}" for h, d in zip(heads, docs, strict=True)]
            )
            bm25 = bm25s.BM25()
            bm25.index([t or ["\x00"] for t in tokens], show_progress=False)
        return cls(
            ids=ids,
            docs=docs,
            vectors=vectors,
            words=tuple(content),
            bm25=bm25,
            vocabulary=Vocabulary(vocabulary),
            position={i: n for n, i in enumerate(ids)},
            glossary=Glossary.from_json(collection_glossary(collection)),
        )


class CorpusIndex:
    """The collection's passages, vectors and BM25 index, built once and kept.

    Every question checks the collection's generation token, which ingest renews after each
    change (one small read whatever the index's size, unlike ``count()``), and the
    collection's id (``ingest --rebuild`` makes a new one); the copy is rebuilt when either
    moved. An index written before generation tokens falls back to its count. Reading a big
    index takes seconds (18 s at 100k passages), so above ``background_above`` passages the
    old copy keeps answering while a thread reads the new one.
    """

    def __init__(self, client: ClientAPI, collection: Collection) -> None:
        self.client = client
        self.name = collection.name
        self.collection = collection
        self.background_above = BACKGROUND_REBUILD_ABOVE
        self._snapshot: Snapshot | None = None
        self._signal: tuple[str, str] | None = None
        self._rebuilding = False
        self._lock = threading.Lock()
        self.builds = 0  # how many times the index was (re)built

    def snapshot(self) -> Snapshot:
        with self._lock:
            try:
                current = self.client.get_collection(self.name, embedding_function=None)
            except NotFoundError:  # between `ingest --rebuild` deleting and re-creating it
                raise StoreError(STORE_UNAVAILABLE) from None
            token = collection_generation(current)
            signal = (str(current.id), token if token is not None else f"n={current.count()}")
            held, held_signal = self._snapshot, self._signal
            if held is not None and signal == held_signal:
                return held
            same_collection = held_signal is not None and held_signal[0] == signal[0]
            if held is not None and same_collection and len(held.ids) > self.background_above:
                if not self._rebuilding:
                    self._rebuilding = True
                    threading.Thread(
                        target=self._rebuild, args=(current, signal, held_signal), daemon=True
                    ).start()
                return held
            return self._install(current, signal, Snapshot.of(current))

    def _install(
        self, collection: Collection, signal: tuple[str, str], snapshot: Snapshot
    ) -> Snapshot:
        self.collection, self._signal, self._snapshot = collection, signal, snapshot
        self.builds += 1
        return snapshot

    def _rebuild(
        self, collection: Collection, signal: tuple[str, str], replaces: tuple[str, str] | None
    ) -> None:
        try:
            fresh = Snapshot.of(collection)
        except Exception as exc:  # the store went away: the next question tries again
            log.warning("re-reading the index failed, keeping the previous copy: %s", exc)
            fresh = None
        with self._lock:
            if fresh is not None and self._signal == replaces:  # not overtaken meanwhile
                self._install(collection, signal, fresh)
            self._rebuilding = False

    def nearest(self, vector: np.ndarray, n: int) -> list[str]:
        """Ids of the ``n`` nearest passages by Chroma's HNSW index: ids and distances only."""
        found = self.collection.query(query_embeddings=[vector], n_results=n, include=["distances"])
        return list(found["ids"][0]) if found["ids"] else []


@dataclass(frozen=True)
class Hit:
    index: int  # position in the snapshot
    cosine: float
    bm25: float
    fused: float


def top(scores: np.ndarray, n: int) -> list[int]:
    """Positions of the ``n`` highest scores, ties in position order: what a stable argsort
    gives, without sorting every score (an argpartition, then a sort of the few left)."""
    if n <= 0 or not len(scores):
        return []
    if n >= len(scores):
        return [int(i) for i in np.argsort(-scores, kind="stable")]
    kth = scores[np.argpartition(-scores, n - 1)[n - 1]]
    near = np.flatnonzero(scores >= kth)  # every tie at the boundary, in position order
    return [int(i) for i in near[np.argsort(-scores[near], kind="stable")][:n]]


class PassageRetriever(BaseRetriever):
    """Shared by the three retrievers: scoring, near-duplicates, LangChain and Passages."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    corpus: CorpusIndex = Field(description="The passages, their vectors and BM25 index.")
    embedder: Embedder = Field(description="The embedder the index was built with.")
    k: int = Field(5, ge=1, description="Passages returned.")
    fetch_k: int = Field(20, ge=1, description="Candidates each ranking offers before fusion.")
    exact_search_max: int = Field(
        EXACT_SEARCH_MAX,
        ge=0,
        description="Up to this many passages the dense ranking is an exact scan of the "
        "vectors in memory; above it, Chroma's HNSW index (docs/benchmarks.md).",
    )

    def _order(
        self,
        snap: Snapshot,
        vector: np.ndarray,
        lexical: np.ndarray,
        n: int,
        mask: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """(snapshot position, fused score) best first; the retriever's own ranking
        (``mask``: only these passages may rank)."""
        raise NotImplementedError

    def _dense(
        self, snap: Snapshot, vector: np.ndarray, n: int, mask: np.ndarray | None = None
    ) -> list[int]:
        if mask is not None:  # a few articles' passages: an exact scan of those alone
            inside = np.flatnonzero(mask)
            return [int(inside[i]) for i in top(snap.vectors[inside] @ vector, n)]
        if len(snap.ids) <= self.exact_search_max:
            return top(snap.vectors @ vector, n)
        nearest = self.corpus.nearest(vector, n)
        return [snap.position[i] for i in nearest if i in snap.position]

    @staticmethod
    def _lexical(lexical: np.ndarray, n: int) -> list[int]:
        """The ``n`` best BM25 positions, leaving out passages sharing no word with the query."""
        return [i for i in top(lexical, n) if lexical[i] > 0]

    def hits(
        self,
        query: str,
        k: int,
        query_vector: list[float] | None = None,
        snap: Snapshot | None = None,
        within: frozenset[str] | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages (``within``: of these articles only)."""
        snap = snap or self.corpus.snapshot()
        if not snap.ids:
            return []
        query = snap.vocabulary.rewrite(query)
        vector = np.asarray(
            query_vector if query_vector is not None else self.embedder.embed_query(query),
            dtype=np.float32,
        )
        # BM25 hears the reader's words and the glossary's words for them
        terms = bm25_tokens([f"{query} {snap.glossary.expansion(query)}"])[0]
        # (empty for 'hello' or punctuation: bm25s cannot score that)
        bm25 = (
            np.asarray(snap.bm25.get_scores(terms))
            if snap.bm25 is not None and terms
            else np.zeros(len(snap.ids), dtype=np.float32)
        )
        mask = None
        if within:
            mask = np.array([str(d.metadata.get(ARTICLE, "")) in within for d in snap.docs])
            bm25 = np.where(mask, bm25, 0.0)
        ordered = self._order(snap, vector, bm25, max(self.fetch_k, 4 * k), mask)
        out: list[Hit] = []
        for index, fused in ordered:
            words = snap.words[index]
            if any(_jaccard(words, snap.words[h.index]) >= DUPLICATE_JACCARD for h in out):
                continue  # a near-duplicate of a better passage
            cosine = float(snap.vectors[index] @ vector)
            out.append(Hit(index, cosine, float(bm25[index]), fused))
            if len(out) == k:
                break
        return out

    def retrieve(
        self,
        query: str,
        k: int,
        query_vector: list[float] | None = None,
        callbacks: Callbacks = None,
        within: frozenset[str] | None = None,
    ) -> list[Passage]:
        """Through LangChain's ``invoke``, so callback handlers and tracing see the run."""
        try:
            docs = self.invoke(
                query,
                config={"callbacks": callbacks},
                k=k,
                query_vector=query_vector,
                within=within,
            )
        except (httpx.TransportError, ChromaError) as exc:  # the Chroma server went away
            raise StoreError(STORE_UNAVAILABLE) from exc
        return [to_passage(d, rank, d.metadata["dense_score"]) for rank, d in enumerate(docs, 1)]

    def glossary(self) -> Glossary:
        try:
            return self.corpus.snapshot().glossary
        except (httpx.TransportError, ChromaError) as exc:  # the Chroma server went away
            raise StoreError(STORE_UNAVAILABLE) from exc

    def vocabulary(self) -> Vocabulary:
        try:
            return self.corpus.snapshot().vocabulary
        except (httpx.TransportError, ChromaError) as exc:  # the Chroma server went away
            raise StoreError(STORE_UNAVAILABLE) from exc

    def siblings(self, passages: list[Passage], limit: int) -> list[Passage]:
        # "small-to-big" context: LangChain's ParentDocumentRetriever needs a second store
        # of parents; the section path already says which passages form one list.
        try:
            snap = self.corpus.snapshot()
        except (httpx.TransportError, ChromaError) as exc:
            raise StoreError(STORE_UNAVAILABLE) from exc
        held = {p.chunk_id for p in passages}
        wanted = {(p.article, _parent(p.section)) for p in passages if _parent(p.section)}
        wanted |= {(p.article, p.section) for p in passages if p.section}  # its own items
        found = [
            d
            for d in snap.docs
            if d.id not in held
            and (str(d.metadata.get(ARTICLE, "")), _parent(str(d.metadata.get(SECTION, ""))))
            in wanted
        ]
        found.sort(
            key=lambda d: (str(d.metadata.get(ARTICLE, "")), int(d.metadata.get(POSITION, 0)))
        )
        rank = len(passages)
        out = []
        for d in found[:limit]:
            rank += 1
            out.append(to_passage(d, rank, 0.0))  # context, not a search result: no score
        return out

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        snap = self.corpus.snapshot()
        docs = []
        k = int(kwargs.get("k") or self.k)
        for h in self.hits(
            query, k, kwargs.get("query_vector"), snap=snap, within=kwargs.get("within")
        ):
            doc = snap.docs[h.index]
            scores = {"dense_score": h.cosine, "bm25_score": h.bm25, "fused_score": h.fused}
            docs.append(
                Document(id=doc.id, page_content=doc.page_content, metadata=doc.metadata | scores)
            )
        return docs


def _parent(section: str) -> str:
    return section.rsplit(" > ", 1)[0] if " > " in section else ""


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


class DenseRetriever(PassageRetriever):
    """Cosine similarity of sentence embeddings, in Chroma."""

    def _order(
        self,
        snap: Snapshot,
        vector: np.ndarray,
        lexical: np.ndarray,
        n: int,
        mask: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        ranked = self._dense(snap, vector, n, mask)
        return [(i, 1.0 / (RRF_C + r)) for r, i in enumerate(ranked, 1)]


class BM25Retriever(PassageRetriever):
    """BM25 over stemmed words; passages sharing no word with the question are not returned."""

    def _order(
        self,
        snap: Snapshot,
        vector: np.ndarray,
        lexical: np.ndarray,
        n: int,
        mask: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        return [(i, 1.0 / (RRF_C + r)) for r, i in enumerate(self._lexical(lexical, n), 1)]


class HybridRetriever(PassageRetriever):
    """Dense and BM25 candidates (the top ``fetch_k`` of each) fused by score:
    ``dense_weight * cosine + BM25 / the query's best BM25``.

    A convex score fusion, not reciprocal rank fusion: ranks throw away how far apart two
    passages are, and on thirteen blogs' labelled questions (docs/retrieval.md) the scores
    ranked the evidence higher (MRR 0.803 at the fitted weight 3, RRF's 0.776) and beat both rankings
    alone on every blog. BM25 is scaled by its best score for the query (its raw scale
    changes with the query's length); the cosine is already on one scale."""

    dense_weight: float = Field(
        DENSE_WEIGHT, ge=0, description="Weight of the cosine against the scaled BM25's 1."
    )

    def _order(
        self,
        snap: Snapshot,
        vector: np.ndarray,
        lexical: np.ndarray,
        n: int,
        mask: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        lexical_top = self._lexical(lexical, n)
        pool = list(dict.fromkeys(self._dense(snap, vector, n, mask) + lexical_top))
        best = float(lexical[lexical_top[0]]) if lexical_top else 1.0
        cosines = snap.vectors[pool] @ vector
        fused = [
            (i, self.dense_weight * float(c) + float(lexical[i]) / best)
            for i, c in zip(pool, cosines, strict=True)
        ]
        return sorted(fused, key=lambda item: item[1], reverse=True)


def open_index(settings: Settings, embedder: Embedder) -> CorpusIndex:
    """The index ingest wrote, ready to read; refuses an index from another model."""
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
    return CorpusIndex(client, collection)


_CLASSES: dict[str, type[PassageRetriever]] = {
    "hybrid": HybridRetriever,
    "dense": DenseRetriever,
    "bm25": BM25Retriever,
}


def make_retriever(
    name: str, settings: Settings, embedder: Embedder, dense_weight: float | None = None
) -> PassageRetriever:
    """The retriever called ``name``: 'hybrid', 'dense' or 'bm25'. The hybrid's dense
    weight: the setting when given, else ``dense_weight`` (the calibrated one), else
    ``DENSE_WEIGHT``."""
    if name not in _CLASSES:
        raise BackendError(f"unknown retriever '{name}': choose one of {', '.join(RETRIEVERS)}")
    weight = settings.hybrid_dense_weight
    if weight is None:
        weight = dense_weight if dense_weight is not None else DENSE_WEIGHT
    extra = {"dense_weight": weight} if name == "hybrid" else {}
    return _CLASSES[name](
        corpus=open_index(settings, embedder),
        embedder=embedder,
        k=settings.k,
        exact_search_max=settings.exact_search_max,
        **extra,
    )
