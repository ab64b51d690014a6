"""The indexed articles, as the index's metadata describes them (read-only).

- ``read_catalog(source) -> list[ArticleInfo]``: every indexed article (slug, title, url, date,
  tags, top-level section headings), newest first, then by title. ``source`` is the ``Settings``
  (the store they name is opened) or an open Chroma ``Collection``. No index yet: ``[]``.
- ``read_article(source, slug) -> ArticleText | None``: one article's passages in reading
  order, each with its section path, for the app's ``/articles/<slug>`` page. The page is built
  from these passages, the very text citations quote, so a ``#:~:text=`` link to a quote
  always finds its words on it.
- ``article_href(slug, url, public_url)``: where a link to the whole article goes: its own
  ``url``, else this app's ``/articles/<slug>`` (absolute when ``public_url`` is set).

Nothing here knows what the articles are about: titles, tags and headings are the author's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from assistant.errors import StoreError
from ingest.schema import (
    ARTICLE,
    DATE,
    POSITION,
    SECTION,
    TAGS,
    TITLE,
    URL,
    find_collection,
    open_client,
    read_all,
)
from ingest.settings import StoreSettings

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

SECTION_SEPARATOR = " > "


@dataclass(frozen=True)
class ArticleInfo:
    """One indexed article. ``url`` is "" when the article gave none (its citations then link
    to the app's own ``/articles/<slug>`` page); ``sections`` are its top-level headings in
    reading order."""

    slug: str
    title: str
    url: str = ""
    date: str = ""  # YYYY-MM-DD when known
    tags: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArticleText:
    """An article's passages in reading order: (section path, passage text) pairs."""

    info: ArticleInfo
    passages: tuple[tuple[str, str], ...]


def _collection(source: StoreSettings | Collection) -> Collection | None:
    if not isinstance(source, StoreSettings):
        return source
    try:
        return find_collection(open_client(source), source.collection)
    except StoreError:
        raise
    except Exception as exc:  # chromadb raises many kinds; the reader needs one line
        raise StoreError(f"cannot read the article index: {exc}") from exc


def _position(meta: dict[str, Any]) -> int:
    value = meta.get(POSITION, 0)
    return value if isinstance(value, int) else 0


def _info(slug: str, metas: list[dict[str, Any]]) -> ArticleInfo:
    """The article's facts from its chunks' metadata (every chunk carries them)."""
    metas = sorted(metas, key=_position)
    first = metas[0]
    tags = tuple(t.strip() for t in str(first.get(TAGS) or "").split(",") if t.strip())
    heads = [str(m.get(SECTION) or "").split(SECTION_SEPARATOR)[0] for m in metas]
    return ArticleInfo(
        slug=slug,
        title=str(first.get(TITLE) or slug),
        url=str(first.get(URL) or ""),
        date=str(first.get(DATE) or ""),
        tags=tags,
        sections=tuple(h for h in dict.fromkeys(heads) if h),
    )


def read_catalog(source: StoreSettings | Collection) -> list[ArticleInfo]:
    """Every indexed article, newest first (undated last), then by title; ``[]`` when there is
    no index yet. Raises ``StoreError`` (one line) when the store cannot be read."""
    collection = _collection(source)
    if collection is None:
        return []
    try:
        held = read_all(collection, ["metadatas"])
    except Exception as exc:
        raise StoreError(f"cannot read the article index: {exc}") from exc
    by_slug: dict[str, list[dict[str, Any]]] = {}
    for meta in held["metadatas"]:
        meta = dict(meta or {})
        by_slug.setdefault(str(meta.get(ARTICLE, "")), []).append(meta)
    infos = [_info(slug, metas) for slug, metas in by_slug.items() if slug]
    infos.sort(key=lambda a: a.title.lower())
    infos.sort(key=lambda a: a.date or "", reverse=True)  # stable: titles order within a date
    return infos


def read_article(source: StoreSettings | Collection, slug: str) -> ArticleText | None:
    """One article's passages in reading order, or None when no such article is indexed."""
    collection = _collection(source)
    if collection is None or not slug:
        return None
    try:
        held = collection.get(where={ARTICLE: slug}, include=["metadatas", "documents"])
    except Exception as exc:
        raise StoreError(f"cannot read the article index: {exc}") from exc
    rows = [
        (dict(meta or {}), str(doc or ""))
        for meta, doc in zip(held["metadatas"] or [], held["documents"] or [], strict=False)
    ]
    if not rows:
        return None
    rows.sort(key=lambda row: _position(row[0]))
    info = _info(slug, [meta for meta, _ in rows])
    return ArticleText(info, tuple((str(m.get(SECTION) or ""), text) for m, text in rows))


def article_path(slug: str) -> str:
    """This app's page for an article: ``/articles/<slug>``."""
    return f"/articles/{quote(slug, safe='')}"


def article_href(slug: str, url: str = "", public_url: str = "") -> str:
    """A link to the whole article: its own http(s) ``url``, else this app's page for it
    (relative, or under ``public_url`` when that is set)."""
    if url.lower().startswith(("https://", "http://")):
        return url
    return public_url.rstrip("/") + article_path(slug)
