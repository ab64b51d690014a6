"""Ingest the fake blog for real: pages, sitemaps, RSS, the WordPress API; incremental runs,
stale removal, dedup, the same-host rule, and every bad source skipped with one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.settings import Settings
from ingest.embed import Embedder
from ingest.fetch import Fetcher
from ingest.load import load_file
from ingest.run import run_ingest
from ingest.schema import find_collection, open_client
from tests.conftest import ARTICLE, REPO, make_settings
from tests.ingest.fake_blog import FakeBlog, Post, serve_blog
from tests.servers import free_port

GLUTE = "glute-hip-weakness-low-back-pain"
PIRIFORMIS = "piriformis-syndrome-stretches"
FASCIA = "thoracolumbar-fascia-release"
LISTINGS = ["/sitemap.xml", "/feed/", "/atom.xml", "/wp-json/wp/v2/posts"]
# Every test here serves the fake blog on 127.0.0.1 and ingests it (3 to 6 s each): not the
# inner loop (`make check`), but `make test`.
pytestmark = pytest.mark.slow


@pytest.fixture
def blog() -> Iterator[FakeBlog]:
    with serve_blog() as served:
        yield served


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    empty = tmp_path / "corpus"
    empty.mkdir()
    # The fake blog is on 127.0.0.1: a private address, refused unless allowed.
    return make_settings(
        tmp_path / "data", empty, fetch_delay=0.0, fetch_timeout=2.0, allow_private=True
    )


def held(settings: Settings) -> dict[str, list[dict[str, object]]]:
    """The index's chunks' metadata, by article slug."""
    collection = find_collection(open_client(settings), settings.collection)
    assert collection is not None
    got = collection.get(include=["metadatas"])
    by_article: dict[str, list[dict[str, object]]] = {}
    for meta in got["metadatas"] or []:
        by_article.setdefault(str(meta["article"]), []).append(dict(meta))
    return by_article


def documents(settings: Settings) -> str:
    collection = find_collection(open_client(settings), settings.collection)
    assert collection is not None
    return "\n".join(collection.get(include=["documents"])["documents"] or [])


def test_run_sitemap_indexes_every_post_with_its_metadata(
    blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    report = run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    assert report.skipped == []
    assert report.articles == 3
    index = held(settings)
    assert set(index) == {GLUTE, PIRIFORMIS, FASCIA}
    meta = index[GLUTE][0]
    assert meta["title"] == "Glute and Hip Weakness: A Major Cause of Low Back Pain"
    assert meta["author"] == "Nicole"
    assert meta["date"] == "2025-03-20"
    assert meta["url"] == blog.post_url(GLUTE)
    assert meta["tags"] == "fascia, glutes, hip rotators, low back pain"
    text = documents(settings)
    assert "Glute Bridges, Hip Thrusts, Clamshells" in text
    for chrome in ("Consent Preferences", "mailing list", "Share on Facebook", "Leave a Reply"):
        assert chrome not in text


def test_run_sitemap_index_and_its_sitemaps(
    blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    report = run_ingest(settings, [blog.url("/sitemap_index.xml")], embedder=embedder)
    assert (report.articles, report.skipped) == (3, [])
    assert "/post-sitemap.xml" in blog.requests


def test_run_rerun_fetches_and_embeds_nothing_when_unchanged(
    blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    first = run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    blog.requests.clear()
    again = run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    assert (again.embedded, again.deleted, again.chunks) == (0, 0, first.chunks)
    assert blog.requests == ["/robots.txt", "/sitemap.xml"]  # lastmod unchanged: no page


def test_run_edited_post_alone_is_fetched_and_embedded_again(
    blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    post = blog.posts[PIRIFORMIS]
    post.markdown = post.markdown.replace(
        "Stretch gently", "Hold each stretch for three slow breaths. Stretch gently"
    )
    post.modified = "2025-06-01T10:00:00+00:00"
    blog.requests.clear()
    report = run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    assert blog.requests == ["/robots.txt", "/sitemap.xml", f"/{PIRIFORMIS}/"]
    assert report.embedded == 1 and report.deleted == 1
    assert "Hold each stretch for three slow breaths." in documents(settings)
    assert {m["modified"] for m in held(settings)[PIRIFORMIS]} == {post.modified}


@pytest.mark.parametrize("listing", LISTINGS)
def test_run_post_gone_from_listing_leaves_the_index(
    listing: str, blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    run_ingest(settings, [blog.url(listing)], embedder=embedder)
    gone = len(held(settings)[FASCIA])
    del blog.posts[FASCIA]
    report = run_ingest(settings, [blog.url(listing)], embedder=embedder)
    assert report.deleted == gone
    assert set(held(settings)) == {GLUTE, PIRIFORMIS}


def test_run_feed_and_wordpress_api_give_the_sitemaps_index(
    blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    before = held(settings)
    for listing in ("/atom.xml", "/feed/", "/wp-json/wp/v2/posts"):
        report = run_ingest(settings, [blog.url(listing)], embedder=embedder)
        assert (report.articles, report.embedded, report.deleted) == (3, 0, 0), listing
    assert {a: len(c) for a, c in held(settings).items()} == {a: len(c) for a, c in before.items()}
    assert blog.requests.count("/wp-json/wp/v2/posts") == 2  # two pages of posts
    # Atom has summaries only; its `updated` equals the lastmod held: no page fetched again.
    assert not any(
        r.startswith(f"/{GLUTE}") for r in blog.requests[blog.requests.index("/atom.xml") :]
    )


def test_run_same_article_reached_twice_is_indexed_once(
    blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    sources: list[Path | str] = [
        ARTICLE,
        f"{blog.base_url}/{GLUTE}?utm_source=newsletter&utm_medium=email",  # redirected to /GLUTE/
        blog.post_url(GLUTE),
        blog.url("/feed/"),  # its links carry ?utm_source=rss
    ]
    report = run_ingest(settings, sources, embedder=embedder)
    assert report.skipped == []
    index = held(settings)
    assert set(index) == {GLUTE, PIRIFORMIS, FASCIA}
    assert report.chunks == sum(len(c) for c in index.values())
    assert len({m["position"] for m in index[GLUTE]}) == len(index[GLUTE])  # no copy
    assert {m["source"] for m in index[GLUTE]} == {str(ARTICLE)}  # the first one wins


def test_run_saved_html_page_and_scraped_text_file(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    blog = FakeBlog(base_url="https://blog.example")
    (folder / "page.html").write_text(blog.page(blog.posts[PIRIFORMIS]))
    report = run_ingest(settings, [folder], embedder=embedder)
    assert (report.articles, report.skipped) == (1, [])
    meta = held(settings)[PIRIFORMIS][0]
    assert meta["url"] == f"https://blog.example/{PIRIFORMIS}/"
    assert meta["title"] == "Piriformis Syndrome: Three Stretches"


def test_run_pages_off_the_blogs_host_only_when_asked(
    blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    port = blog.base_url.rsplit(":", 1)[1]
    offsite = f"http://localhost:{port}/guest-post/"
    blog.extra_urls.append(offsite)
    blog.hidden["guest-post"] = Post(
        "guest-post", "A Guest on Hip Mobility", blog.posts[FASCIA].markdown, "2025-07-01", "x"
    )
    report = run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    assert [(s.source, s.reason) for s in report.skipped] == [
        (
            offsite,
            f"on another site (http://localhost:{port}) than the blog ({blog.base_url}); "
            "pass --follow-offsite to fetch it",
        )
    ]
    assert "/guest-post/" not in blog.requests
    asked = settings.model_copy(update={"follow_offsite": True})
    report = run_ingest(asked, [blog.url("/sitemap.xml")], embedder=embedder)
    assert report.skipped == [] and "guest-post" in held(settings)


def test_run_fetcher_keeps_a_polite_pace(blog: FakeBlog, settings: Settings) -> None:
    slow = settings.model_copy(update={"fetch_delay": 0.3})
    started = time.monotonic()
    with Fetcher(slow) as fetcher:
        for _ in range(3):
            fetcher.fetch(blog.url("/sitemap.xml"))
    assert time.monotonic() - started >= 0.6


def test_run_page_without_a_date_is_asked_if_it_changed(
    blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    """A page given alone, or listed without a lastmod, is fetched again with the ETag the
    index holds: unchanged, the server answers 304 and nothing is read or embedded."""
    page = blog.post_url(PIRIFORMIS)
    first = run_ingest(settings, [page], embedder=embedder)
    assert first.embedded > 0 and PIRIFORMIS in held(settings)
    assert all(str(m["modified"]).startswith("etag:") for m in held(settings)[PIRIFORMIS])

    again = run_ingest(settings, [page], embedder=embedder)
    assert (again.embedded, again.deleted, again.skipped) == (0, 0, [])
    assert blog.not_modified == [f"/{PIRIFORMIS}/"]
    assert PIRIFORMIS in held(settings)

    post = blog.posts[PIRIFORMIS]
    blog.posts[PIRIFORMIS] = replace(post, markdown=post.markdown + "\n\nBreathe out slowly.\n")
    edited = run_ingest(settings, [page], embedder=embedder)
    assert edited.embedded > 0 and blog.not_modified == [f"/{PIRIFORMIS}/"]  # fetched whole
    assert "Breathe out slowly." in documents(settings)


def test_run_sitemap_entry_without_lastmod_is_asked_if_it_changed(
    blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    blog.hidden["hip-hinge"] = replace(blog.posts[FASCIA], slug="hip-hinge", title="Hip Hinge")
    blog.extra_urls.append(blog.post_url("hip-hinge"))  # listed with no <lastmod>
    run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    blog.requests.clear()
    again = run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    assert again.embedded == 0 and "hip-hinge" in held(settings)
    assert blog.not_modified == ["/hip-hinge/"]
    assert blog.requests == ["/robots.txt", "/sitemap.xml", "/hip-hinge/"]


def test_run_robots_txt_disallow_is_obeyed_unless_ignored(
    blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    blog.robots = f"User-agent: *\nDisallow: /{PIRIFORMIS}/\n"
    report = run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    assert [(s.source, s.reason) for s in report.skipped] == [
        (
            blog.post_url(PIRIFORMIS),
            f"disallowed by {blog.url('/robots.txt')}; pass --ignore-robots if this is your "
            "own blog",
        )
    ]
    assert PIRIFORMIS not in held(settings) and GLUTE in held(settings)
    assert f"/{PIRIFORMIS}/" not in blog.requests
    assert blog.requests.count("/robots.txt") == 1  # read once per run

    own = settings.model_copy(update={"respect_robots": False})
    run_ingest(own, [blog.url("/sitemap.xml")], embedder=embedder)
    assert PIRIFORMIS in held(settings)


def test_run_robots_txt_that_cannot_be_read_fetches_nothing_and_loses_nothing(
    blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    before = held(settings)
    blog.robots, blog.robots_status = "down for maintenance", 503
    report = run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    assert len(report.skipped) == 1
    assert report.skipped[0].reason.startswith(
        f"{blog.url('/robots.txt')} could not be read (HTTP 503"
    )
    assert held(settings) == before  # RFC 9309: a server error means fetch nothing


def test_run_robots_crawl_delay_slows_the_pace(blog: FakeBlog, settings: Settings) -> None:
    blog.robots = "User-agent: *\nCrawl-delay: 1\n"  # whole seconds (urllib.robotparser)
    started = time.monotonic()
    with Fetcher(settings) as fetcher:  # our own delay is 0 here
        for _ in range(3):
            fetcher.fetch(blog.url("/sitemap.xml"))
    assert time.monotonic() - started >= 2.0


BAD_URLS = [
    ("/missing/", "HTTP 404 Not Found"),
    ("/tag/glutes/", "no article text on the page"),
    ("/bad-sitemap.xml", "malformed sitemap (expected '>', line 1, column 53)"),
    ("/bad-feed/", "malformed feed (mismatched tag, line 2)"),
    ("/photo.png", "binary content (image/png), not a web page"),
    ("/huge", "response is 50 MB, over the 5 MB limit"),
    ("/huge-streamed", "response is over the 5 MB limit"),
    ("/slow/", "no answer within 2 s"),
]


@pytest.fixture
def small_article(tmp_path: Path) -> Path:
    """A one-passage article: something already indexed that a bad source must not cost."""
    path = tmp_path / "hip-hinge.md"
    path.write_text("# The Hip Hinge\n\nBend at the hips, not the waist, to spare the low back.\n")
    return path


@pytest.mark.parametrize(("path", "reason"), BAD_URLS)
def test_run_bad_url_is_skipped_and_nothing_is_lost(
    path: str,
    reason: str,
    blog: FakeBlog,
    settings: Settings,
    embedder: Embedder,
    small_article: Path,
) -> None:
    run_ingest(settings, [small_article], embedder=embedder)
    report = run_ingest(settings, [blog.url(path), small_article], embedder=embedder)
    assert [(s.source, s.reason) for s in report.skipped] == [(blog.url(path), reason)]
    assert (report.articles, report.chunks, report.embedded, report.deleted) == (1, 1, 0, 0)


def test_run_unreachable_url_is_skipped(
    settings: Settings, embedder: Embedder, small_article: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}/sitemap.xml"
    report = run_ingest(settings, [url, small_article], embedder=embedder)
    assert [(s.source, s.reason) for s in report.skipped] == [
        (url, "cannot connect (connection refused)")
    ]
    assert report.articles == 1


@pytest.mark.parametrize("listing", LISTINGS)
def test_run_broken_listing_keeps_what_it_indexed(
    listing: str, blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    first = run_ingest(settings, [blog.url(listing)], embedder=embedder)
    blog.listings_broken = True
    report = run_ingest(settings, [blog.url(listing)], embedder=embedder)
    assert [s.reason for s in report.skipped] == ["HTTP 500 Internal Server Error"]
    assert (report.chunks, report.deleted) == (first.chunks, 0)


def test_run_page_that_now_fails_keeps_its_article(
    blog: FakeBlog, settings: Settings, embedder: Embedder
) -> None:
    run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    blog.posts.pop(FASCIA)
    blog.extra_urls.append(blog.post_url(FASCIA))  # still listed, but its page is gone (404)
    report = run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    assert [s.reason for s in report.skipped] == ["HTTP 404 Not Found"]
    assert report.deleted == 0 and FASCIA in held(settings)


def test_run_bad_files_are_skipped_and_nothing_is_lost(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "glute.md").write_text(ARTICLE.read_text())
    first = run_ingest(settings, [folder], embedder=embedder)
    (folder / "glute.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00" + bytes(range(256)))
    with (folder / "huge.md").open("wb") as huge:
        huge.truncate(50_000_000)  # a sparse 50 MB file
    report = run_ingest(settings, [folder], embedder=embedder)
    assert sorted((Path(s.source).name, s.reason) for s in report.skipped) == [
        ("glute.md", "binary file, not an article"),
        ("huge.md", "file is 50 MB, over the 5 MB limit"),
    ]
    assert (report.articles, report.chunks, report.deleted) == (1, first.chunks, 0)
    assert load_file(ARTICLE).slug in held(settings)


@pytest.mark.slow
def test_cli_json_lists_skipped_sources_and_says_one_line_each(
    blog: FakeBlog, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "SUPPLE_DATA_DIR": str(tmp_path / "data"),
        "SUPPLE_FETCH_DELAY": "0",
        "SUPPLE_ALLOW_PRIVATE": "true",
    }
    command = [
        sys.executable,
        "-m",
        "ingest",
        blog.url("/sitemap.xml"),
        blog.url("/missing/"),
        "--json",
    ]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert list(out) == ["articles", "chunks", "embedded", "deleted", "skipped", "seconds"]
    assert (out["articles"], out["deleted"]) == (3, 0)
    assert out["skipped"] == [{"source": blog.url("/missing/"), "reason": "HTTP 404 Not Found"}]
    assert done.stderr.strip().splitlines() == [
        f"skipped {blog.url('/missing/')}: HTTP 404 Not Found"
    ]

    bad = subprocess.run(
        [sys.executable, "-m", "ingest", "http://"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert (bad.returncode, bad.stderr.strip()) == (2, "error: http://: not a valid URL")
