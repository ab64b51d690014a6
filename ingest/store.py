"""The one writer of the index: add new chunks, delete stale ones, stamp the model.

Chunk ids are content hashes, so the index itself is the record of what is stored: a re-run
embeds only ids it does not hold yet and deletes only ids no article produces any more.
An article's new chunks go in one upsert (a reader sees all of them or none), and only then
are its stale chunks deleted, so a reader never sees an article missing or half-written, and
a killed run leaves nothing a re-run does not mend. One ingest at a time writes: the lock
file ``ingest.lock`` in the data folder (released by the OS when the process dies).
New chunks are embedded ``embed_group`` at a time (one length-sorted plan) and written
``BATCH`` at a time; a run that changed anything ends by renewing the collection's generation
token, which is how a running app knows to re-read the index.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from ingest.embed import Embedder
from ingest.errors import StoreError
from ingest.schema import (
    ARTICLE,
    GENERATION,
    GLOSSARY,
    MODEL_STAMP,
    ORIGIN,
    URL,
    Chunk,
    collection_stamp,
    find_collection,
    open_client,
    read_all,
)
from ingest.settings import StoreSettings

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

BATCH = 1024  # most chunks per upsert (whole articles, never split; 0.54 -> 0.41 s for 611 vs 128)
PROGRESS_FROM = 128  # new chunks from which `python -m ingest` shows a progress bar
LOCK_FILE = "ingest.lock"


class IngestBusyError(StoreError):
    """Another ingest is writing the same index."""


@contextlib.contextmanager
def ingest_lock(data_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the data folder's ingest lock; wait up to ``wait`` seconds for another holder."""
    path = data_dir / LOCK_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as exc:  # a read-only or full data folder, or no permission
        raise StoreError(f"cannot write to the data folder {data_dir}: {exc.strerror}") from exc
    with handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "?"
                    raise IngestBusyError(
                        f"another ingest (pid {holder}) is writing the index in {data_dir}: "
                        "run again when it ends, or pass --wait SECONDS"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class SyncResult:
    articles: int
    chunks: int
    embedded: int
    deleted: int
    rebuilt: bool


@dataclass(frozen=True)
class IndexStatus:
    articles: int
    chunks: int
    model: str
    store: str
    stale: bool
    without_url: tuple[str, ...] = ()  # slugs of articles with no url (the app serves them)


def _open_for_writing(settings: StoreSettings, embedder: Embedder, rebuild: bool):
    client = open_client(settings)
    existing = find_collection(client, settings.collection)
    rebuilt = False
    if existing is not None and (rebuild or collection_stamp(existing) != embedder.stamp):
        client.delete_collection(settings.collection)
        rebuilt = True
    collection = client.get_or_create_collection(
        settings.collection,
        metadata={MODEL_STAMP: embedder.stamp},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=None,  # never Chroma's own model
    )
    return collection, rebuilt


def sync_index(
    settings: StoreSettings,
    chunks: list[Chunk],
    embedder: Embedder,
    *,
    articles_in_scope: Iterable[str] | None = None,
    rebuild: bool = False,
    progress: bool = False,
) -> SyncResult:
    """Make the index hold exactly ``chunks`` for the articles in scope.

    ``articles_in_scope=None`` means the whole index: any article not among ``chunks`` is
    removed. Otherwise only chunks of the named articles may be deleted.
    """
    collection, rebuilt = _open_for_writing(settings, embedder, rebuild)
    try:
        held = read_all(collection, ["metadatas"])
    except Exception as exc:
        raise StoreError(f"cannot read the index: {exc}") from exc
    held_meta = {
        id_: dict(meta or {})
        for id_, meta in zip(held["ids"], held["metadatas"] or [], strict=False)
    }
    held_article = {id_: str(meta.get(ARTICLE, "")) for id_, meta in held_meta.items()}
    scope = None if articles_in_scope is None else set(articles_in_scope)
    wanted = {c.id for c in chunks}
    new = [c for c in chunks if c.id not in held_meta]
    stale: dict[str, list[str]] = {}
    for id_, article in held_article.items():
        if id_ not in wanted and (scope is None or article in scope):
            stale.setdefault(article, []).append(id_)
    stale_ids = {id_ for ids in stale.values() for id_ in ids}
    relabelled = [c for c in chunks if c.id in held_meta and held_meta[c.id] != c.metadata()]

    with tqdm(
        total=len(new),
        desc="embedding",
        unit="chunk",
        disable=not progress or len(new) < PROGRESS_FROM,
    ) as bar:
        for group in _whole_articles(new, settings.embed_group):
            vectors = embedder.encode_passages([c.embedding_text for c in group])
            row = {c.id: n for n, c in enumerate(group)}
            for batch in _whole_articles(group, BATCH):
                collection.upsert(
                    ids=[c.id for c in batch],
                    embeddings=vectors[[row[c.id] for c in batch]],
                    documents=[c.text for c in batch],
                    metadatas=[c.metadata() for c in batch],
                )
                # Only now that the new version is whole, its stale chunks go.
                done = [
                    id_ for a in dict.fromkeys(c.article for c in batch) for id_ in stale.pop(a, [])
                ]
                if done:
                    collection.delete(ids=done)
                bar.update(len(batch))
    rest = [id_ for ids in stale.values() for id_ in ids]  # articles gone altogether
    for start in range(0, len(rest), 1000):
        collection.delete(ids=rest[start : start + 1000])
    for start in range(0, len(relabelled), 1000):  # same text, new metadata (origin, lastmod)
        part = relabelled[start : start + 1000]
        collection.update(ids=[c.id for c in part], metadatas=[c.metadata() for c in part])
    if new or stale_ids or relabelled or rebuilt:
        _renew_generation(collection)

    total = collection.count()
    articles = {a for i, a in held_article.items() if i not in stale_ids} | {c.article for c in new}
    return SyncResult(len(articles), total, len(new), len(stale_ids), rebuilt)


def store_glossary(settings: StoreSettings, glossary_json: str) -> bool:
    """Keep ``glossary_json`` with the index; True when it changed (readers then re-read)."""
    collection = find_collection(open_client(settings), settings.collection)
    if collection is None or (collection.metadata or {}).get(GLOSSARY, "") == glossary_json:
        return False
    metadata = dict(collection.metadata or {})
    metadata[GLOSSARY] = glossary_json
    collection.modify(metadata=metadata)
    _renew_generation(collection)
    return True


def _renew_generation(collection: Collection) -> None:
    """Tell readers the index moved: they rebuild their copy when this token changes."""
    metadata = dict(collection.metadata or {})
    metadata[GENERATION] = uuid.uuid4().hex
    collection.modify(metadata=metadata)


def _whole_articles(chunks: list[Chunk], size: int) -> Iterator[list[Chunk]]:
    """Batches of about ``size`` chunks that never split an article."""
    by_article: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_article.setdefault(chunk.article, []).append(chunk)
    batch: list[Chunk] = []
    for article_chunks in by_article.values():
        if batch and len(batch) + len(article_chunks) > size:
            yield batch
            batch = []
        batch += article_chunks
    if batch:
        yield batch


def held_metadata(settings: StoreSettings, embedder_stamp: str) -> dict[str, dict[str, object]]:
    """Every chunk's metadata by id; empty when there is no index or it is from another model
    (it will be rebuilt, so nothing it holds counts)."""
    collection = find_collection(open_client(settings), settings.collection)
    if collection is None or collection_stamp(collection) != embedder_stamp:
        return {}
    try:
        held = read_all(collection, ["metadatas"])
    except Exception as exc:
        raise StoreError(f"cannot read the index: {exc}") from exc
    return {
        id_: dict(meta or {})
        for id_, meta in zip(held["ids"], held["metadatas"] or [], strict=False)
    }


def index_status(
    settings: StoreSettings,
    embedder_stamp: str,
    expected_ids: set[str] | None = None,
    origins: set[str] | None = None,
) -> IndexStatus:
    """What the index holds; ``stale`` when its model or its chunks differ from the expected.

    With ``origins``, only chunks that came from those sources (or from an index written
    before origins were recorded) are compared with ``expected_ids``.
    """
    client = open_client(settings)
    collection = find_collection(client, settings.collection)
    if collection is None:
        return IndexStatus(0, 0, "", settings.store_kind, True)
    held = read_all(collection, ["metadatas"])
    metas = [m or {} for m in held["metadatas"] or []]
    articles = {str(m.get(ARTICLE, "")) for m in metas}
    compared = {
        id_
        for id_, m in zip(held["ids"], metas, strict=False)
        if origins is None or str(m.get(ORIGIN) or "") in origins | {""}
    }
    stamp = str(collection_stamp(collection) or "")
    linked = {str(m.get(ARTICLE, "")) for m in metas if m.get(URL)}
    return IndexStatus(
        articles=len(articles),
        chunks=len(held["ids"]),
        model=stamp,
        store=settings.store_kind,
        stale=stamp != embedder_stamp
        or not held["ids"]
        or (expected_ids is not None and expected_ids != compared),
        without_url=tuple(sorted(articles - linked - {""})),
    )
