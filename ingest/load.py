"""Read articles from files: Markdown (with YAML front matter) and plain text.

Every problem with one file raises ``SourceError`` naming the file; ``load_folder`` collects
those as skipped sources and goes on with the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter
import yaml

from ingest.errors import SourceError
from ingest.schema import Article

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt")
MAX_FILE_BYTES = 5_000_000


@dataclass
class Loaded:
    articles: list[Article] = field(default_factory=list)
    skipped: list[SourceError] = field(default_factory=list)


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "article"


def read_text(path: Path) -> str:
    """The file's text, or a SourceError that says why it is not an article."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError(str(path), f"file is {size / 1e6:.0f} MB, over the 5 MB limit")
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


def load_markdown(path: Path) -> Article:
    text = read_text(path)
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SourceError(str(path), f"front matter is not valid YAML{where}") from exc
    meta = post.metadata
    if not isinstance(meta, dict):
        raise SourceError(str(path), "front matter must be a YAML mapping of fields")
    body = post.content.strip()
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
        url=str(meta.get("url") or ""),
        date=str(meta.get("date") or ""),
        author=str(meta.get("author") or ""),
        tags=tuple(t for t in tags if t),
    )


def load_text(path: Path) -> Article:
    """A plain-text article: the first non-empty line is its title."""
    text = read_text(path).strip()
    if not text:
        raise SourceError(str(path), "the file is empty")
    title, _, body = text.partition("\n")
    return Article(
        slug=slugify(path.stem),
        title=title.strip(),
        text=body.strip() or title,
        source=str(path),
    )


def load_file(path: Path) -> Article:
    if path.suffix.lower() == ".txt":
        return load_text(path)
    return load_markdown(path)


def article_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES and not p.name.startswith(".")
    )


def load_paths(paths: list[Path]) -> Loaded:
    """Load files and folders; a bad file is skipped with its reason, the rest go on."""
    loaded = Loaded()
    seen: dict[str, str] = {}
    for path in paths:
        if not path.exists():
            loaded.skipped.append(SourceError(str(path), "no such file or folder"))
            continue
        for file in article_files(path) if path.is_dir() else [path]:
            try:
                article = load_file(file)
            except SourceError as error:
                loaded.skipped.append(error)
                continue
            if article.slug in seen:
                loaded.skipped.append(
                    SourceError(str(file), f"same slug '{article.slug}' as {seen[article.slug]}")
                )
                continue
            seen[article.slug] = str(file)
            loaded.articles.append(article)
    return loaded
