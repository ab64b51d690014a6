"""Read articles from files: Markdown (with YAML front matter), saved HTML pages, plain text.

Every problem with one file raises ``SourceError`` naming the file; ``load_paths`` collects
those as skipped sources and goes on with the rest. Plain text is treated as text scraped
from a page, and HTML as a saved page: both go through ``ingest.clean``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import frontmatter
import yaml

from ingest.clean import clean_html, clean_scraped_text, strip_chrome
from ingest.errors import SourceError
from ingest.fetch import url_key
from ingest.schema import Article

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")
MAX_FILE_BYTES = 5_000_000


@dataclass
class Loaded:
    """What a run read. ``origins`` are the sources read whole (a folder, a sitemap): their
    articles that are no longer there leave the index. Articles from ``failed`` item sources
    (a page that 404s today) and ``kept`` slugs (unchanged since the last run) stay as held."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[SourceError] = field(default_factory=list)
    origins: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    kept: set[str] = field(default_factory=set)

    def add(self, other: Loaded) -> None:
        self.articles += other.articles
        self.skipped += other.skipped
        self.origins |= other.origins
        self.failed |= other.failed
        self.kept |= other.kept

    def skip(self, error: SourceError, item: str | None = None) -> None:
        self.skipped.append(error)
        self.failed.add(item or error.source)


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "article"


def web_url(url: str) -> str:
    """The article's URL if it is an http(s) address; anything else (javascript:, data:) is dropped."""
    url = url.strip()
    return url if url.lower().startswith(("https://", "http://")) else ""


def slug_from_url(url: str) -> str:
    """The last path segment of a page's URL: ``https://blog/glute-pain/`` -> ``glute-pain``."""
    key = url_key(url)
    segment = key.split("://", 1)[-1].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return slugify(re.sub(r"\.(html?|php|aspx?)$", "", segment))


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The file's text, or a SourceError that says why it is not an article."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(
                str(path), f"file is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:g} MB limit"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(str(path), f"cannot read the file ({exc.strerror})") from exc
    if b"\x00" in raw[:4096]:
        raise SourceError(str(path), "binary file, not an article")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            str(path), f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from exc


def _first_heading(body: str) -> str:
    match = re.search(r"^#{1,6}\s+(.+)$", body, flags=re.M)
    return match.group(1).strip() if match else ""


def load_markdown(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Article:
    text = read_text(path, max_bytes)
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SourceError(str(path), f"front matter is not valid YAML{where}") from exc
    meta = post.metadata
    if not isinstance(meta, dict):
        raise SourceError(str(path), "front matter must be a YAML mapping of fields")
    body = strip_chrome(post.content)
    if not body:
        raise SourceError(str(path), "no article text after the front matter")
    title = str(meta.get("title") or _first_heading(body) or path.stem.replace("-", " "))
    raw_tags = meta.get("tags") or []
    if isinstance(raw_tags, str):
        raw_tags = raw_tags.split(",")
    tags = [str(t).strip() for t in raw_tags] if isinstance(raw_tags, list) else []
    return Article(
        slug=slugify(str(meta.get("slug") or path.stem)),
        title=title.strip(),
        text=body,
        source=str(path),
        url=web_url(str(meta.get("url") or "")),
        date=str(meta.get("date") or ""),
        author=str(meta.get("author") or ""),
        tags=tuple(t for t in tags if t),
    )


def load_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Article:
    """Plain text, as scraped from a page: the first line is the title, chrome is dropped."""
    page = clean_scraped_text(read_text(path, max_bytes))
    if not page.text:
        raise SourceError(str(path), "no article text in the file")
    return Article(
        slug=slugify(path.stem),
        title=page.title or path.stem,
        text=page.text,
        source=str(path),
        date=page.date,
        author=page.author,
        tags=page.tags,
    )


def load_html(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Article:
    """A saved web page: its main text, and what its meta tags and JSON-LD say."""
    page = clean_html(read_text(path, max_bytes))
    if not page.text:
        raise SourceError(str(path), "no article text on the page")
    return Article(
        slug=slug_from_url(page.url) if page.url else slugify(path.stem),
        title=page.title or path.stem,
        text=page.text,
        source=str(path),
        url=page.url,
        date=page.date,
        author=page.author,
        tags=page.tags,
    )


def load_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Article:
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return load_text(path, max_bytes)
    if suffix in (".html", ".htm"):
        return load_html(path, max_bytes)
    return load_markdown(path, max_bytes)


def article_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES and not p.name.startswith(".")
    )


def path_origin(path: Path) -> str:
    """How the index remembers a file or folder source: its absolute path."""
    return str(path.resolve())


def load_paths(paths: list[Path], max_bytes: int = MAX_FILE_BYTES) -> Loaded:
    """Load files and folders; a bad file is skipped with its reason, the rest go on."""
    loaded = Loaded()
    for path in paths:
        if not path.exists():
            loaded.skipped.append(SourceError(str(path), "no such file or folder"))
            continue
        origin = path_origin(path)
        loaded.origins.add(origin)
        for file in article_files(path) if path.is_dir() else [path]:
            try:
                article = load_file(file, max_bytes)
            except SourceError as error:
                loaded.skip(error)
                continue
            loaded.articles.append(replace(article, origin=origin))
    return loaded
