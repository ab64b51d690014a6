"""Citations that cannot lie: number the quotes, read ``[n]`` back, drop what points nowhere.

An answerer returns a ``Draft``: reply text with ``[n]`` markers and, for each n, the passage
and the exact words it quotes. ``finalize`` keeps only markers whose quote really occurs in a
retrieved passage, renumbers them in reading order, and adds a deep link to the words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

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

    Only http(s) article URLs become links: a ``javascript:`` or ``data:`` URL planted in an
    article's front matter gives no link at all.
    """
    if not url.lower().startswith(("https://", "http://")):
        return ""
    tokens = quoted.split()
    if len(tokens) <= 8:
        directive = _fragment_part(tokens)
    else:
        directive = f"{_fragment_part(tokens[:4])},{_fragment_part(tokens[-4:])}"
    return f"{url.split('#', 1)[0]}#:~:text={directive}"


def finalize(draft: Draft, passages: list[Passage]) -> tuple[str, list[Citation]]:
    """The reply text with valid, renumbered markers, and the citations they point to."""
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
                    url=text_fragment_url(passage.url, quoted),
                )
            )
        return f" [{renumber[n]}]"

    text = MARKER.sub(replace, draft.text)
    text = re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", text)  # "[1] [1]" -> "[1]"
    return text.strip(), citations
