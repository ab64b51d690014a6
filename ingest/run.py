"""One ingest run: load the sources, chunk them, and sync the index."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunk import chunk_article
from ingest.embed import Embedder
from ingest.errors import SourceError
from ingest.load import load_paths
from ingest.schema import Chunk
from ingest.settings import StoreSettings
from ingest.store import IndexStatus, index_status, sync_index


@dataclass
class IngestReport:
    articles: int
    chunks: int
    embedded: int
    deleted: int
    skipped: list[SourceError] = field(default_factory=list)
    seconds: float = 0.0
    rebuilt: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "articles": self.articles,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "deleted": self.deleted,
            "skipped": [{"source": s.source, "reason": s.reason} for s in self.skipped],
            "seconds": round(self.seconds, 3),
        }


def corpus_chunks(
    settings: StoreSettings, sources: list[Path] | None = None
) -> tuple[list[Chunk], list[SourceError], list[str]]:
    loaded = load_paths(sources or [settings.corpus_dir])
    chunks = [chunk for article in loaded.articles for chunk in chunk_article(article)]
    return chunks, loaded.skipped, [a.slug for a in loaded.articles]


def run_ingest(
    settings: StoreSettings,
    sources: list[Path] | None = None,
    *,
    embedder: Embedder | None = None,
    rebuild: bool = False,
    progress: bool = False,
) -> IngestReport:
    """Index ``sources`` (default: the corpus folder, as the whole index).

    With the corpus folder, articles no longer in it are removed from the index. With
    explicit sources, only those articles are added or updated.
    """
    started = time.perf_counter()
    embedder = embedder or Embedder()
    chunks, skipped, slugs = corpus_chunks(settings, sources)
    whole_corpus = not sources
    # A file that failed to load keeps its old chunks: its slug is unknown, so it is never
    # in scope for deletion unless the whole corpus is synced and it is gone.
    skipped_sources = {s.source for s in skipped}
    scope: list[str] | None = None if whole_corpus else slugs
    if whole_corpus and skipped_sources:
        scope = _keep_skipped_articles(settings, embedder, slugs, skipped_sources)
    result = sync_index(
        settings, chunks, embedder, articles_in_scope=scope, rebuild=rebuild, progress=progress
    )
    return IngestReport(
        articles=result.articles,
        chunks=result.chunks,
        embedded=result.embedded,
        deleted=result.deleted,
        skipped=skipped,
        seconds=time.perf_counter() - started,
        rebuilt=result.rebuilt,
    )


def _keep_skipped_articles(
    settings: StoreSettings, embedder: Embedder, slugs: list[str], skipped_sources: set[str]
) -> list[str]:
    """Articles in scope for deletion: all held ones except those read from a skipped file."""
    from ingest.schema import ARTICLE, SOURCE, find_collection, open_client

    collection = find_collection(open_client(settings), settings.collection)
    if collection is None:
        return slugs
    held = collection.get(include=["metadatas"])["metadatas"] or []
    keep = {str(m.get(ARTICLE)) for m in held if m and str(m.get(SOURCE)) in skipped_sources}
    return sorted({str(m.get(ARTICLE)) for m in held if m} - keep | set(slugs))


def status(settings: StoreSettings, embedder: Embedder | None = None) -> IndexStatus:
    embedder = embedder or Embedder()
    chunks, _, _ = corpus_chunks(settings)
    return index_status(settings, embedder.stamp, {c.id for c in chunks})
