"""Every citation is a link: /articles/<slug>, the catalog behind it, /embed/check (in process).

The index is made here from a temp corpus of fixture articles: one with no ``url`` and tags,
an older one whose title and text carry markup, and one with a ``url`` of its own.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app import create_app
from assistant.catalog import ArticleInfo, article_href, read_article, read_catalog
from assistant.pipeline import Assistant
from assistant.settings import Settings
from ingest.embed import Embedder
from ingest.run import run_ingest
from tests.conftest import make_settings
from webapp.words import example_questions, widget_copy

BLOG = "https://blog.example.com"
ROLLING = """\
---
title: "Foam Rolling Basics"
date: 2025-04-02
tags: [fascia, mobility]
slug: foam-rolling-basics
---

## Why Roll

Foam rolling the calves for two minutes a day loosens the fascia around the muscle.

## How to Roll

### The Calves

Roll slowly from the ankle to the knee and pause on each tender spot for ten seconds.
"""
MARKUP = """\
---
title: "Sleep <b>and</b> Recovery"
date: 2024-01-10
slug: sleep-and-recovery
---

## Sleep Hours

Adults recover best with seven to nine hours <script>window.__pwned = 1</script> of sleep.
"""
LINKED = """\
---
title: "Walking After Work"
date: 2025-05-01
slug: walking-after-work
url: https://blog.example.com/walking-after-work/
---

## Walking Pace

A brisk walk of thirty minutes after work raises the heart rate without straining the back.
"""


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    root = tmp_path_factory.mktemp("articles")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in (("rolling.md", ROLLING), ("sleep.md", MARKUP), ("walk.md", LINKED)):
        (corpus / name).write_text(text, encoding="utf-8")
    settings = make_settings(
        root / "data",
        corpus,
        allowed_origins=BLOG,
        question_log=False,
        blog_url=BLOG,
        allowed_hosts="testserver",  # TestClient's Host (the gate's allowlist)
    )
    run_ingest(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="module")
def client(settings: Settings, embedder: Embedder) -> TestClient:
    return TestClient(create_app(settings, Assistant(settings, embedder=embedder)))


class TestCatalog:
    def test_run_lists_the_indexed_articles_newest_first(self, settings: Settings) -> None:
        catalog = read_catalog(settings)
        assert [a.slug for a in catalog] == [
            "walking-after-work",
            "foam-rolling-basics",
            "sleep-and-recovery",
        ]
        rolling = catalog[1]
        assert rolling == ArticleInfo(
            slug="foam-rolling-basics",
            title="Foam Rolling Basics",
            url="",
            date="2025-04-02",
            tags=("fascia", "mobility"),
            sections=("Why Roll", "How to Roll"),
        )
        assert catalog[0].url == "https://blog.example.com/walking-after-work/"

    def test_run_no_index_is_an_empty_catalog(self, tmp_path: Path) -> None:
        assert read_catalog(make_settings(tmp_path / "none")) == []

    def test_run_reads_an_article_in_order(self, settings: Settings) -> None:
        article = read_article(settings, "foam-rolling-basics")
        assert article is not None
        assert [section for section, _ in article.passages] == [
            "Why Roll",
            "How to Roll > The Calves",
        ]
        assert read_article(settings, "no-such-article") is None

    def test_run_href_is_the_articles_url_or_the_apps_page(self) -> None:
        assert article_href("a b", "https://x.example/a") == "https://x.example/a"
        assert article_href("a b", "javascript:alert(1)") == "/articles/a%20b"
        assert article_href("a", "", "https://ask.example/") == "https://ask.example/articles/a"


class TestWords:
    def test_run_examples_come_from_headings_and_tags_article_by_article(
        self, settings: Settings
    ) -> None:
        catalog = read_catalog(settings)
        template = "What do the articles say about {topic}?"
        assert example_questions(catalog, template, n=4) == [
            "Why Roll?",  # the headings that ask, first
            "How to Roll?",
            "What do the articles say about fascia?",  # then the tags
            "What do the articles say about mobility?",
        ]

    def test_run_widget_greeting_and_placeholder_name_the_articles(
        self, settings: Settings
    ) -> None:
        words = widget_copy(settings)
        assert (
            "Walking After Work; Foam Rolling Basics; Sleep <b>and</b> Recovery"
            in (words["greeting"])
        )
        assert words["placeholder"] == "Ask about fascia, mobility…"
        served = widget_copy(make_settings(settings.data_dir.parent / "empty"))
        assert served["placeholder"] == ""  # no index: no topics to name


class TestArticlePage:
    def test_run_serves_the_article_with_its_headings_date_and_blog_link(
        self, client: TestClient
    ) -> None:
        page = client.get("/articles/foam-rolling-basics")
        assert page.status_code == 200
        html = page.text
        assert "<h1>Foam Rolling Basics</h1>" in html
        assert "<h2>How to Roll</h2>" in html and "<h3>The Calves</h3>" in html
        assert '<time datetime="2025-04-02">' in html
        assert f'<a href="{BLOG}">' in html  # SUPPLE_BLOG_URL
        assert "pause on each tender spot for ten seconds." in html
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'self'" in csp

    def test_run_article_markup_is_escaped(self, client: TestClient) -> None:
        html = client.get("/articles/sleep-and-recovery").text
        assert "<title>Sleep &lt;b&gt;and&lt;/b&gt; Recovery</title>" in html
        assert "<script>window" not in html and "&lt;script&gt;window" in html

    def test_run_unknown_article_is_404_in_one_line(self, client: TestClient) -> None:
        page = client.get("/articles/%3Cscript%3E")
        assert page.status_code == 404
        assert "No article &#x27;&lt;script&gt;&#x27; is indexed here." in page.text

    def test_run_citation_of_an_article_without_url_lands_on_its_page(
        self, client: TestClient
    ) -> None:
        answer = client.post(
            "/api/ask", json={"question": "How long should I pause on a tender spot?"}
        ).json()
        assert answer["kind"] == "answer", answer["text"]
        [citation] = [c for c in answer["citations"] if c["article"] == "foam-rolling-basics"]
        path, _, fragment = citation["url"].partition("#:~:text=")
        assert path == "/articles/foam-rolling-basics"
        page = client.get(path).text
        for words in unquote(fragment).split(","):  # the start and end of the quote
            assert words in page

    def test_run_public_url_makes_citation_links_absolute(
        self, settings: Settings, embedder: Embedder
    ) -> None:
        public = settings.model_copy(update={"public_url": "https://ask.blog.example"})
        answer = Assistant(public, embedder=embedder).ask(
            "How long should I pause on a tender spot?"
        )
        assert answer.citations
        assert answer.citations[0].url.startswith(
            "https://ask.blog.example/articles/foam-rolling-basics#:~:text="
        )

    def test_run_public_url_must_be_a_web_address(self) -> None:
        with pytest.raises(ValidationError, match="not an http"):
            Settings(public_url="ask.blog.example")


class TestEmbedCheck:
    def test_run_says_whether_a_page_may_show_the_widget(self, client: TestClient) -> None:
        allowed = client.get("/embed/check", params={"page": f"{BLOG}/a-post/"}).json()
        assert allowed == {
            "origin": BLOG,
            "allowed": True,
            "allowed_origins": [BLOG],
            "setting": "",
        }
        refused = client.get("/embed/check", params={"page": "https://other.example/x"}).json()
        assert refused["allowed"] is False
        assert refused["setting"] == f"SUPPLE_ALLOWED_ORIGINS={BLOG},https://other.example"

    def test_run_not_a_page_address_is_400_in_one_line(self, client: TestClient) -> None:
        response = client.get("/embed/check", params={"page": "blog dot com"})
        assert response.status_code == 400
        assert response.json()["error"] == (
            "'blog dot com' is not a page address like https://blog.example.com/"
        )

    def test_run_snippet_page_shows_the_allowlist_and_the_check(self, client: TestClient) -> None:
        page = client.get("/embed/snippet").text
        assert f'<code id="supple-origins">{BLOG}</code>' in page
        assert "Test this page" in page and "/embed/static/snippet.js" in page
