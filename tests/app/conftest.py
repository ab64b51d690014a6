"""The web layer served for real: ``python app.py`` on a corpus of its own, and sample blog pages.

One app per test session (package scope) serves the chat tests and the browser tests:
- the real article, with a ``url`` pointing at the sample blog page (so citations link there);
- a hostile article whose text carries a ``<script>`` and an ``<img onerror>``.
The blog page is served from two more ports: one allowed by SUPPLE_ALLOWED_ORIGINS, one not.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ingest.embed import Embedder
from ingest.run import run_ingest
from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.conftest import ARTICLE, make_settings
from tests.servers import free_port, running_app

BLOG_PAGE = Path(__file__).resolve().parent / "blog_page"
HOSTILE_ARTICLE = """\
---
title: "Calf Stretches After Running <b>bold</b>"
slug: calf-stretches-after-running
url: "javascript:window.__supplePwned='link'"
---

## How Long to Hold a Calf Stretch

Hold each calf stretch for thirty seconds <script>window.__supplePwned = "article";</script> \
and repeat it three times on each leg after running.

## Why Calves Get Tight

Running shortens the calf muscles <img src=x onerror="window.__supplePwned='img'"> and the \
Achilles tendon takes up the extra load.
"""


@dataclass(frozen=True)
class Site:
    app: str  # the Supple app, e.g. http://127.0.0.1:PORT
    blog: str  # the blog's origin, allowed to embed the chat
    stranger: str  # another origin serving the same pages, not allowed
    article_url: str  # the blog page the real article's citations link to
    data_dir: Path  # the app's data folder (its question log lives there)


def _handler(app_url: str) -> type[BaseHTTPRequestHandler]:
    class BlogPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = BLOG_PAGE / self.path.split("?", 1)[0].lstrip("/")
            if path.parent != BLOG_PAGE or not path.is_file():
                self.send_error(404)
                return
            body = path.read_text(encoding="utf-8").replace("{{APP}}", app_url).encode()
            kind = "text/javascript" if path.suffix == ".js" else "text/html"
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return BlogPage


@contextlib.contextmanager
def blog_server(port: int, app_url: str) -> Iterator[str]:
    """The sample blog pages on 127.0.0.1:port, their widget script pointing at ``app_url``."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(app_url))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def corpus_for(folder: Path, article_url: str) -> Path:
    """The real article (now with a url) and the hostile article."""
    folder.mkdir(parents=True)
    text = ARTICLE.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    (folder / ARTICLE.name).write_text(f"---\nurl: {article_url}\n{text[4:]}", encoding="utf-8")
    (folder / "calf-stretches-after-running.md").write_text(HOSTILE_ARTICLE, encoding="utf-8")
    return folder


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    blog_port = free_port()
    stranger_port = free_port()
    while stranger_port == blog_port:
        stranger_port = free_port()
    blog = f"http://127.0.0.1:{blog_port}"
    article_url = f"{blog}/article.html"
    corpus = corpus_for(root / "corpus", article_url)
    # Indexed here with the session's model, so the app starts without indexing (faster).
    run_ingest(make_settings(root / "data", corpus), embedder=embedder)
    with (
        running_app(root / "data", corpus, SUPPLE_ALLOWED_ORIGINS=blog) as app_url,
        blog_server(blog_port, app_url),
        blog_server(stranger_port, app_url) as stranger,
    ):
        yield Site(
            app=app_url,
            blog=blog,
            stranger=stranger,
            article_url=article_url,
            data_dir=root / "data",
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's, driven by Playwright), one per test module."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
