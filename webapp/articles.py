"""``GET /articles/<slug>``: an indexed article as a page of this app, for citations to land on.

An article without a ``url`` of its own is still a link: citations point here with a
``#:~:text=`` fragment to the quoted words. The page is built from the indexed passages (the
text citations quote, so the words are always on it), under the article's headings, with its
title and date and a link back to the blog when ``Settings.blog_url`` names it. The passages
are plain text (ingest drops inline Markdown), so they are escaped and put in ``<p>``s here
rather than rendered by markdown-it-py, which would have nothing left to render. Every text is
escaped; the page loads only this app's own script and style (a strict CSP), and the script
marks the quoted words for browsers that do not follow text fragments themselves.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from assistant.catalog import SECTION_SEPARATOR, ArticleText, read_article
from assistant.errors import SuppleError
from assistant.settings import Settings

TEMPLATE = Path(__file__).resolve().parent / "static" / "article.html"
HEADING_TAGS = ("h2", "h3", "h4")  # section depth 1, 2, 3 and deeper


def _headings(previous: list[str], path: list[str]) -> list[str]:
    """The headings to open between two passages: those of ``path`` past the shared part."""
    shared = 0
    while shared < min(len(previous), len(path)) and previous[shared] == path[shared]:
        shared += 1
    tags = []
    for depth in range(shared, len(path)):
        tag = HEADING_TAGS[min(depth, len(HEADING_TAGS) - 1)]
        tags.append(f"<{tag}>{html.escape(path[depth])}</{tag}>")
    return tags


def article_body(article: ArticleText) -> str:
    """The passages as HTML: headings where the section path changes, a paragraph a line."""
    parts: list[str] = []
    previous: list[str] = []
    for n, (section, text) in enumerate(article.passages, start=1):
        path = [p for p in section.split(SECTION_SEPARATOR) if p] if section else []
        parts += _headings(previous, path)
        previous = path
        lines = "".join(
            f"<p>{html.escape(line.strip())}</p>" for line in text.splitlines() if line.strip()
        )
        parts.append(f'<div class="passage" id="passage-{n}">{lines}</div>')
    return "\n".join(parts)


def article_page(article: ArticleText, blog_url: str) -> str:
    info = article.info
    meta = []
    if info.date:
        meta.append(f'<time datetime="{html.escape(info.date)}">{html.escape(info.date)}</time>')
    if info.url.lower().startswith(("https://", "http://")):  # ingest keeps no other kind
        meta.append(f'<a href="{html.escape(info.url)}">Read it on the blog</a>')
    elif blog_url:
        meta.append(f'<a href="{html.escape(blog_url)}">The blog</a>')
    meta.append('<a href="/">Ask a question about the articles</a>')
    return (
        TEMPLATE.read_text(encoding="utf-8")
        .replace("{{TITLE}}", html.escape(info.title))
        .replace("{{META}}", " · ".join(meta))
        .replace("{{BODY}}", article_body(article))
    )


def _message_page(status: int, message: str, headers: dict[str, str]) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Supple</title>'
        '<link rel="stylesheet" href="/embed/static/article.css"></head><body><main class='
        f'"article"><p>{html.escape(message)}</p><p><a href="/">Ask a question</a></p>'
        "</main></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=headers)


def install_articles(app: FastAPI, settings: Settings, headers: dict[str, str]) -> None:
    """Adds ``GET /articles/{slug}``; ``headers`` are the pages' security headers (CSP)."""

    @app.get("/articles/{slug}", include_in_schema=False)
    async def article(slug: str) -> HTMLResponse:
        try:
            found = await run_in_threadpool(read_article, settings, slug)
        except SuppleError as exc:
            return _message_page(503, str(exc), headers)
        if found is None:
            return _message_page(404, f"No article '{slug[:100]}' is indexed here.", headers)
        return HTMLResponse(article_page(found, settings.blog_url), headers=headers)
