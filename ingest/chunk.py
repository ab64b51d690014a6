"""Split an article's Markdown into passages along headings and list items.

Every chunk keeps its section path ("Heading > Sub-heading > List item lead"), so a citation
can say where in the article it comes from. Ids are content hashes: an unchanged passage keeps
its id (and its vector) however the rest of the article changes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.schema import Article, Chunk

MAX_CHARS = 1200  # a passage longer than this is split further
MERGE_CHARS = 700  # consecutive short paragraphs or bare list items merge up to this

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_ITEM = re.compile(r"^(\s*)(?:\d+[.)]|[-*+])\s+(.*)$")
_LEAD = re.compile(r"^(?:\*\*|__)(.+?)(?:\*\*|__):?$")

_splitter = RecursiveCharacterTextSplitter(
    chunk_size=MAX_CHARS - 200, chunk_overlap=0, separators=["\n", ". ", "; ", ", ", " "]
)


@dataclass
class _Block:
    kind: str  # "para" or "item"
    headings: tuple[str, ...]
    lines: list[str] = field(default_factory=list)


def plain(text: str) -> str:
    """Markdown inline markup removed, so passages read as the page does."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])", r"\2", text)
    text = text.replace("`", "")
    return re.sub(r"[ \t]+", " ", text).strip()


def _blocks(markdown: str, title: str) -> list[_Block]:
    blocks: list[_Block] = []
    headings: list[tuple[int, str]] = []
    current: _Block | None = None
    blank = False
    for raw in markdown.splitlines():
        line = raw.rstrip()
        heading = _HEADING.match(line)
        item = _ITEM.match(line)
        if heading:
            current = None
            level, text = len(heading.group(1)), plain(heading.group(2))
            headings = [h for h in headings if h[0] < level]
            if not (level == 1 and text == title):
                headings.append((level, text))
        elif not line.strip():
            if current and current.kind == "para":
                current = None
            blank = True
            continue
        elif item and not item.group(1):  # a top-level list item starts
            current = _Block("item", tuple(h for _, h in headings), [line])
            blocks.append(current)
        elif current and current.kind == "item" and (line[0].isspace() or not blank):
            current.lines.append(line)  # nested item or continuation of the item
        elif current and current.kind == "para":
            current.lines.append(line)
        else:
            current = _Block("para", tuple(h for _, h in headings), [line])
            blocks.append(current)
        blank = False
    return blocks


def _item_passage(block: _Block) -> tuple[tuple[str, ...], str]:
    """A list item whose first line is a bold lead becomes a sub-section of its own."""
    first = _ITEM.match(block.lines[0])
    lead_text = first.group(2).strip() if first else block.lines[0]
    rest = [_ITEM.sub(r"\2", line).strip() for line in block.lines[1:]]
    rest = [plain(line) for line in rest if line]
    lead = _LEAD.match(lead_text)
    if lead and rest:
        return (*block.headings, plain(lead.group(1))), "\n".join(rest)
    return block.headings, "\n".join([plain(lead_text), *rest])


def _passages(article: Article) -> list[tuple[str, str]]:
    """(section path, text) pairs, short neighbours merged."""
    out: list[tuple[str, str, bool]] = []  # section, text, mergeable
    for block in _blocks(article.text, article.title):
        if block.kind == "item":
            path, text = _item_passage(block)
            mergeable = len(block.lines) == 1
        else:
            path, text = block.headings, plain(" ".join(line.strip() for line in block.lines))
            mergeable = True
        section = " > ".join(path)
        if out and mergeable and out[-1][2] and out[-1][0] == section:
            joined = out[-1][1] + "\n" + text
            if len(joined) <= MERGE_CHARS:
                out[-1] = (section, joined, True)
                continue
        out.append((section, text, mergeable))
    passages: list[tuple[str, str]] = []
    for section, text, _ in out:
        pieces = _splitter.split_text(text) if len(text) > MAX_CHARS else [text]
        passages.extend((section, piece.strip()) for piece in pieces if piece.strip())
    return passages


def article_hash(article: Article) -> str:
    return hashlib.sha256(
        "\x1f".join([article.slug, article.title, article.url, article.text]).encode()
    ).hexdigest()[:16]


def chunk_article(article: Article) -> list[Chunk]:
    digest = article_hash(article)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for position, (section, text) in enumerate(_passages(article)):
        key = "\x1f".join([article.slug, article.title, article.url, section, text])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key += f"\x1f{seen[key]}"
        chunks.append(
            Chunk(
                id=hashlib.sha256(key.encode()).hexdigest()[:32],
                article=article.slug,
                title=article.title,
                section=section,
                text=text,
                url=article.url,
                position=position,
                source=article.source,
                article_hash=digest,
            )
        )
    return chunks
