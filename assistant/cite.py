"""Citations that cannot lie: number the quotes, read ``[n]`` back, drop what points nowhere.

An answerer returns a ``Draft``: reply text with ``[n]`` markers and, for each n, the passage
and the exact words it quotes. ``finalize`` keeps only markers whose quote really occurs in a
retrieved passage, renumbers them in reading order, and adds a deep link to the words: on the
article's own ``url`` when it has one, else on this app's ``/articles/<slug>`` page (relative,
or absolute under ``Settings.public_url``), so every citation is a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from assistant.catalog import article_href
from assistant.types import Citation, Passage

MARKER = re.compile(r"\s?\[(\d{1,3})\]")


@dataclass
class Draft:
    text: str
    quotes: dict[int, tuple[Passage, str]] = field(default_factory=dict)
    note: str = ""  # for the reader, e.g. when an LLM backend fell back to quoting


def _fragment_part(words: list[str]) -> str:
    return quote(" ".join(words), safe="").replace("-", "%2D")


def text_fragment_url(url: str, quoted: str) -> str:
    """``url#:~:text=start,end`` pointing at the quoted words (the whole quote when short).

    Only http(s) URLs and this app's own paths (``/articles/...``) become links: a
    ``javascript:`` or ``data:`` URL planted in an article's front matter gives no link at all.
    """
    if not url.lower().startswith(("https://", "http://", "/articles/")):
        return ""
    tokens = quoted.split()
    if len(tokens) <= 8:
        directive = _fragment_part(tokens)
    else:
        directive = f"{_fragment_part(tokens[:4])},{_fragment_part(tokens[-4:])}"
    return f"{url.split('#', 1)[0]}#:~:text={directive}"


def citation_url(passage: Passage, quoted: str, public_url: str = "") -> str:
    """The deep link for a quote: the article's http(s) ``url``, else this app's page for it.

    An article whose ``url`` is not http(s) (``javascript:``, ``data:``) links to the app's
    page instead: its text there is escaped, and the planted URL is never used."""
    return text_fragment_url(article_href(passage.article, passage.url, public_url), quoted)


def finalize(
    draft: Draft, passages: list[Passage], public_url: str = ""
) -> tuple[str, list[Citation]]:
    """The reply text with valid, renumbered markers, and the citations they point to.
    ``public_url``: this app's public address, for citations of articles without a url."""
    retrieved = [p.text for p in passages]
    renumber: dict[int, int] = {}
    citations: list[Citation] = []

    def replace(match: re.Match[str]) -> str:
        n = int(match.group(1))
        source = draft.quotes.get(n)
        if source is None or not any(source[1] and source[1] in t for t in retrieved):
            return ""  # a citation to nothing never reaches the reader
        if n not in renumber:
            renumber[n] = len(renumber) + 1
            passage, quoted = source
            citations.append(
                Citation(
                    n=renumber[n],
                    article=passage.article,
                    title=passage.title,
                    section=passage.section,
                    text=quoted,
                    url=citation_url(passage, quoted, public_url),
                )
            )
        return f" [{renumber[n]}]"

    text = MARKER.sub(replace, draft.text)
    text = re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", text)  # "[1] [1]" -> "[1]"
    return text.strip(), citations
