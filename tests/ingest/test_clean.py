"""Main text only: the raw scraped seed and a blog page with chrome both come out as the
clean corpus article: every sentence of it, and nothing of the chrome."""

from __future__ import annotations

import re

import frontmatter
import pytest

from ingest.chunk import chunk_article
from ingest.clean import clean_html, clean_scraped_text, strip_chrome
from ingest.load import load_file
from tests.conftest import ARTICLE, SEED
from tests.ingest.fake_blog import FakeBlog, corpus_post

CHROME = [
    "Consent Preferences",
    "Mar 20, 2025",
    "Stay connected",
    "mailing list",
    "SPAM",
    "information will not be shared",
    "Share on Facebook",
    "Leave a Reply",
    "Comments",
    "my back has never felt better",
    "All rights reserved",
    "Privacy Policy",
    "About Nicole",
    "Accept all",
    "Subscribe",
]


def sentences(markdown: str) -> set[str]:
    """The text's sentences, Markdown markup and whitespace normalised away."""
    lines = []
    for line in markdown.splitlines():
        line = re.sub(r"^\s*(#{1,6}\s+|\d+[.)]\s+|[-*+•]\s+)", "", line)
        lines.append(line.replace("**", "").replace("__", ""))
    parts = re.split(r"(?<=[.!?])\s+|\n+", "\n".join(lines))
    return {" ".join(p.split()) for p in parts if p.strip()}


@pytest.fixture(scope="module")
def corpus_body() -> str:
    return frontmatter.loads(ARTICLE.read_text()).content


def test_run_seed_text_gives_every_sentence_and_no_chrome(corpus_body: str) -> None:
    page = clean_scraped_text(SEED.read_text())
    assert sentences(page.text) == sentences(corpus_body)
    assert page.title == "Glute and Hip Weakness: A Major Cause of Low Back Pain"
    for chrome in CHROME:
        assert chrome.lower() not in page.text.lower(), chrome


def test_run_seed_text_keeps_headings_and_lists_as_the_article_does() -> None:
    """The seed file ingests to the same passages, with the same section paths."""
    seed, corpus = load_file(SEED), load_file(ARTICLE)
    assert seed.date == "2025-03-20"
    assert seed.tags == ("fascia",)
    sections = [(c.section, c.text) for c in chunk_article(seed)]
    assert sections == [(c.section, c.text) for c in chunk_article(corpus)]
    assert (
        "Breaking the Cycle: Strengthening & Myofascial Release > Strengthening Weak Muscles"
    ) in {s for s, _ in sections}


def test_run_blog_page_with_chrome_gives_the_article(corpus_body: str) -> None:
    blog = FakeBlog(base_url="http://blog.test")
    page = clean_html(blog.page(corpus_post()), blog.post_url(corpus_post().slug))
    assert sentences(page.text) == sentences(corpus_body)
    for chrome in CHROME:
        assert chrome.lower() not in page.text.lower(), chrome
    assert page.text.startswith("## Weak Gluteus Maximus")  # headings kept as Markdown
    assert "1. **Decreased Hip Stability → Increased Lumbar Stress**" in page.text
    assert page.title == corpus_post().title
    assert page.author == "Nicole"
    assert page.date == "2025-03-20"
    assert page.url == "http://blog.test/glute-hip-weakness-low-back-pain/"
    assert page.tags == ("fascia", "glutes", "hip rotators", "low back pain")


def test_run_page_without_article_text_is_empty() -> None:
    html = (
        "<html><head><title>Tag: glutes</title></head><body><nav><a href='/'>Home</a></nav>"
        "<main><h1>Tag: glutes</h1><ul><li><a href='/a/'>Glute bridges</a></li></ul></main>"
        "<footer>© 2025 Supple</footer></body></html>"
    )
    assert clean_html(html).text == ""


def test_run_strip_chrome_keeps_long_paragraphs_that_mention_chrome_words() -> None:
    prose = (
        "Many readers asked whether to subscribe to a gym or train at home; the newsletter "
        "question aside, glute bridges need no equipment at all, and a towel under the "
        "shoulders is enough to start building hip extension strength safely and slowly "
        "over several weeks of practice."
    )
    text = f"## Training\n\n{prose}\n\nShare this post\n\n© 2025 Supple Movement"
    assert strip_chrome(text) == f"## Training\n\n{prose}"
