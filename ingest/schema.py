"""The contract between ingest (the only writer) and the assistant (a reader).

The metadata keys stored with each chunk, the model stamp, and how to open the Chroma
collection; the nouns (``Article``, ``Chunk``, ``Passage``, ``Answer`` ...) are in
``ingest.types``. The assistant imports these modules and ``ingest.embed`` only.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from ingest.errors import StoreError
from ingest.settings import StoreSettings

# The nouns live in ingest/types.py; importable from here too.
from ingest.types import Article as Article
from ingest.types import Chunk as Chunk

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

# Metadata keys stored with every chunk.
ARTICLE = "article"  # the article's slug
TITLE = "title"
SECTION = "section"  # "Heading > Sub-heading > List item lead"
URL = "url"
POSITION = "position"  # order of the chunk in its article
SOURCE = "source"  # where the article was read from
ARTICLE_HASH = "article_hash"  # hash of the whole article, to spot edits cheaply
ORIGIN = "origin"  # the source the run was given: a folder, a sitemap or feed URL, a page URL
MODIFIED = "modified"  # the lastmod/updated/modified the listing gave, to skip refetching
DATE = "date"  # published, YYYY-MM-DD when known
AUTHOR = "author"
TAGS = "tags"  # comma-separated

# Collection metadata: the embedding model the vectors were made with, and a token ingest
# renews after every change, so a reader can tell the index moved with one small read.
MODEL_STAMP = "embedding_model"
GENERATION = "generation"
GLOSSARY = "glossary"  # the author's glossary as JSON (ingest/glossary.py)


_client_lock = threading.Lock()  # chromadb's client cache is not safe to fill from two threads


def open_client(settings: StoreSettings) -> ClientAPI:
    """The Chroma client the settings ask for: embedded in ``data_dir`` or a server."""
    with _client_lock:
        return _open_client(settings)


def _open_client(settings: StoreSettings) -> ClientAPI:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
        path = settings.data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:  # chromadb raises many kinds; the reader needs one line
        where = (
            f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else f"the index in {settings.data_dir / 'chroma'}"
        )
        raise StoreError(f"cannot open {where}: {exc}") from exc


def find_collection(client: ClientAPI, name: str) -> Collection | None:
    """The collection, or None when it does not exist yet. Never attaches an embedding function."""
    if name not in {c if isinstance(c, str) else c.name for c in client.list_collections()}:
        return None
    return client.get_collection(name, embedding_function=None)


READ_PAGE = 5_000  # rows per get(): one get of more than ~32k rows' metadata fails in SQLite


def read_all(collection: Collection, include: list[str]) -> dict[str, list[Any]]:
    """Every row of the collection: ``ids`` and each field of ``include``, read a page at a
    time (a single ``get`` of a 100k-chunk index fails with "too many SQL variables")."""
    out: dict[str, list[Any]] = {"ids": [], **{name: [] for name in include}}
    offset = 0
    while True:
        page = collection.get(include=include, limit=READ_PAGE, offset=offset)  # type: ignore[arg-type]
        ids = page["ids"]
        out["ids"] += ids
        for name in include:
            values = page[name]  # type: ignore[literal-required]
            out[name] += list(values) if values is not None else [None] * len(ids)
        if len(ids) < READ_PAGE:
            return out
        offset += len(ids)


def collection_stamp(collection: Collection) -> Any:
    return (collection.metadata or {}).get(MODEL_STAMP)


def collection_generation(collection: Collection) -> str | None:
    """The token of the last ingest that changed the collection (None before the first)."""
    token = (collection.metadata or {}).get(GENERATION)
    return None if token is None else str(token)


def collection_glossary(collection: Collection) -> str:
    """The glossary stored with the index, as JSON ("" when none)."""
    return str((collection.metadata or {}).get(GLOSSARY) or "")


def glossary_from_json(text: object) -> dict[str, list[str]]:
    """The glossary stored with an index (empty when none or unreadable): readers' words
    to the articles' words, as ``ingest/glossary.py`` wrote it."""
    import json

    if not isinstance(text, str) or not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): [str(t) for t in v] for k, v in data.items() if isinstance(v, list)}
