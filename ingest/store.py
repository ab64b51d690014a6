"""The one writer of the index: add new chunks, delete stale ones, stamp the model.

Chunk ids are content hashes, so the index itself is the record of what is stored: a re-run
embeds only ids it does not hold yet and deletes only ids no article produces any more.
New chunks are written before stale ones are deleted, so a reader never sees an article
missing, and a killed run leaves nothing a re-run does not mend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tqdm import tqdm

from ingest.embed import Embedder
from ingest.errors import StoreError
from ingest.schema import (
    ARTICLE,
    MODEL_STAMP,
    Chunk,
    collection_stamp,
    find_collection,
    open_client,
)
from ingest.settings import StoreSettings

BATCH = 128


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
        held = collection.get(include=["metadatas"])
    except Exception as exc:
        raise StoreError(f"cannot read the index: {exc}") from exc
    held_article = {
        id_: str((meta or {}).get(ARTICLE, ""))
        for id_, meta in zip(held["ids"], held["metadatas"] or [], strict=False)
    }
    scope = None if articles_in_scope is None else set(articles_in_scope)
    wanted = {c.id for c in chunks}
    new = [c for c in chunks if c.id not in held_article]
    stale = [
        id_
        for id_, article in held_article.items()
        if id_ not in wanted and (scope is None or article in scope)
    ]

    with tqdm(
        total=len(new), desc="embedding", unit="chunk", disable=not progress or len(new) < BATCH
    ) as bar:
        for start in range(0, len(new), BATCH):
            batch = new[start : start + BATCH]
            vectors = embedder.encode([c.embedding_text for c in batch])
            collection.upsert(
                ids=[c.id for c in batch],
                embeddings=vectors,
                documents=[c.text for c in batch],
                metadatas=[c.metadata() for c in batch],
            )
            bar.update(len(batch))
    for start in range(0, len(stale), 1000):
        collection.delete(ids=stale[start : start + 1000])

    total = collection.count()
    articles = len(
        {*(a for i, a in held_article.items() if i not in stale), *(c.article for c in new)}
    )
    return SyncResult(articles, total, len(new), len(stale), rebuilt)


def index_status(
    settings: StoreSettings, embedder_stamp: str, expected_ids: set[str] | None = None
) -> IndexStatus:
    """What the index holds; ``stale`` when its model or its chunks differ from the expected."""
    client = open_client(settings)
    collection = find_collection(client, settings.collection)
    if collection is None:
        return IndexStatus(0, 0, "", settings.store_kind, True)
    held = collection.get(include=["metadatas"])
    articles = {str((m or {}).get(ARTICLE, "")) for m in held["metadatas"] or []}
    stamp = str(collection_stamp(collection) or "")
    return IndexStatus(
        articles=len(articles),
        chunks=len(held["ids"]),
        model=stamp,
        store=settings.store_kind,
        stale=stamp != embedder_stamp
        or not held["ids"]
        or (expected_ids is not None and expected_ids != set(held["ids"])),
    )
