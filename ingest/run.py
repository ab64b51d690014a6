"""One ingest run: load the sources, chunk them, and sync the index.

Sources are files, folders and URLs (pages, sitemaps, feeds, WordPress APIs). Each source
owns the articles it brought in (their ``origin``): when a folder, sitemap or feed is read
whole again, its articles that are no longer there leave the index. Articles from other
sources are left alone, and so are articles whose source failed this time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest.chunk import chunk_article
from ingest.embed import Embedder
from ingest.errors import SourceError
from ingest.fetch import Fetcher, is_url, url_key
from ingest.glossary import dumps, read_glossary
from ingest.load import Loaded, load_paths, path_origin
from ingest.schema import ARTICLE, MODIFIED, ORIGIN, SOURCE, TITLE, URL, Article, Chunk
from ingest.settings import StoreSettings
from ingest.store import (
    IndexStatus,
    held_metadata,
    index_status,
    ingest_lock,
    store_glossary,
    sync_index,
)
from ingest.web import HeldPage, WebLoader


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


def load_sources(
    settings: StoreSettings,
    sources: Sequence[Path | str] | None = None,
    held: dict[str, dict[str, object]] | None = None,
    *,
    progress: bool = False,
) -> Loaded:
    """Read every source (default: the corpus folder); bad ones are skipped with a reason."""
    held = held or {}
    loaded = Loaded()
    if not sources:
        loaded.add(load_paths([settings.corpus_dir], settings.fetch_max_bytes))
        return loaded
    pages = {
        str(meta.get(SOURCE, "")): HeldPage(
            str(meta.get(ARTICLE, "")), str(meta.get(MODIFIED) or "")
        )
        for meta in held.values()
    }
    with Fetcher(settings) as fetcher:
        web = WebLoader(fetcher, pages, progress)
        for source in sources:
            text = str(source)
            if is_url(text):
                loaded.add(web.load(text))
            else:
                loaded.add(load_paths([Path(source)], settings.fetch_max_bytes))
    return loaded


def _title_key(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return " ".join(words) if len(words) >= 3 else ""


def _keys(slug: str, url: str, title: str) -> list[str]:
    """What makes two articles the same one: slug, canonical URL, title."""
    keys = [f"slug:{slug}"]
    if url:
        keys.append(f"url:{url_key(url)}")
    if _title_key(title):
        keys.append(f"title:{_title_key(title)}")
    return keys


def dedupe(articles: list[Article]) -> tuple[list[Article], list[SourceError]]:
    """One article per slug, canonical URL and title: the first source that brought it wins.

    The same article reached twice (a URL and a file, a trailing slash, tracking parameters)
    is silently indexed once; two different articles claiming one slug are reported.
    """
    kept: list[Article] = []
    conflicts: list[SourceError] = []
    seen: dict[str, Article] = {}
    for article in articles:
        keys = _keys(article.slug, article.url, article.title)
        first = next((seen[k] for k in keys if k in seen), None)
        if first is None:
            kept.append(article)
            seen.update(dict.fromkeys(keys, article))
        elif first.slug == article.slug and _title_key(first.title) != _title_key(article.title):
            conflicts.append(
                SourceError(article.source, f"same slug '{article.slug}' as {first.source}")
            )
    return kept, conflicts


def article_chunks(articles: list[Article]) -> list[Chunk]:
    return [
        replace(
            chunk,
            origin=article.origin,
            modified=article.modified,
            date=article.date,
            author=article.author,
            tags=", ".join(article.tags),
        )
        for article in articles
        for chunk in chunk_article(article)
    ]


def corpus_chunks(
    settings: StoreSettings, sources: Sequence[Path | str] | None = None
) -> tuple[list[Chunk], list[SourceError], list[str]]:
    loaded = load_sources(settings, sources)
    articles, conflicts = dedupe(loaded.articles)
    return article_chunks(articles), loaded.skipped + conflicts, [a.slug for a in articles]


def _replaced(held: dict[str, dict[str, object]], articles: list[Article]) -> set[str]:
    """Held articles that a loaded one under another slug is the same as: they make way."""
    held_keys: dict[str, str] = {}
    for meta in held.values():
        slug = str(meta.get(ARTICLE, ""))
        for key in _keys(slug, str(meta.get(URL) or ""), str(meta.get(TITLE) or "")):
            held_keys[key] = slug
    return {
        held_keys[key]
        for a in articles
        for key in _keys(a.slug, a.url, a.title)
        if held_keys.get(key, a.slug) != a.slug
    }


def _deletion_scope(
    held: dict[str, dict[str, object]], loaded: Loaded, articles: list[Article], default: str
) -> set[str]:
    """Articles whose stale chunks may go: those of the sources read whole, and those loaded,
    but not those kept as held (unchanged, or their page failed this time)."""
    loaded_slugs = {a.slug for a in articles}
    scope = set(loaded_slugs)
    keep = set(loaded.kept)
    for meta in held.values():
        slug = str(meta.get(ARTICLE, ""))
        if (str(meta.get(ORIGIN) or "") or default) in loaded.origins:
            scope.add(slug)
        if str(meta.get(SOURCE, "")) in loaded.failed:
            keep.add(slug)
    return (scope | _replaced(held, articles)) - (keep - loaded_slugs)


def run_ingest(
    settings: StoreSettings,
    sources: Sequence[Path | str] | None = None,
    *,
    embedder: Embedder | None = None,
    rebuild: bool = False,
    progress: bool = False,
) -> IngestReport:
    """Index ``sources`` (default: the corpus folder): files, folders, page, sitemap, feed
    and WordPress API URLs. Holds the data folder's ingest lock while it runs."""
    started = time.perf_counter()
    embedder = embedder or Embedder()
    with ingest_lock(settings.data_dir, settings.ingest_lock_wait):
        held = {} if rebuild else held_metadata(settings, embedder.stamp)
        loaded = load_sources(settings, sources, held, progress=progress)
        articles, conflicts = dedupe(loaded.articles)
        scope = _deletion_scope(held, loaded, articles, path_origin(settings.corpus_dir))
        result = sync_index(
            settings,
            article_chunks(articles),
            embedder,
            articles_in_scope=scope,
            rebuild=rebuild,
            progress=progress,
        )
        glossary_skipped = _sync_glossary(settings, sources)
    return IngestReport(
        articles=result.articles,
        chunks=result.chunks,
        embedded=result.embedded,
        deleted=result.deleted,
        skipped=loaded.skipped + conflicts + glossary_skipped,
        seconds=time.perf_counter() - started,
        rebuilt=result.rebuilt,
    )


def _sync_glossary(
    settings: StoreSettings, sources: Sequence[Path | str] | None
) -> list[SourceError]:
    """Store the corpus folder's glossary with the index when the run read that folder.
    A malformed glossary is skipped with one line; the one stored before stays."""
    corpus = settings.corpus_dir.resolve()
    if sources and not any(not is_url(str(s)) and Path(s).resolve() == corpus for s in sources):
        return []
    try:
        glossary = read_glossary(settings.corpus_dir)
    except SourceError as error:
        return [error]
    store_glossary(settings, dumps(glossary or {}))
    return []


def status(settings: StoreSettings, embedder: Embedder | None = None) -> IndexStatus:
    """What the index holds; stale when the corpus folder's articles differ from it."""
    embedder = embedder or Embedder()
    chunks, _, _ = corpus_chunks(settings)
    return index_status(
        settings, embedder.stamp, {c.id for c in chunks}, origins={path_origin(settings.corpus_dir)}
    )
