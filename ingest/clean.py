"""Main text only: page chrome out, headings and lists kept as Markdown.

HTML goes through trafilatura (main-content extraction, Markdown output, metadata from meta
tags and JSON-LD). Text scraped from a page without its HTML (a copy-paste, a crawler's text
dump) has lost the markup trafilatura needs, so ``clean_scraped_text`` rebuilds the
structure from the layout: the first line is the title, a short line without end punctuation
before a paragraph is a heading, numbered and bulleted lines are lists. Both end in the same
``strip_chrome``: short paragraphs that match the usual chrome (cookie consent, newsletter
and sign-up boxes, share buttons, comment and footer lines) are dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

MIN_ARTICLE_WORDS = 40
CHROME_MAX_WORDS = 40  # longer paragraphs are article text whatever words they use

_CHROME = re.compile(
    r"""
    consent\ preferences | cookie\ (settings|preferences|policy|consent) | we\ use\ cookies
    | this\ (web)?site\ uses\ cookies | accept\ (all|cookies) | reject\ all
    | newsletter | mailing\ list | email\ list | news\ and\ updates | \bspam\b
    | (information|email|details)\ will\ (not|never)\ be\ shared
    | never\ sell\ your\ (information|email|data) | unsubscribe\ at\ any\ time
    | enter\ your\ email | ^subscribe\b
    | ^share\ (this|on|via)\b | share\ this\ (post|article) | ^(tweet|pin\ it|email\ this)\b
    | ^\d+\ comments?$ | leave\ a\ (reply|comment) | ^post\ comment
    | all\ rights\ reserved | ^© | copyright\ ©?\s*\d{4} | ^privacy\ policy
    | terms\ (of\ use|of\ service|and\ conditions) | skip\ to\ (main\ )?content
    """,
    re.I | re.X,
)
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})[a-z]*\.?\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+(?:{_MONTHS})[a-z]*\.?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})\b",
    re.I,
)
_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s+(.+)$")
_BULLET = re.compile(r"^\s*[•◦▪‣·*–-]\s+(.+)$")
_END_PUNCTUATION = tuple('.!?:;…"”’)')


@dataclass(frozen=True)
class CleanPage:
    """The main text of a page as Markdown, with what the page says about itself."""

    text: str
    title: str = ""
    author: str = ""
    date: str = ""
    url: str = ""
    tags: tuple[str, ...] = ()


def _plain(line: str) -> str:
    line = re.sub(r"^\s*(#{1,6}\s+|\d+[.)]\s+|[-*+•]\s+)", "", line)
    return re.sub(r"[*_`]+|\[([^\]]*)\]\([^)]*\)", r"\1", line).strip()


def is_chrome(paragraph: str) -> bool:
    """A short paragraph that reads like page chrome rather than article text."""
    text = " ".join(_plain(line) for line in paragraph.splitlines())
    return len(text.split()) <= CHROME_MAX_WORDS and bool(_CHROME.search(text))


def strip_chrome(markdown: str) -> str:
    """The Markdown without chrome paragraphs (blocks separated by blank lines)."""
    blocks = re.split(r"\n\s*\n", markdown.strip())
    return "\n\n".join(b for b in blocks if b.strip() and not is_chrome(b))


def article_words(markdown: str) -> int:
    """Words of prose, not counting headings."""
    return sum(
        len(_plain(line).split())
        for line in markdown.splitlines()
        if not line.lstrip().startswith("#")
    )


def _iso_date(text: str) -> str:
    match = _DATE.search(text)
    if not match:
        return ""
    raw = re.sub(r"[.,]", "", match.group(0))
    raw = re.sub(r"\bsept\b", "sep", raw, flags=re.I)
    for fmt in ("%b %d %Y", "%B %d %Y", "%d %b %Y", "%d %B %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, fmt).date().isoformat()
        except ValueError:
            continue
    return ""


# --- HTML -----------------------------------------------------------------------------


def _json_ld_keywords(html: str) -> tuple[str, ...]:
    """Tags from JSON-LD ``keywords`` (trafilatura reads the other JSON-LD fields)."""
    tags: list[str] = []
    for block in re.findall(
        r"<script[^>]+application/ld\+json[^>]*>(.*?)</script>", html, flags=re.S | re.I
    ):
        try:
            data = json.loads(block)
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            keywords = item.get("keywords") if isinstance(item, dict) else None
            if isinstance(keywords, str):
                keywords = keywords.split(",")
            if isinstance(keywords, list):
                tags += [str(k).strip() for k in keywords if str(k).strip()]
    return tuple(tags)


def clean_html(html: str, url: str = "", title: str | None = None) -> CleanPage:
    """The page's main text as Markdown; ``text`` is empty when the page has no article.

    ``title`` is the article's title when the caller knows it (a feed entry, a WordPress
    post, whose HTML is a fragment without a head): a leading heading repeating it is dropped.
    """
    import trafilatura  # here, not at the top: the app never cleans HTML on start-up

    markdown = trafilatura.extract(
        html,
        url=url or None,
        output_format="markdown",
        include_formatting=True,
        include_comments=False,
        include_links=False,
        include_images=False,
        include_tables=True,
        deduplicate=False,
    )
    meta = trafilatura.extract_metadata(html, default_url=url or None)
    if title is None:
        title = (meta.title if meta else "") or ""
    text = strip_chrome(markdown or "")
    first, _, rest = text.partition("\n")
    if title and first.lstrip("# ").strip() == title.strip():
        text = rest.strip()
    if article_words(text) < MIN_ARTICLE_WORDS:
        text = ""
    tags = tuple(meta.tags or []) if meta else ()
    return CleanPage(
        text=text,
        title=title.strip(),
        author=(meta.author if meta else "") or "",
        date=(meta.date if meta else "") or "",
        url=(meta.url if meta else "") or "",
        tags=tags or _json_ld_keywords(html),
    )


# --- text scraped without its markup ------------------------------------------------------


def _is_heading(paragraph: list[str], following: list[list[str]]) -> bool:
    if len(paragraph) != 1 or not following:
        return False
    line = paragraph[0].strip()
    return (
        not _NUMBERED.match(line)
        and not _BULLET.match(line)
        and len(line.split()) <= 15
        and not line.endswith(_END_PUNCTUATION)
        and line[:1].isupper()
    )


def _structure(paragraphs: list[list[str]]) -> str:
    """Markdown from the layout of scraped text: headings, numbered items, bullets."""
    blocks: list[list[str]] = []
    in_item = False  # the last block is a numbered item that bullets nest under
    for index, paragraph in enumerate(paragraphs):
        if _is_heading(paragraph, paragraphs[index + 1 :]):
            blocks.append([f"## {paragraph[0].strip()}"])
            in_item = False
            continue
        prose: list[str] = []
        for line in paragraph:
            numbered, bullet = _NUMBERED.match(line), _BULLET.match(line)
            if numbered:
                blocks.append([f"{numbered.group(1)}. {numbered.group(2).strip()}"])
                in_item = True
            elif bullet and in_item:
                blocks[-1].append(f"   - {bullet.group(1).strip()}")
            elif bullet:
                blocks.append([f"- {bullet.group(1).strip()}"])
            else:
                prose.append(line.strip())
                in_item = False
        if prose:
            blocks.append([" ".join(prose)])
    for block in blocks:  # an item with sub-bullets and no sentence of its own is a lead
        lead = _NUMBERED.match(block[0])
        if lead and len(block) > 1 and not lead.group(2).endswith(_END_PUNCTUATION):
            block[0] = f"{lead.group(1)}. **{lead.group(2)}**"
    return "\n\n".join("\n".join(block) for block in blocks)


def clean_scraped_text(raw: str) -> CleanPage:
    """Title, byline and Markdown body of text scraped from a blog page, chrome removed."""
    text = raw.replace("\r\n", "\n").replace("\u00a0", " ")
    paragraphs = [
        [line.rstrip() for line in block.splitlines() if line.strip()]
        for block in re.split(r"\n\s*\n", text)
    ]
    paragraphs = [p for p in paragraphs if p and not is_chrome("\n".join(p))]
    if not paragraphs:
        return CleanPage(text="")
    title = paragraphs[0][0].strip() if len(paragraphs[0]) == 1 else ""
    if title:
        paragraphs = paragraphs[1:]
    date, author = "", ""
    tags: tuple[str, ...] = ()
    for paragraph in paragraphs[:2]:  # a byline: "fascia Mar 20, 2025", "By Nicole · 3 May 2024"
        line = " ".join(paragraph)
        if len(paragraph) == 1 and len(line.split()) <= 8 and _iso_date(line):
            date = _iso_date(line)
            rest = _DATE.sub("", line).strip(" ·|-–,")
            by = re.match(r"(?:posted\s+)?by\s+(.+?)(?:\s+(?:on|in)\b.*)?$", rest, flags=re.I)
            if by:
                author = by.group(1).strip()
            elif rest:
                tags = tuple(t.strip() for t in re.split(r"[,|·]", rest) if t.strip())
            paragraphs.remove(paragraph)
            break
    return CleanPage(
        text=strip_chrome(_structure(paragraphs)),
        title=title,
        author=author,
        date=date,
        tags=tags,
    )
